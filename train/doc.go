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
// Segments are found by rule discovery on the outcomes of the older deals
// (segments.go, subgroup.go): a beam search over rules in the language of
// profile.Rule — sets of levels, two-sided ranges with cut points learned
// from the data, tag lists that have any, all or none of a set of tags,
// "(or missing)" only where missing values behave like matching ones —
// with a quality that trades lift against coverage and a significance
// test for every condition, then sequential covering for the next
// segment, for won deals and then for the label. Each rule must hold up
// on the holdout (the newest deals), which also prunes the conditions
// that change nothing there; the segments say how sure the holdout makes
// them, and otherwise the profile says that the data support no reliable
// segment. With the previous model's segments (SegmentConfig.Previous) a
// segment holding mostly the same accounts keeps its ID and name. The
// anti-ICP is the same search turned around, for accounts that lose or
// churn. Tier thresholds come from shares of the score distribution,
// multiples of the base rate or sales capacity (TierConfig), and the
// backtest replays the holdout per tier and segment.
package train
