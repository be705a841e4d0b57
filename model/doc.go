// Package model holds the learners of the ICP engine on plain matrices:
// logistic regression, k-means, decision trees, gradient-boosted trees,
// calibration, metrics and exact attributions. It imports nothing from this
// module, only gonum, so it is as reusable as gonum/stat.
package model
