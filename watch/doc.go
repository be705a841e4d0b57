// Package watch closes the loop between serving and learning: it feeds the
// drift monitor from scored accounts and recorded outcomes, evaluates it on
// a schedule, persists the reports, raises deduplicated alerts written for
// the people who act on them, resolves them when their condition clears,
// and delivers them to a webhook (signed JSON, Slack or Microsoft Teams).
//
// The architecture's flow runs outcomes from the store into the drift
// monitor and on to alerts and webhooks; that loop needs the store, the
// model and the monitor at once, which neither drift (statistics only) nor
// server (HTTP only) may import, so it has this package of its own.
//
// It imports package icp, package drift and package model (for ROC AUC).
// What it needs from the store and from the trained model it declares as
// small interfaces (Store, Model, Outbox) over the records of package icp:
// *store.Store is the Outbox as it is, and the Store through a thin wrapper
// that gives RaiseAlert its alert policy and hands the watcher's payload
// function to RaiseAlert and ResolveQuietAlert; cmd/serve adapts the served
// profile to Model, so the package can be read and tested without either.
// Its report (icp.WatchReport) is the body of the stored drift report that
// the server's dashboard reads.
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
//     emerging segments, grades every watched quantity into an
//     icp.WatchSignal, saves the report and raises one alert per drifting
//     signal through the store, which deduplicates by group key (cooldown,
//     repeat interval) and enqueues a webhook payload in the same
//     transaction. It then resolves the alerts whose condition has been
//     clear for Config.ResolveAfter.
//   - A Deliverer drains the webhook outbox: it POSTs each payload in its
//     Format, marks it delivered on a 2xx answer and otherwise retries with
//     exponential backoff (1 s doubling to 10 min, with jitter from a
//     seeded generator). The generic format carries X-ICP-Signature:
//     sha256=<hex HMAC-SHA256 of the body> and X-ICP-Alert-Id; Slack and
//     Teams messages (see Render) carry neither, their URL being the
//     secret. Delivery is at least once; the stable alert id lets receivers
//     deduplicate.
//
// # Alerts for leadership
//
// An alert speaks to a VP of sales, not to a statistician. Its Title says
// what changed ("Industry: more Logistics accounts", "More wins are coming
// from outside the ICP"); its Summary says how much, with a 95% interval
// (Wilson's for shares, order statistics for medians), against what the
// model was trained or validated on, over which accounts or deals and
// when; its Action says what to do: check a data feed when values go
// missing or arrive unseen, ask marketing about targeting when the
// accounts shift, review the ICP and retrain when the wins move. Measure
// holds the headline figure for charts, Trend the alert's statistic over
// the last Config.TrendPoints evaluations (PSI for distributions, a share
// of won deals otherwise), and Details the statistics themselves: tests,
// p-values, PSI, raw keys and account ids. Names are readable: a column
// "annual_revenue_usd" reads "Annual revenue (USD)".
//
// A categorical feature is described by the level whose share moved most,
// the missing values or the values the model never saw; a numeric one by
// its median and middle half, or by its missing share when more accounts
// arrive without it (a data-feed test of its own: the drift tests compare
// the values present).
//
// # One severity
//
// grade is the only place a severity is decided, and the report's Signals
// carry it to the dashboard and to icp_drift_status in /metrics: info in
// the watch zone, warning when the test rules out noise, critical when the
// shift is also large (PSI above 0.25, twenty more points of missing
// values, ten more points of wins outside the ICP, a new segment with a
// fifth of the wins). A p-value alone never makes an alert critical, and
// an open alert always shows the severity of its latest observation.
//
// # Auto-resolve
//
// An open or acknowledged alert resolves itself, with a "resolved" webhook
// event, when its condition has been found clear at every evaluation for
// Config.ResolveAfter (an hour by default). An evaluation that cannot
// judge (too little data, a new model) starts the wait again, and so does a
// raise by another replica, so an alert never resolves while some replica
// still sees its condition.
//
// # Emerging segments
//
// Ordinary winners also fall outside the ICP, and k-means finds clusters
// in any sample. An emerging segment is alerted on (group key
// "emerging_segment:<trait keys>") only when its region holds a larger
// share of the recent winners than of the earlier ones, the winners that
// left the monitor's winner window (Config.BaselineWinners, 1000): a
// binomial p-value, corrected for the clusters tried, below
// Config.EmergingAlpha (0.001). Other groups are listed in the report as
// candidates. Below Config.MinEmergingWinners recent or
// Config.MinBaselineWinners earlier winners the report says
// insufficient_data; cmd/serve replays the stored outcomes of the last
// months at startup so the baseline survives a restart.
//
// Two other gates were tried first. The ICP drift test of package drift
// (more winners in tier3 or non_fit than on the holdout) is powerless in
// the generator's simulation: the emerging winners mostly score tier2 and
// tier3, which moves the outside share from 41% to 43%. Comparing a
// cluster with the training population through the artifact's marginal
// distributions (a product of level shares) alerted on ordinary clusters,
// because the product overstates how rare a combination of correlated
// traits is.
//
// Every goroutine stops when the context given to Run is cancelled.
package watch
