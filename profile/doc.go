// Package profile is the served Ideal Customer Profile: the artifact that
// training writes and serving reads, and the scoring of accounts with it.
//
// # Artifact
//
// Profile.Encode writes the profile as a versioned JSON artifact with a
// SHA-256 checksum; Decode verifies the format version, the checksum and
// that the parts fit together before anything is scored. The same data and
// seed give the same bytes. The profile holds the schema and fitted
// encoder (package features), the model and its calibration, the segments
// and anti-ICP rules (Rule), the tier thresholds, the backtest and the
// drift reference; package train makes it and package report presents it.
//
// # Scoring
//
// Profile.Score turns one account's raw JSON fields into a fit score, a
// percentile, a tier, the segment and anti-ICP rule it matches and exact
// attributions: on the log-odds scale, the base value plus the
// contributions of the original columns equals the model's margin. An
// account is placed in the first segment whose rule it matches.
package profile
