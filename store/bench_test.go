package store

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/icpengine/icp"
)

// benchBackends returns the stores a benchmark runs on: a SQLite file, and
// PostgreSQL when the test server is configured.
func benchBackends(b *testing.B) []struct {
	name string
	open func(b *testing.B) *Store
} {
	backends := []struct {
		name string
		open func(b *testing.B) *Store
	}{
		{"sqlite", func(b *testing.B) *Store {
			s, err := Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"), Config{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		}},
	}
	if os.Getenv(pgEnv) != "" {
		backends = append(backends, struct {
			name string
			open func(b *testing.B) *Store
		}{"postgres", func(b *testing.B) *Store { return openPostgresTest(b) }})
	}
	return backends
}

func BenchmarkRecordOutcomes(b *testing.B) {
	for _, be := range benchBackends(b) {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			ctx := b.Context()
			o := []icp.Outcome{{
				AccountID: "acme",
				Account:   icp.Account{"industry": "fintech", "employees": 250.0},
				Won:       true,
				CloseDate: t0,
				LTVUSD:    ptr(1200.0),
			}}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := s.RecordOutcomes(ctx, fmt.Sprintf("k%d", i), o); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkLogScores100(b *testing.B) {
	for _, be := range benchBackends(b) {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			ctx := b.Context()
			batch := make([]icp.ScoredAccount, 100)
			for i := range batch {
				batch[i] = icp.ScoredAccount{
					Time:         t0.Add(time.Duration(i) * time.Second),
					ModelVersion: "v1",
					AccountID:    fmt.Sprintf("acct-%d", i),
					Account:      icp.Account{"industry": "saas", "employees": float64(i)},
					Score:        float64(i) / 100,
					Tier:         icp.Tier2,
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := s.LogScores(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRaiseAlert(b *testing.B) {
	for _, be := range benchBackends(b) {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			ctx := b.Context()
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := s.RaiseAlert(ctx, driftAlert("bench", icp.SeverityWarning, map[string]any{"psi": 0.3}), AlertPolicy{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
