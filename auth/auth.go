package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/icpengine/icp"
)

// The shape of a key: KeyMark, PrefixLen visible characters, an underscore
// and SecretLen secret characters, all from the base-62 alphabet.
const (
	KeyMark   = "icp_"
	PrefixLen = 8
	SecretLen = 32
	keyLen    = len(KeyMark) + PrefixLen + 1 + SecretLen
)

// base62 is the alphabet of prefixes and secrets.
const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Generate makes a new random key for a client called name with the given
// scopes. It returns the key, to be shown once and never stored, and the
// record to store (Prefix, Hash, Name and Scopes set). It fails on an empty
// name or an unknown, repeated or missing scope.
func Generate(name string, scopes []icp.Scope) (key string, rec icp.APIKey, err error) {
	if strings.TrimSpace(name) == "" {
		return "", icp.APIKey{}, errors.New("generate key: empty name")
	}
	if err := checkScopes(scopes); err != nil {
		return "", icp.APIKey{}, fmt.Errorf("generate key: %w", err)
	}
	prefix := randomBase62(PrefixLen)
	key = KeyMark + prefix + "_" + randomBase62(SecretLen)
	rec = icp.APIKey{Prefix: prefix, Hash: Hash(key), Name: name, Scopes: append([]icp.Scope(nil), scopes...)}
	return key, rec, nil
}

// randomBase62 returns n characters drawn uniformly from base62 with
// crypto/rand, by rejection sampling (a byte is kept when below 248, the
// largest multiple of 62 that fits).
func randomBase62(n int) string {
	out := make([]byte, 0, n)
	var buf [64]byte
	for len(out) < n {
		// crypto/rand.Read is documented never to return an error.
		_, _ = rand.Read(buf[:])
		for _, b := range buf {
			if b < 248 && len(out) < n {
				out = append(out, base62[b%62])
			}
		}
	}
	return string(out)
}

// Parse checks the shape of a presented key and returns its visible
// prefix. A malformed key gives an error matching icp.ErrUnauthenticated.
func Parse(key string) (prefix string, err error) {
	if len(key) != keyLen || !strings.HasPrefix(key, KeyMark) || key[len(KeyMark)+PrefixLen] != '_' {
		return "", fmt.Errorf("malformed api key: %w", icp.ErrUnauthenticated)
	}
	prefix = key[len(KeyMark) : len(KeyMark)+PrefixLen]
	if !isBase62(prefix) || !isBase62(key[len(KeyMark)+PrefixLen+1:]) {
		return "", fmt.Errorf("malformed api key: %w", icp.ErrUnauthenticated)
	}
	return prefix, nil
}

func isBase62(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(base62, s[i]) < 0 {
			return false
		}
	}
	return true
}

// Hash returns the lower-case hex SHA-256 of key, the form stored in
// icp.APIKey.Hash.
func Hash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// Match reports whether key hashes to the stored hex digest hash. The
// digests are compared in constant time.
func Match(key, hash string) bool {
	want, err := hex.DecodeString(hash)
	if err != nil || len(want) != sha256.Size {
		return false
	}
	got := sha256.Sum256([]byte(key))
	return subtle.ConstantTimeCompare(got[:], want) == 1
}

// ParseScopes parses a comma-separated scope list such as
// "score,outcomes". Spaces around names are ignored; an empty list, an
// unknown or a repeated scope is an error.
func ParseScopes(s string) ([]icp.Scope, error) {
	var scopes []icp.Scope
	for part := range strings.SplitSeq(s, ",") {
		if p := strings.TrimSpace(part); p != "" {
			scopes = append(scopes, icp.Scope(p))
		}
	}
	if err := checkScopes(scopes); err != nil {
		return nil, fmt.Errorf("parse scopes %q: %w", s, err)
	}
	return scopes, nil
}

func checkScopes(scopes []icp.Scope) error {
	if len(scopes) == 0 {
		return errors.New("no scopes")
	}
	for i, sc := range scopes {
		if !sc.Valid() {
			return fmt.Errorf("unknown scope %q (want %s)", sc, scopeList())
		}
		for _, prev := range scopes[:i] {
			if prev == sc {
				return fmt.Errorf("repeated scope %q", sc)
			}
		}
	}
	return nil
}

func scopeList() string {
	names := make([]string, 0, 4)
	for _, sc := range icp.Scopes() {
		names = append(names, string(sc))
	}
	return strings.Join(names, ", ")
}

// KeyStore is the storage a Verifier reads; *store.Store satisfies it.
type KeyStore interface {
	// LookupAPIKey returns the record with the given prefix, or an error
	// matching icp.ErrNotFound.
	LookupAPIKey(ctx context.Context, prefix string) (icp.APIKey, error)
	// TouchAPIKey records that the key was used at t.
	TouchAPIKey(ctx context.Context, id string, t time.Time) error
}

