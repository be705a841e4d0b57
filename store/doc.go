// Package store persists what the ICP engine learns and raises: recorded deal
// outcomes (with idempotent batch writes), a sampled log of scored accounts,
// drift reports, deduplicated drift alerts, a webhook outbox, API keys and
// the model registry.
//
// Two backends share one implementation over database/sql:
//
//   - SQLite (the default, embedded, pure Go through modernc.org/sqlite): a
//     file path, or ":memory:" for tests. The file runs in WAL mode with
//     synchronous=FULL, so a write that returned without error survives a
//     process kill or a power loss. Writes run in BEGIN IMMEDIATE
//     transactions on a single writer connection; readers use a small pool
//     of read-only connections. A busy timeout of five seconds lets several
//     processes share one file.
//   - PostgreSQL through pgx (a DSN starting with "postgres://" or
//     "postgresql://"), for several serve replicas sharing state. Sessions run
//     with synchronous_commit=on; schema migrations are serialised across
//     replicas with a transaction-scoped advisory lock.
//
// The schema is versioned: Open applies the pending migrations, each in its
// own transaction, and refuses a database whose schema is newer than the
// binary (ErrSchemaNewer).
//
// Alerts are deduplicated per group key (RaiseAlert); a notification that is
// due is enqueued in the webhook outbox in the same transaction by
// RaiseAlertWithDelivery, and a sender drains the outbox with DueDeliveries,
// MarkDelivered and MarkFailed (at-least-once; receivers deduplicate by alert
// id).
//
// The model registry (models.go) keeps every model version as its whole
// artifact under its checksum, the aliases that name the champion and the
// shadow, and an append-only history of changes and loads; triggers make
// the database refuse to update or delete a version or a history entry.
// SetModelAlias and RollbackModelAlias move an alias and record the move in
// one transaction. Validating an artifact is package registry's job.
//
// API keys (CreateAPIKey, ListAPIKeys, LookupAPIKey, RevokeAPIKey,
// TouchAPIKey) are stored as their visible prefix and the SHA-256 of the
// whole key, never the key itself; package auth makes keys and verifies
// them against these records.
//
// Times are stored in UTC with microsecond precision, the precision of
// PostgreSQL timestamps, so both backends return identical values.
package store
