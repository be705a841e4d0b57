package auth

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icpengine/icp"
)

func TestGenerate(t *testing.T) {
	shape := regexp.MustCompile(`^icp_[A-Za-z0-9]{8}_[A-Za-z0-9]{32}$`)
	seen := map[string]bool{}
	for range 200 {
		key, rec, err := Generate("crm-sync", []icp.Scope{icp.ScopeScore, icp.ScopeOutcomes})
		if err != nil {
			t.Fatalf("Generate() error = %v", err)
		}
		if !shape.MatchString(key) {
			t.Fatalf("Generate() key = %q, want icp_<8>_<32> base-62", key)
		}
		if seen[key] {
			t.Fatalf("Generate() repeated key %q", key)
		}
		seen[key] = true
		prefix, err := Parse(key)
		if err != nil || prefix != rec.Prefix || !Match(key, rec.Hash) || rec.Hash != Hash(key) || strings.Contains(rec.Hash, key) {
			t.Fatalf("Generate() = %q, %+v: Parse = %q, %v; record does not prove the key", key, rec, prefix, err)
		}
		if rec.Name != "crm-sync" || !slices.Equal(rec.Scopes, []icp.Scope{icp.ScopeScore, icp.ScopeOutcomes}) {
			t.Fatalf("Generate() record = %+v, want name and scopes kept", rec)
		}
	}
	for _, bad := range [][]icp.Scope{nil, {"root"}, {"read", "read"}} {
		if _, _, err := Generate("x", bad); err == nil {
			t.Errorf("Generate(x, %v) succeeded, want an error", bad)
		}
	}
	if _, _, err := Generate(" ", []icp.Scope{icp.ScopeRead}); err == nil {
		t.Error("Generate(blank name) succeeded, want an error")
	}
}

