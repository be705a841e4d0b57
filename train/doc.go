// Package train learns an Ideal Customer Profile from a table of accounts
// and its schema (package features), and returns it as a profile.Profile.
//
// # Training
//
// Train labels closed deals from the outcome columns (won, ideal or
// retained; open deals are scored but never trained on), validates on the
// newest closed deals (or, without close dates, on a seeded random draw
// within each outcome), refits on all of them, finds segments and the
// anti-ICP, and sets tier thresholds.
//
// # Calibration and checks
//
// Every model is calibrated on its own out-of-fold margins: folds of its
// training rows in split order, each scored by a model fitted without it
// with the same number of trees, so that the served model's calibration
// describes the served model's margins. Before Train returns, every number
// of the profile is checked finite (an error names the step and the
// field), the served calibration is checked against the base rate, and
// the artifact is encoded, decoded and warmed up as serve loads it.
//
// # Segments, anti-ICP and tiers
//
// Segments are clusters of the positive accounts of the older deals,
// found by k-means++ on each column's contribution to their score, with k
// chosen among the clusterings that survive bootstrap resampling. Each is
// described by a profile.Rule learned by a shallow surrogate tree on raw
// column values ("industry in {FinTech, SaaS} and 50 <= employees <= 500")
// and kept only when the accounts its rule matches turn positive clearly
// more often than the base rate on the holdout; otherwise the profile says
// that the data support no reliable segment. The anti-ICP is a set of
// rules, learned the same way, for accounts that lose, churn or stay
// small. Tier thresholds come from shares of the score distribution,
// multiples of the base rate or sales capacity (TierConfig), and the
// backtest replays the holdout per tier and segment.
package train
