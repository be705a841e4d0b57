package store

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/icpengine/icp"
)

// testHash is a well-formed SHA-256 hex digest.
const testHash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func testAPIKeys(t *testing.T, open func(t *testing.T) *Store) {
	ctx := t.Context()
	clock := newFakeClock(t0)
	s := withClock(open(t), clock)

	if keys, err := s.ListAPIKeys(ctx); err != nil || len(keys) != 0 {
		t.Fatalf("ListAPIKeys() on a new store = %v, %v, want none", keys, err)
	}
	a, err := s.CreateAPIKey(ctx, icp.APIKey{Prefix: "AbCd1234", Hash: testHash, Name: "crm-sync",
		Scopes: []icp.Scope{icp.ScopeOutcomes, icp.ScopeScore}})
	if err != nil {
		t.Fatalf("CreateAPIKey: %v", err)
	}
	if !strings.HasPrefix(a.ID, "key_") || !a.CreatedAt.Equal(t0) || a.Revoked() || !a.LastUsedAt.IsZero() {
		t.Errorf("CreateAPIKey() = %+v, want an id, CreatedAt %v, active, never used", a, t0)
	}
	// Scopes are stored in the order of icp.Scopes.
	if want := []icp.Scope{icp.ScopeScore, icp.ScopeOutcomes}; !slices.Equal(a.Scopes, want) {
		t.Errorf("CreateAPIKey().Scopes = %v, want %v", a.Scopes, want)
	}
	clock.Advance(time.Second)
	b, err := s.CreateAPIKey(ctx, icp.APIKey{Prefix: "Zz9Yy8Xx", Hash: testHash, Name: "dashboard", Scopes: []icp.Scope{icp.ScopeRead}})
	if err != nil {
		t.Fatalf("CreateAPIKey: %v", err)
	}
	if _, err := s.CreateAPIKey(ctx, icp.APIKey{Prefix: "AbCd1234", Hash: testHash, Name: "dup", Scopes: []icp.Scope{icp.ScopeRead}}); !errors.Is(err, icp.ErrConflict) {
		t.Errorf("CreateAPIKey(reused prefix) = %v, want ErrConflict", err)
	}

	got, err := s.LookupAPIKey(ctx, "AbCd1234")
	if err != nil || got.ID != a.ID || got.Hash != testHash || got.Name != "crm-sync" || !slices.Equal(got.Scopes, a.Scopes) {
		t.Errorf("LookupAPIKey(AbCd1234) = %+v, %v, want %+v", got, err, a)
	}
	if _, err := s.LookupAPIKey(ctx, "nope0000"); !errors.Is(err, icp.ErrNotFound) {
		t.Errorf("LookupAPIKey(unknown) = %v, want ErrNotFound", err)
	}
	// Prefixes are case-sensitive.
	if _, err := s.LookupAPIKey(ctx, "abcd1234"); !errors.Is(err, icp.ErrNotFound) {
		t.Errorf("LookupAPIKey(other case) = %v, want ErrNotFound", err)
	}

	used := t0.Add(time.Hour)
	if err := s.TouchAPIKey(ctx, a.ID, used); err != nil {
		t.Fatalf("TouchAPIKey: %v", err)
	}
	// An older touch does not move the time back.
	if err := s.TouchAPIKey(ctx, a.ID, t0.Add(time.Minute)); err != nil {
		t.Fatalf("TouchAPIKey(older): %v", err)
	}
	if err := s.TouchAPIKey(ctx, "key_missing", used); !errors.Is(err, icp.ErrNotFound) {
		t.Errorf("TouchAPIKey(unknown) = %v, want ErrNotFound", err)
	}

	clock.Advance(time.Minute)
	revokedAt := clock.Now()
	r, err := s.RevokeAPIKey(ctx, b.ID)
	if err != nil || !r.RevokedAt.Equal(revokedAt) {
		t.Fatalf("RevokeAPIKey() = %+v, %v, want RevokedAt %v", r, err, revokedAt)
	}
	clock.Advance(time.Minute)
	if r, err := s.RevokeAPIKey(ctx, b.ID); err != nil || !r.RevokedAt.Equal(revokedAt) {
		t.Errorf("RevokeAPIKey() again = %+v, %v, want the first RevokedAt %v", r, err, revokedAt)
	}
	if _, err := s.RevokeAPIKey(ctx, "key_missing"); !errors.Is(err, icp.ErrNotFound) {
		t.Errorf("RevokeAPIKey(unknown) = %v, want ErrNotFound", err)
	}
	if got, err := s.LookupAPIKey(ctx, "Zz9Yy8Xx"); err != nil || !got.Revoked() {
		t.Errorf("LookupAPIKey(revoked) = %+v, %v, want the revoked record", got, err)
	}

	keys, err := s.ListAPIKeys(ctx)
	if err != nil || len(keys) != 2 {
		t.Fatalf("ListAPIKeys() = %v, %v, want 2 keys", keys, err)
	}
	if keys[0].ID != a.ID || !keys[0].LastUsedAt.Equal(used) || keys[0].Revoked() {
		t.Errorf("ListAPIKeys()[0] = %+v, want %s used at %v and active", keys[0], a.ID, used)
	}
	if keys[1].ID != b.ID || !keys[1].RevokedAt.Equal(revokedAt) || !keys[1].LastUsedAt.IsZero() {
		t.Errorf("ListAPIKeys()[1] = %+v, want %s revoked at %v", keys[1], b.ID, revokedAt)
	}
	if s2 := reopen(t, s); s2 != nil {
		if keys2, err := s2.ListAPIKeys(ctx); err != nil || len(keys2) != 2 || !keys2[1].Revoked() {
			t.Errorf("ListAPIKeys() after reopen = %v, %v, want the same 2 keys", keys2, err)
		}
	}
}

