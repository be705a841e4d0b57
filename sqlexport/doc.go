// Package sqlexport writes a trained profile as one SQL query that scores
// accounts inside a database: PostgreSQL and DuckDB, in an ANSI subset
// that carries to other warehouses with small changes.
//
// Query returns a SELECT over the raw columns of a table that holds the
// export's columns (numbers as double precision, everything else as text,
// a tag list as the export's delimited text); CreateTable gives that
// table's definition. The query returns, per row, the account id, the
// model version, the calibrated score, its percentile, the tier, the
// segment id and the anti-ICP rule id, computed as package profile
// computes them:
//
//   - the encoder of package features: text trimmed, missing-value
//     markers and placeholders read as missing, median imputation, the
//     log step, standardisation, category levels with rare and unseen
//     values as "other", tags compared by features.TagKey;
//   - the model: every boosted tree with its learned direction for missing
//     values, or the logistic regression;
//   - the calibration (none, Platt or isotonic), the percentile from the
//     stored quantiles, the tier thresholds, and the segment and anti-ICP
//     rules, the first matching rule winning.
//
// # Exactness
//
// The query agrees with the Go scorer exactly where a decision is taken,
// not just within a tolerance. Thresholds are translated in Go, with the
// encoder and calibration themselves, rather than recomputed in the
// database:
//
//   - a tree's split on an encoded number, "(log1p(v) - mean) / std <= t",
//     becomes "v <= v*" on the raw value, where v* is the largest float64
//     the encoder maps to t or below, found by bisection over the ordered
//     float64 values and checked at its neighbour;
//   - a tier threshold on the calibrated score becomes a threshold on the
//     margin, the smallest float64 margin whose calibrated score reaches
//     it;
//   - the boosted margin is the base plus each tree's leaf value in tree
//     order, as Go adds them;
//   - the logistic margin adds the products in the order of gonum's
//     floats.Dot on this build (detected once; four interleaved sums on
//     amd64, one running sum elsewhere), and the log step is Go's
//     math.Log1p written out in arithmetic (the database's ln may differ
//     from it in the last bit).
//
// So the margin of a boosted model is bit for bit Go's, and so are the
// tier, segment and anti-ICP of every account; the score differs from
// Go's by the last bits of exp at most.
//
// # Not covered
//
// A date column must hold ISO dates or UTC timestamps (Go reads more
// layouts); a boolean column the words true/false, yes/no, t/f, y/n or
// 1/0; a number column finite numbers (the loader parses "$1,200"). Text
// is compared after lower-casing by the database, which equals Go's
// Unicode case folding for ASCII text. Text that Go would decode from
// Windows-1252 must be loaded as UTF-8.
package sqlexport
