// Package features decides what each column of a CRM export means (the
// Schema) and turns accounts into rows of numbers (the Encoder).
//
// # Schema
//
// Infer classifies every column as an id, a numeric, categorical, boolean,
// date or tag-list feature, an outcome, or a column to leave out (excluded,
// or leakage: known only after the outcome). It decides by name first and by
// content second, and records its reason for each column. An Override read
// from a JSON file changes any role.
//
// # Encoder
//
// Fit learns, on training rows only, how to encode each feature column:
// numbers are imputed with the median plus a missing indicator,
// log-transformed when skewed, and standardized; categories are one-hot
// encoded with rare levels grouped into "other", which also takes levels
// never seen in training; tag lists are multi-hot encoded. The fitted
// Encoder is saved in the model artifact and serving uses it unchanged:
// Schema.Table parses JSON accounts with the same parsers the CSV reader
// uses, and Encoder.Transform encodes tables from either source.
package features