func TestParse(t *testing.T) {
	good := "icp_AbCd1234_" + strings.Repeat("x", 32)
	tests := []struct {
		name string
		give string
		want string // "" means malformed
	}{
		{"good", good, "AbCd1234"},
		{"empty", "", ""},
		{"no mark", "abc_AbCd1234_" + strings.Repeat("x", 32), ""},
		{"short secret", good[:len(good)-1], ""},
		{"long secret", good + "x", ""},
		{"no separator", "icp_AbCd1234x" + strings.Repeat("x", 32), ""},
		{"symbol in prefix", "icp_AbCd-234_" + strings.Repeat("x", 32), ""},
		{"symbol in secret", "icp_AbCd1234_" + strings.Repeat("x", 31) + "/", ""},
		{"non-ascii", "icp_AbCd123é" + strings.Repeat("x", 32), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.give)
			if tt.want == "" {
				if !errors.Is(err, icp.ErrUnauthenticated) {
					t.Errorf("Parse(%q) = %q, %v, want ErrUnauthenticated", tt.give, got, err)
				}
				return
			}
			if got != tt.want || err != nil {
				t.Errorf("Parse(%q) = %q, %v, want %q", tt.give, got, err, tt.want)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	key := "icp_AbCd1234_" + strings.Repeat("x", 32)
	tests := []struct {
		name string
		key  string
		hash string
		want bool
	}{
		{"same", key, Hash(key), true},
		{"other key", key + "y", Hash(key), false},
		{"not hex", key, strings.Repeat("z", 64), false},
		{"short hash", key, Hash(key)[:62], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Match(tt.key, tt.hash); got != tt.want {
				t.Errorf("Match(%q, %q) = %v, want %v", tt.key, tt.hash, got, tt.want)
			}
		})
	}
}

func TestParseScopes(t *testing.T) {
	tests := []struct {
		give    string
		want    []icp.Scope
		wantErr bool
	}{
		{give: "score", want: []icp.Scope{icp.ScopeScore}},
		{give: " score , outcomes ", want: []icp.Scope{icp.ScopeScore, icp.ScopeOutcomes}},
		{give: "read,admin,", want: []icp.Scope{icp.ScopeRead, icp.ScopeAdmin}},
		{give: "", wantErr: true},
		{give: ",", wantErr: true},
		{give: "Score", wantErr: true},
		{give: "read,write", wantErr: true},
		{give: "read,read", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			got, err := ParseScopes(tt.give)
			if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
				t.Errorf("ParseScopes(%q) = %v, %v, want %v (error %v)", tt.give, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// memKeys is an in-memory KeyStore that counts lookups.
type memKeys struct {
	mu      sync.Mutex
	keys    map[string]icp.APIKey // by prefix
	lookups int
	touches []time.Time
	down    bool
}

func (m *memKeys) LookupAPIKey(_ context.Context, prefix string) (icp.APIKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lookups++
	if m.down {
		return icp.APIKey{}, errors.New("connection refused")
	}
	k, ok := m.keys[prefix]
	if !ok {
		return icp.APIKey{}, icp.ErrNotFound
	}
	return k, nil
}

func (m *memKeys) TouchAPIKey(_ context.Context, id string, t time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.touches = append(m.touches, t)
	for p, k := range m.keys {
		if k.ID == id {
			k.LastUsedAt = t
			m.keys[p] = k
		}
	}
	return nil
}

func (m *memKeys) revoke(prefix string, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := m.keys[prefix]
	k.RevokedAt = at
	m.keys[prefix] = k
}

func TestVerifier(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	now := t0
	key, rec, err := Generate("crm", []icp.Scope{icp.ScopeScore})
	if err != nil {
		t.Fatal(err)
	}
	rec.ID = "key_1"
	ks := &memKeys{keys: map[string]icp.APIKey{rec.Prefix: rec}}
	v := NewVerifier(ks, VerifierConfig{Now: func() time.Time { return now }})
	ctx := t.Context()

	p, err := v.VerifyKey(ctx, key)
	if err != nil || p.KeyID != "key_1" || p.Name != "crm" || !p.Has(icp.ScopeScore) || p.Has(icp.ScopeAdmin) {
		t.Fatalf("VerifyKey(good) = %+v, %v, want key_1 with the score scope only", p, err)
	}
	if len(ks.touches) != 1 {
		t.Errorf("touches after first use = %d, want 1", len(ks.touches))
	}
	// Within the cache TTL the store is not asked again.
	now = now.Add(5 * time.Second)
	if _, err := v.VerifyKey(ctx, key); err != nil || ks.lookups != 1 {
		t.Errorf("VerifyKey(cached) = %v with %d lookups, want nil with 1", err, ks.lookups)
	}

	bad := []struct {
		name string
		give string
	}{
		{"malformed", "Bearer " + key},
		{"unknown prefix", KeyMark + "ZZZZZZZZ" + key[len(KeyMark)+PrefixLen:]},
		{"wrong secret", key[:len(key)-1] + string(rune(key[len(key)-1])^1)},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if p, err := v.VerifyKey(ctx, tt.give); !errors.Is(err, icp.ErrUnauthenticated) || p.KeyID != "" {
				t.Errorf("VerifyKey(%q) = %+v, %v, want ErrUnauthenticated", tt.give, p, err)
			}
		})
	}

	// A revocation is seen once the cache entry expires.
	ks.revoke(rec.Prefix, now)
	if _, err := v.VerifyKey(ctx, key); err != nil {
		t.Errorf("VerifyKey(revoked, still cached) = %v, want nil within CacheTTL", err)
	}
	now = now.Add(10 * time.Second)
	if _, err := v.VerifyKey(ctx, key); !errors.Is(err, icp.ErrUnauthenticated) {
		t.Errorf("VerifyKey(revoked) = %v, want ErrUnauthenticated", err)
	}

	ks.down = true
	if _, err := v.VerifyKey(ctx, key); !errors.Is(err, icp.ErrUnavailable) {
		t.Errorf("VerifyKey(store down) = %v, want ErrUnavailable", err)
	}
}

func TestVerifierTouchInterval(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	now := t0
	key, rec, _ := Generate("crm", []icp.Scope{icp.ScopeRead})
	rec.ID = "key_1"
	ks := &memKeys{keys: map[string]icp.APIKey{rec.Prefix: rec}}
	v := NewVerifier(ks, VerifierConfig{CacheTTL: -1, Now: func() time.Time { return now }})
	for range 130 { // one use per second for 130 s
		if _, err := v.VerifyKey(t.Context(), key); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Second)
	}
	want := []time.Time{t0, t0.Add(time.Minute), t0.Add(2 * time.Minute)}
	if !slices.EqualFunc(ks.touches, want, time.Time.Equal) {
		t.Errorf("touches = %v, want %v", ks.touches, want)
	}
	if ks.lookups != 130 {
		t.Errorf("lookups with the cache off = %d, want 130", ks.lookups)
	}
}

func BenchmarkVerifyKeyCached(b *testing.B) {
	key, rec, _ := Generate("crm", []icp.Scope{icp.ScopeScore})
	rec.ID = "key_1"
	v := NewVerifier(&memKeys{keys: map[string]icp.APIKey{rec.Prefix: rec}}, VerifierConfig{CacheTTL: time.Hour})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.VerifyKey(ctx, key); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzParse checks that Parse never panics and accepts exactly the keys of
// the documented shape.
func FuzzParse(f *testing.F) {
	key, _, _ := Generate("f", []icp.Scope{icp.ScopeRead})
	for _, s := range []string{key, "", "icp_", "icp_AbCd1234_", key + "x", "Bearer " + key, "icp_AbCd123\xff_" + strings.Repeat("x", 32)} {
		f.Add(s)
	}
	shape := regexp.MustCompile(`^icp_([A-Za-z0-9]{8})_[A-Za-z0-9]{32}$`)
	f.Fuzz(func(t *testing.T, s string) {
		prefix, err := Parse(s)
		m := shape.FindStringSubmatch(s)
		switch {
		case m == nil && err == nil:
			t.Fatalf("Parse(%q) = %q, nil; want an error for a key of another shape", s, prefix)
		case m != nil && (err != nil || prefix != m[1]):
			t.Fatalf("Parse(%q) = %q, %v; want %q", s, prefix, err, m[1])
		case err != nil && !errors.Is(err, icp.ErrUnauthenticated):
			t.Fatalf("Parse(%q) error = %v, want ErrUnauthenticated", s, err)
		}
	})
}
