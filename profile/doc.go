// Package profile trains and applies an Ideal Customer Profile.
//
// # Training
//
// Train takes a table and its schema (package features). It labels closed
// deals from the outcome columns (won, ideal or retained; open deals are
// scored but never trained on), validates on the newest closed deals, refits
// on all of them, finds segments and the anti-ICP, and sets tier thresholds.
// The result is a Profile.
//
// # Segments, anti-ICP and tiers
//
// Segments are clusters of the positive accounts of the older deals,
// found by k-means++ on each column's contribution to their score, with k
// chosen among the clusterings that survive bootstrap resampling. Each is
// described by a Rule learned by a shallow surrogate tree on raw column
// values ("industry in {FinTech, SaaS} and 50 <= employees <= 500") and
// kept only when the accounts its rule matches turn positive clearly more
// often than the base rate on the holdout; otherwise the profile says that
// the data support no reliable segment. Scoring places an account in the
// first segment whose rule it matches. The anti-ICP is a set of rules,
// learned the same way, for accounts that lose, churn or stay small. Tier
// thresholds come from shares of the score distribution, multiples of the
// base rate or sales capacity (TierConfig), and the Backtest replays the
// holdout per tier and segment.
//
// # Report
//
// WriteReport and WriteHTMLReport write the ICP document: segments with
// their rules, plain-words summaries and evidence, the anti-ICP, tiers and
// their backtest, data and label definitions, validation and a model card;
// the HTML page carries inline SVG charts. Compare adds what changed since
// a previous model.
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
// percentile, a tier, the segment and anti-ICP rule it matches and exact
// attributions: on the log-odds scale, the base value plus the
// contributions of the original columns equals the model's margin.
package profile