// VerifierConfig tunes a Verifier. The zero value is ready to use.
type VerifierConfig struct {
	// CacheTTL is how long a verified key is trusted without asking the
	// store again; it bounds how late a revocation takes effect. Zero means
	// 10 seconds; negative disables the cache.
	CacheTTL time.Duration
	// MaxCached bounds the number of cached keys; the cache is emptied when
	// it is full. Zero means 1024.
	MaxCached int
	// TouchInterval is the least time between two records of a key's last
	// use. Zero means one minute.
	TouchInterval time.Duration
	// Logger receives failures to record a key's last use, which do not
	// fail the request. Nil discards them.
	Logger *slog.Logger
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// Verifier checks presented keys against stored records. It is safe for
// concurrent use.
type Verifier struct {
	keys  KeyStore
	ttl   time.Duration
	max   int
	touch time.Duration
	log   *slog.Logger
	now   func() time.Time

	mu      sync.Mutex
	cache   map[[sha256.Size]byte]cached
	touched map[string]time.Time // key id -> last recorded use
}

// cached is a verified key and when it stops being trusted.
type cached struct {
	p       icp.Principal
	expires time.Time
}

// NewVerifier returns a Verifier reading records from keys.
func NewVerifier(keys KeyStore, cfg VerifierConfig) *Verifier {
	v := &Verifier{
		keys: keys, ttl: cfg.CacheTTL, max: cfg.MaxCached, touch: cfg.TouchInterval, log: cfg.Logger, now: cfg.Now,
		cache: make(map[[sha256.Size]byte]cached), touched: make(map[string]time.Time),
	}
	if v.ttl == 0 {
		v.ttl = 10 * time.Second
	}
	if v.max <= 0 {
		v.max = 1024
	}
	if v.touch <= 0 {
		v.touch = time.Minute
	}
	if v.log == nil {
		v.log = slog.New(slog.DiscardHandler)
	}
	if v.now == nil {
		v.now = time.Now
	}
	return v
}

// VerifyKey returns the principal of a presented key. A malformed, unknown
// or revoked key, or one whose secret does not match, gives an error
// matching icp.ErrUnauthenticated; a store that does not answer gives an
// error matching icp.ErrUnavailable.
func (v *Verifier) VerifyKey(ctx context.Context, presented string) (icp.Principal, error) {
	prefix, err := Parse(presented)
	if err != nil {
		return icp.Principal{}, err
	}
	digest := sha256.Sum256([]byte(presented))
	now := v.now()
	if v.ttl > 0 {
		v.mu.Lock()
		c, ok := v.cache[digest]
		v.mu.Unlock()
		if ok && now.Before(c.expires) {
			return c.p, nil
		}
	}
	rec, err := v.keys.LookupAPIKey(ctx, prefix)
	switch {
	case errors.Is(err, icp.ErrNotFound):
		return icp.Principal{}, fmt.Errorf("unknown api key %s: %w", prefix, icp.ErrUnauthenticated)
	case err != nil:
		if !errors.Is(err, icp.ErrUnavailable) {
			err = fmt.Errorf("%w: %w", icp.ErrUnavailable, err)
		}
		return icp.Principal{}, fmt.Errorf("verify api key: %w", err)
	}
	want, herr := hex.DecodeString(rec.Hash)
	if herr != nil || len(want) != sha256.Size || subtle.ConstantTimeCompare(digest[:], want) != 1 {
		return icp.Principal{}, fmt.Errorf("unknown api key %s: %w", prefix, icp.ErrUnauthenticated)
	}
	if rec.Revoked() {
		return icp.Principal{}, fmt.Errorf("revoked api key %s: %w", rec.ID, icp.ErrUnauthenticated)
	}
	p := icp.Principal{KeyID: rec.ID, Name: rec.Name, Scopes: rec.Scopes}
	v.mu.Lock()
	if v.ttl > 0 {
		if len(v.cache) >= v.max {
			clear(v.cache)
		}
		v.cache[digest] = cached{p: p, expires: now.Add(v.ttl)}
	}
	last, seen := v.touched[rec.ID]
	due := (!seen || now.Sub(last) >= v.touch) && (rec.LastUsedAt.IsZero() || now.Sub(rec.LastUsedAt) >= v.touch)
	if due {
		v.touched[rec.ID] = now
	}
	v.mu.Unlock()
	if due {
		if err := v.keys.TouchAPIKey(ctx, rec.ID, now); err != nil {
			v.log.WarnContext(ctx, "record api key use", slog.String("key_id", rec.ID), slog.Any("err", err))
		}
	}
	return p, nil
}
