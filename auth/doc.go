// Package auth makes API keys and verifies them.
//
// A key looks like
//
//	icp_AbCd1234_0123456789abcdefghijABCDEFGHIJ01
//
// "icp_", an 8-character visible prefix and 32 secret characters, all from
// [A-Za-z0-9] and drawn from crypto/rand (about 190 bits of secret). The key
// is shown once, when it is made. What is stored (package store) is the
// prefix, which finds the record, and the SHA-256 of the whole key, which is
// compared in constant time (crypto/subtle) with the digest of the key a
// client presents.
//
// A [Verifier] reads records through the small [KeyStore] interface, which
// *store.Store satisfies, and caches the keys it has verified for a short
// time (CacheTTL), so that a busy key costs one SHA-256 per request rather
// than a database query: a revocation therefore takes effect within
// CacheTTL. It records when each key was last used, at most once per
// TouchInterval.
//
// The package sits beside store and server in the dependency policy: it
// imports only the icp vocabulary. server declares the interface it consumes
// (server.KeyVerifier) and cmd/serve wires a *Verifier into it; cmd/icpctl
// uses Generate to make keys.
package auth
