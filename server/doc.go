// Package server is the HTTP API of the ICP discovery engine, built on gin.
//
// It serves two scoring endpoints and the probes an orchestrator needs:
//
//	POST /v1/score      one account as a JSON object; answers an icp.Score
//	POST /v1/score/batch  a JSON array of accounts (all or nothing), or an
//	                    NDJSON or CSV stream answered record by record
//	                    (batch.go, batch_stream.go)
//	GET  /healthz       liveness: 200 {"status":"ok"} while the process serves
//	GET  /livez         alias of /healthz
//	GET  /readyz        readiness: 200 when Config.Ready passes and the server
//	                    is not draining, 503 with a reason otherwise
//	                    (the three probes answer HEAD as GET, without a body)
//	GET  /metrics       Prometheus metrics (see [Metrics])
//	GET  /openapi.json  the OpenAPI 3 description of the routes
//
// and, wired through Config.Ops (ops.go, dashboard.go), the outcome, drift
// and alert routes:
//
//	POST /v1/outcomes                 one outcome, an array, or {"outcomes": [...]};
//	                                  201 {"stored": n, "replayed": false}; with an
//	                                  Idempotency-Key a retry answers 200 with
//	                                  "replayed": true, another body under the key 409;
//	                                  each account is checked as POST /v1/score
//	                                  checks one (see [AccountChecker])
//	GET  /v1/drift                    the latest drift report (404 before the first)
//	GET  /v1/alerts?status=&limit=    {"alerts": [...]}, most recently seen first
//	POST /v1/alerts/{id}/acknowledge  optional body {"by": "name"}
//	POST /v1/alerts/{id}/resolve      optional body {"by": "name"}
//	GET  /dashboard                   server-rendered HTML for leadership
//	GET  /dashboard/login             the dashboard's sign-in page
//	POST /dashboard/login             {"key": "icp_..."}: sign a browser in (session cookie)
//	POST /dashboard/logout            end the browser's session
//	POST /dashboard/alerts/{id}/acknowledge, /resolve
//	                                  the dashboard's review buttons
//
// and, through Config.Models (models.go), the model registry's admin routes:
//
//	GET    /v1/admin/models           the versions with their aliases, and what
//	                                  this replica serves
//	POST   /v1/admin/models           register an artifact (201, or 200 when known)
//	GET    /v1/admin/models/history   the append-only history, newest first
//	POST   /v1/admin/models/promote   {"model": ref, "reason": ...}
//	POST   /v1/admin/models/rollback  {"reason": ...}, optional
//	POST   /v1/admin/models/shadow    {"model": ref, "reason": ...}
//	DELETE /v1/admin/models/shadow    remove the challenger
//
// Each of these depends on an optional interface ([OutcomeRecorder],
// [DriftSource], [AlertService]); a server started without one answers its
// routes 503 "unavailable" (icp.ErrUnavailable, "no store configured" in the
// log) rather than 404, so that clients see one API on every server. A 2xx
// answer to POST /v1/outcomes means the OutcomeRecorder has durably stored
// the batch.
//
// Package dashboard renders the dashboard from embedded templates: one
// self-contained page whose small inline script posts JSON (so the API's
// Content-Type rule needs no exception for form posts), under a
// Content-Security-Policy that forbids loading anything from elsewhere and
// runs only the page's own script, by its nonce.
//
// The package imports the icp vocabulary and, from outside the module, gin,
// the Prometheus client, golang.org/x/time/rate and jsontext (the streaming
// layer of the Go team's encoding/json v2, github.com/go-json-experiment/json),
// which reads JSON arrays of accounts and finds repeated keys. It declares
// the dependencies it consumes, [Scorer] with its optional extensions
// ([BatchScorer], [ModelVersioner], [AccountChecker]), [KeyVerifier] and the
// interfaces of ops.go, and cmd/serve wires the implementations (a
// *registry.Live serving the profile, an *auth.Verifier, the store and the
// drift watcher), which speak the records of package icp.
//
// # Authentication
//
// Requests present an API key as "Authorization: Bearer <key>"; a key in
// the query string is refused (401) on every route. Each route needs a
// scope, and scopes are independent:
//
//	GET /healthz /livez /readyz /metrics /openapi.json  none (public)
//	/dashboard/login, /dashboard/logout                 none (they check keys and sessions)
//	GET /dashboard                                      read or dashboard
//	POST /dashboard/alerts/...                          dashboard or admin
//	POST /v1/score, POST /v1/score/batch                score
//	POST /v1/outcomes                                   outcomes
//	other GET and HEAD routes (drift, alerts, profile)  read
//	/v1/admin/..., alert acknowledge and resolve, any other write  admin
//
// No or a malformed, unknown or revoked key gives 401 with a
// WWW-Authenticate: Bearer challenge; a valid key without the scope gives
// 403. The access log records the key's id, never the key. Without
// Config.Keys the server refuses to be built unless
// Config.AllowUnauthenticated says so, and then it logs a warning.
//
// Browsers sign in to the dashboard instead (session.go): POST
// /dashboard/login takes a key with the dashboard or read scope and sets a
// session cookie (HttpOnly, SameSite=Strict, Path=/dashboard, Secure over
// TLS or behind a proxy trusted by Config.Sessions, expiring after
// Config.Sessions.TTL), which stands for the key on the /dashboard routes
// only. The session's key is verified on each request, so revoking it ends
// the session within the key cache's TTL; each POST must carry the
// session's CSRF token in X-CSRF-Token; sign-out forgets the session. A
// browser asking for the dashboard without a valid session (GET, Accept:
// text/html) is redirected to the sign-in page; an API client still gets
// 401.
//
// # Overload
//
// Each request runs under a deadline (Config.RequestTimeout, 2 s by
// default): a scorer that overruns it is answered 503 {"error":"timeout"}
// on time, whether or not it honours its context. At most
// Config.MaxInFlight requests (256) are handled at once, the probes,
// /metrics and /openapi.json excepted; more get 503 with Retry-After.
// Each API key has a token bucket (Config.RateLimit, Config.RateBurst);
// a request over it gets 429 with Retry-After. The body cap counts the whole
// body, trailing bytes included.
//
// A stream (NDJSON or CSV to the batch route) holds its in-flight slot for
// as long as it lasts, so streams share fairly: each key (each client
// address without keys) may have Config.MaxStreamsPerKey open (8), more get
// 429 with Retry-After; a stream's client must send at Config.StreamMinRate
// (1 KiB/s) on average over the time the server waits for it, after
// Config.StreamRateGrace (10 s), or the stream ends (408, or an end line
// once the answer has begun); each chunk of the answer must be taken within
// 30 s. A model upload (POST /v1/admin/models) runs under
// Config.UploadTimeout, sized to Config.MaxArtifactBytes, at the same
// minimum rate, one at a time.
//
// # Requests
//
// The request body is untrusted input. It must be at most Config.MaxBodyBytes
// long (413 otherwise), sent as application/json (415 otherwise), valid UTF-8,
// and hold exactly one JSON object whose values are null, strings, numbers,
// booleans or arrays of strings (a tag list). Duplicate keys, nested values,
// numbers that overflow float64, over-long keys and strings over 8 KiB are
// reported as field errors; the scorer then checks the fields against the
// model's schema, and the answer names every bad field at once. A repeated
// key is refused on every route that takes JSON, not only in accounts.
//
// A field the model does not know is a field error on POST /v1/score and in
// JSON arrays, unless the request asks ?unknown=ignore; NDJSON and CSV
// streams ignore such fields unless asked ?unknown=reject. Ignored fields are
// named in the X-ICP-Ignored-Fields header ([IgnoredFieldsHeader]); an NDJSON
// stream repeats them all in a trailer of that name at its end. Whether a
// field is known is asked of the scorer, once per name and request, with an
// account holding the name with a null value (see unknownFields).
//
// Answers are encoded with encoding/json and encoding/csv.
//
// # Errors
//
// Handlers return errors and one function turns them into responses, always
// JSON with a request_id:
//
//	icp.ErrInvalid, *icp.ValidationError  400 {"error":"invalid input","fields":[...]}
//	malformed body                        400 {"error":"malformed request body","detail":...,"offset":N}
//	missing or bad API key                401 {"error":"unauthenticated"}, WWW-Authenticate
//	key without the route's scope         403 {"error":"forbidden"}
//	session POST without its CSRF token   403 {"error":"forbidden"}
//	icp.ErrNotFound, unknown path         404
//	known path, wrong method              405 (with an Allow header)
//	icp.ErrConflict                       409
//	body sent below the minimum rate      408 {"error":"request too slow"}, connection closed
//	body over the limit                   413
//	wrong Content-Type                    415
//	key over its rate                     429 {"error":"rate limited"}, Retry-After
//	key with its streams all open         429 {"error":"too many streams"}, Retry-After
//	another model upload under way        429 {"error":"busy"}, Retry-After
//	too many requests in flight           503 {"error":"overloaded"}, Retry-After
//	request deadline passed               503 {"error":"timeout"}, Retry-After
//	icp.ErrUnavailable (a store outage)   503 {"error":"unavailable"}, Retry-After
//	anything else                         500 {"error":"internal error"}, logged
//
// Internal errors and panics are logged with the request id and reach the
// client only as the generic 500 body.
//
// # Middleware
//
// Every request passes, in order, through: request id (an incoming
// X-Request-ID of 1-128 characters from [A-Za-z0-9._-] is kept, otherwise a
// random one is made; it is echoed in the response), panic recovery, the
// access log (one slog Info line per request, which also feeds the request
// metrics), the deadline, the in-flight bound, authentication, the per-key
// rate limit, the per-key bound on streams, the body size cap and, for POST,
// the Content-Type check. The batch route's streams get their own deadline
// (Config.StreamTimeout), a minimum body rate and
// body cap (Config.MaxStreamBytes), its JSON arrays Config.MaxBatchBytes,
// and it accepts NDJSON and CSV besides JSON.
//
// The package never calls gin.SetMode, which is process-global; a binary that
// wants gin's debug output silenced sets the mode itself.
package server
