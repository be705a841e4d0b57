// Package icp is the vocabulary of the ICP discovery engine: the accounts it
// scores, the answers it gives, the outcomes it learns from and the alerts it
// raises, and the records that the store, the drift watcher and the HTTP
// server share (outcome write results, stored drift reports and the
// watcher's report, webhook deliveries, model versions, API keys). It
// imports only the standard library so that every other package of the
// module can speak it.
//
// # The flow
//
//	CRM export (CSV)
//	     │  datasets: read, sniff the dialect, typed columns, row-numbered errors
//	     ▼
//	datasets.Table ──► features.Schema (column roles, inferred, overridable)
//	     │
//	     ▼
//	train.Train ──► labels from outcomes ──► features.Encoder.Fit
//	     │      ──► model, model/gbm: logistic regression and boosted trees,
//	     │          calibration, exact attributions (linear, TreeSHAP); k-means
//	     │      ──► segments and anti-ICP as readable rules (traits say what
//	     │          sets them apart), tiers, backtest, drift reference
//	     ▼
//	profile.Profile ──► artifact (versioned, checksummed JSON)
//	     │          ──► report: Markdown/HTML document, charts, comparison
//	     ▼  cmd/serve loads it (registry: versions, hot swap)
//	server (gin) ── POST /v1/score, /v1/score/batch ──► profile scoring core
//	     │       ── POST /v1/outcomes ──► store ──► watch ──► drift, emerging
//	     ▼                                            ──► alerts, webhooks, dashboard
//	store: SQLite or PostgreSQL: outcomes, score log, drift reports, alerts,
//	       webhook outbox, API keys, model registry
//
// # Packages, each with one job
//
// A package imports only from the rows above its own (cmd/* may import
// anything); deps_test.go states and checks the rule.
//
//	icp              the vocabulary and shared records          standard library only
//	model            learners on plain matrices                 (gonum)
//	model/gbm        boosted trees and TreeSHAP                 model
//	datasets         CSV into typed tables                      icp
//	features         schema and the fitted encoder              icp, datasets
//	drift            reference distributions, drift tests       icp
//	auth             API keys                                   icp
//	profile          the artifact and scoring                   icp, datasets, features, model, model/gbm, drift
//	traits           what sets a group of accounts apart        icp, datasets, features, drift, profile
//	train            training, as steps over one trainRun       the rows above, traits
//	report           the ICP document, charts, comparison       icp, datasets, profile
//	emerging         serve-time emerging segments               icp, datasets, drift, model, profile, traits
//	registry         versions, aliases, hot swap                icp, profile
//	store            SQLite or PostgreSQL persistence           icp
//	watch            drift watcher, alerts, webhooks            icp, drift, model
//	server/dashboard the dashboard's pages, templates embedded  icp
//	server           the HTTP API (declares what it consumes)   icp, server/dashboard
//	cmd/*            flags, files, signals, wiring              anything
//
// Following a score request: server decodes it and calls the Scorer that
// cmd/serve wired, a registry.Live holding a *profile.Profile, whose one
// scoring core parses, encodes and scores the account. Following a training
// table: cmd/train reads it with datasets, infers a features.Schema, and
// train.Train turns it into a profile.Profile, which report presents and
// profile writes as the artifact.
package icp
