// Package report presents a trained profile to people: the ICP document
// in Markdown and as one self-contained HTML page with inline SVG charts,
// the comparison with a previous model, the trainer's console summary and
// the ICP document as data (what GET /v1/icp answers).
//
// WriteMarkdown and WriteHTML open on a one-page summary, built from the
// same document GET /v1/icp answers (Document): a card per segment (its
// rule in plain words, win rate with its 95% interval, share of wins,
// median LTV, the change since the previous model), the anti-ICP one line
// each, the tiers with their values and what changed. The detail follows:
// segments with their rules, plain-words summaries and evidence, the
// anti-ICP, tiers and their backtest, data and label definitions,
// validation and a model card; Compare adds what changed since a previous
// model.
package report
