// Package watch closes the loop between serving and learning: it feeds the
// drift monitor from scored accounts and recorded outcomes, evaluates it on
// a schedule, persists the reports, raises deduplicated alerts and delivers
// them to a webhook.
//
// It imports only package icp and package drift. What it needs from the
// store and from the trained model it declares as small interfaces (Store,
// Model, Outbox), and cmd/serve adapts *store.Store and *profile.Profile to
// them, so the package can be read and tested without either.
//
// # Data flow
//
//   - Scored accounts arrive through ObserveScore, which never blocks: the
//     account is put on a bounded queue, or dropped and counted when the
//     queue is full, so scoring latency never waits on the store. Run drains
//     the queue, keeps a sample (Config.SampleRate, at most
//     Config.MaxSamplesPerInterval per interval) for the drift monitor and
//     the scored-account log, and writes the log in batches.
//   - Outcomes arrive through ObserveOutcomes after the store acknowledged
//     them. Every account with fields is re-scored with the current model:
//     its tier feeds the tier KPIs (deals and win rate per tier) and, for a
//     win, drift.Monitor.ObserveWinner (ICP drift); winners' accounts are
//     also kept for the emerging-segment search.
//   - Every Config.Interval, Evaluate runs the monitor, searches for
//     emerging segments, saves the report and raises one alert candidate
//     per drifted statistic through the store, which deduplicates by group
//     key (cooldown, repeat interval) and enqueues a webhook payload in the
//     same transaction.
//   - A Deliverer drains the webhook outbox: it POSTs each payload with
//     X-ICP-Signature: sha256=<hex HMAC-SHA256 of the body> and
//     X-ICP-Alert-Id, marks it delivered on a 2xx answer and otherwise
//     retries with exponential backoff (1 s doubling to 10 min, with jitter
//     from a seeded generator). Delivery is at least once; the stable alert
//     id lets receivers deduplicate.
//
// # Emerging segments
//
// Ordinary winners also fall outside the ICP, and they cluster too. An
// emerging segment is therefore alerted on (group key
// "emerging_segment:<trait keys>") only while the ICP drift test finds
// more winners outside the ICP than the holdout had; otherwise the
// segments are listed in the report as candidates. Below
// Config.MinEmergingWinners winners the report says insufficient_data.
//
// Every goroutine stops when the context given to Run is cancelled.
package watch
