// Package profile trains and applies an Ideal Customer Profile.
//
// # Training
//
// Train takes a table and its schema (package features). It labels closed
// deals from the outcome columns (won, ideal or retained; open deals are
// scored but never trained on), validates on the newest closed deals, refits
// on all of them, clusters the positive accounts into segments, and sets
// tier thresholds from the score distribution. The result is a Profile.
//
// # Artifact
//
// Profile.Encode writes the profile as a versioned JSON artifact with a
// SHA-256 checksum; Decode verifies the format version, the checksum and
// that the parts fit together before anything is scored. The same data and
// seed give the same bytes.
//
// # Scoring
//
// Profile.Score turns one account's raw JSON fields into a fit score, a
// percentile, a tier, the nearest segment and exact attributions: on the
// log-odds scale, the base value plus the contributions of the original
// columns equals the model's margin.
package profile
