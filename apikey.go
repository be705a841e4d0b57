package icp

import (
	"errors"
	"slices"
	"time"
)

// ErrUnauthenticated marks a request whose credentials are missing,
// malformed, unknown or revoked.
var ErrUnauthenticated = errors.New("unauthenticated")

// Scope is a permission granted to an API key. Scopes are independent: no
// scope implies another.
type Scope string

// The scopes.
const (
	// ScopeScore allows scoring accounts.
	ScopeScore Scope = "score"
	// ScopeOutcomes allows recording deal outcomes.
	ScopeOutcomes Scope = "outcomes"
	// ScopeRead allows reading the profile, drift reports, alerts and the
	// dashboard (viewing it, without reviewing alerts there).
	ScopeRead Scope = "read"
	// ScopeAdmin allows changing state that is not scoring data: alert
	// reviews and the administration routes.
	ScopeAdmin Scope = "admin"
	// ScopeDashboard allows signing in to the dashboard, viewing it and
	// acknowledging or resolving alerts there: the key to give leadership.
	// It reaches nothing under /v1.
	ScopeDashboard Scope = "dashboard"
)

// Scopes lists every scope in a fixed order.
func Scopes() []Scope {
	return []Scope{ScopeScore, ScopeOutcomes, ScopeRead, ScopeAdmin, ScopeDashboard}
}

// Valid reports whether s is one of the scopes of Scopes.
func (s Scope) Valid() bool { return slices.Contains(Scopes(), s) }

// APIKey is the stored record of an API key. The key itself is never
// stored: only its visible prefix, which finds the record, and the SHA-256
// of the whole key, which proves it.
type APIKey struct {
	ID string `json:"id"`
	// Prefix is the visible part of the key that identifies it in lookups
	// and listings.
	Prefix string `json:"prefix"`
	// Hash is the hex SHA-256 of the whole key.
	Hash   string  `json:"-"`
	Name   string  `json:"name"`
	Scopes []Scope `json:"scopes"`
	// CreatedAt is when the key was stored.
	CreatedAt time.Time `json:"created_at"`
	// RevokedAt is when the key was revoked, zero while it is active.
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	// LastUsedAt is when the key was last seen, zero if never; it is
	// refreshed at most about once a minute.
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// Revoked reports whether the key has been revoked.
func (k APIKey) Revoked() bool { return !k.RevokedAt.IsZero() }

// Principal is the authenticated caller of a request.
type Principal struct {
	// KeyID is the id of the API key used; it is what access logs record.
	KeyID  string
	Name   string
	Scopes []Scope
}

// Has reports whether p holds scope s.
func (p Principal) Has(s Scope) bool { return slices.Contains(p.Scopes, s) }
