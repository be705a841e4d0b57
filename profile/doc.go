// Package profile is the served Ideal Customer Profile: the artifact that
// training writes and serving reads, and the scoring of accounts with it.
// Package train makes a Profile and package report presents one.
//
// # Artifact
//
// Profile.Encode writes the profile as a versioned JSON artifact with a
// SHA-256 checksum; Decode verifies the format version, the checksum and
// that the parts fit together before anything is scored. The same data and
// seed give the same bytes. The profile holds the schema and fitted
// encoder (package features), the model and its calibration, the segments
// and anti-ICP rules (Rule), the tier thresholds, the backtest and the
// drift reference. Decode also chooses the model's kind (logistic
// regression or boosted trees) once, behind a small interface, so that
// scoring never asks which kind it holds.
//
// # Scoring
//
// Profile.Score turns one account's raw JSON fields into a fit score, a
// percentile, a tier, the segment and anti-ICP rule it matches and exact
// attributions: on the log-odds scale, the base value plus the
// contributions of the original columns equals the model's margin. An
// account is placed in the first segment whose rule it matches.
//
// Score, ScoreBatch (many accounts parsed as one table, attributions
// optional) and ScoreTable (a table of accounts, as read from a CSV) are
// doors to one scoring core, which WarmUp, the training backtest and the
// search for emerging segments use too: the accounts are parsed against
// the schema as one table, then each row is placed, scored, explained and
// named (its id) in that one place.
package profile
