// Package report presents a trained profile to people: the ICP document
// in Markdown and as one self-contained HTML page with inline SVG charts,
// the comparison with a previous model, the trainer's console summary and
// the ICP document as data (what GET /v1/icp answers).
//
// WriteMarkdown and WriteHTML write segments with their rules, plain-words
// summaries and evidence, the anti-ICP, tiers and their backtest, data and
// label definitions, validation and a model card; Compare adds what
// changed since a previous model.
package report
