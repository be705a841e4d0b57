// Package gbm fits gradient-boosted trees on plain matrices and explains
// them exactly: histogram boosting (logloss or squared loss, best-first
// leaves, learned directions for missing values, early stopping on
// held-out rows) and path-dependent TreeSHAP, whose base value plus
// contributions equals the margin.
//
// A fitted Model is JSON-serializable; after decoding, Validate checks it
// and a compact form for prediction and TreeSHAP is built once, on first
// use. Fitting and batch prediction are seeded and give the same result on
// any number of threads. TreeSHAP also explains a decision tree of package
// model (TreeSHAP).
package gbm