func testAPIKeyValidation(t *testing.T, open func(t *testing.T) *Store) {
	s := open(t)
	good := icp.APIKey{Prefix: "AbCd1234", Hash: testHash, Name: "n", Scopes: []icp.Scope{icp.ScopeRead}}
	tests := []struct {
		name string
		give func(k *icp.APIKey)
		want []string
	}{
		{"short prefix", func(k *icp.APIKey) { k.Prefix = "abc" }, []string{"prefix"}},
		{"prefix with underscore", func(k *icp.APIKey) { k.Prefix = "ab_cd123" }, []string{"prefix"}},
		{"upper-case hash", func(k *icp.APIKey) { k.Hash = strings.ToUpper(testHash) }, []string{"hash"}},
		{"short hash", func(k *icp.APIKey) { k.Hash = testHash[:10] }, []string{"hash"}},
		{"blank name", func(k *icp.APIKey) { k.Name = "  " }, []string{"name"}},
		{"long name", func(k *icp.APIKey) { k.Name = strings.Repeat("x", 201) }, []string{"name"}},
		{"no scopes", func(k *icp.APIKey) { k.Scopes = nil }, []string{"scopes"}},
		{"unknown scope", func(k *icp.APIKey) { k.Scopes = []icp.Scope{"read", "root"} }, []string{"scopes[1]"}},
		{"repeated scope", func(k *icp.APIKey) { k.Scopes = []icp.Scope{"read", "read"} }, []string{"scopes[1]"}},
		{"everything", func(k *icp.APIKey) { *k = icp.APIKey{} }, []string{"prefix", "hash", "name", "scopes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := good
			tt.give(&k)
			_, err := s.CreateAPIKey(t.Context(), k)
			if got := fieldNames(err); !slices.Equal(got, tt.want) {
				t.Errorf("CreateAPIKey(%+v) fields = %v (%v), want %v", k, got, err, tt.want)
			}
		})
	}
	if keys, err := s.ListAPIKeys(t.Context()); err != nil || len(keys) != 0 {
		t.Errorf("ListAPIKeys() after refused creates = %v, %v, want none", keys, err)
	}
}
