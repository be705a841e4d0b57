// Package features decides what each column of a CRM export means (the
// Schema) and turns accounts into rows of numbers (the Encoder).
//
// # Schema
//
// InferWith (Infer without an override file) classifies every column as an
// id, a numeric, categorical, boolean, date or tag-list feature, an
// outcome, or a column to leave out (excluded, or leakage: known only after
// the outcome). It decides by name and by content and records its reason
// for each column:
//
//   - roles by content: tag lists with their separator sniffed among ";",
//     "|" and "," (a composite value such as "Boston, MA" is no tag list),
//     free text, row numbers and sequential integers, identifiers that
//     repeat enough to be categories, and placeholder values ("Select",
//     "Unknown": Schema.Placeholders) read as missing;
//   - the outcome: stage names, statuses with terminal values and yes/no or
//     0/1 columns named like an outcome, with the meaning of each value
//     recorded in Outcomes.Values (labels read values through
//     Outcomes.ValueMeaning, the engine's one word list); churn flags and
//     churn dates; close date, sales cycle and lifetime value by name;
//   - the leakage guard: on the closed rows, each candidate feature is
//     measured against the outcome (its ROC AUC alone, out of fold; being
//     filled for one outcome; dates on or after the close date) and left out
//     with its evidence (Leakage) when it holds the outcome.
//
// An Override read from a JSON file changes any role, the outcome columns,
// the meaning of outcome values and the placeholder list; it always wins
// over inference and the guard.
//
// # Encoder
//
// Fit learns, on training rows only, how to encode each feature column:
// numbers are imputed with the median plus a missing indicator,
// log-transformed when skewed, and standardized; categories are one-hot
// encoded with rare levels grouped into "other", which also takes levels
// never seen in training; tag lists are multi-hot encoded, tags compared
// by TagKey (case and inner spaces ignored) and shown with their most
// common spelling; placeholders are missing. The fitted Encoder is saved in
// the model artifact and serving uses it unchanged: Schema.Table parses
// JSON accounts with the same parsers the CSV reader uses, and
// Encoder.Transform encodes tables from either source. Schema.Clean
// applies the same reading to a training table for its other readers.
package features
