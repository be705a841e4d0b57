package drift

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/icpengine/icp"
)

func TestMonitorRing(t *testing.T) {
	ref := &Reference{
		Numeric:     []NumericRef{NewNumericRef("x", []float64{1, 2, 3})},
		Categorical: []CategoricalRef{NewCategoricalRef("c", []string{"a", "b"})},
	}
	m := NewMonitor(ref, MonitorConfig{WindowSize: 5})
	for i := range 12 {
		row := Row{Num: map[string]float64{"x": float64(i)}, Cat: map[string]string{"c": string(rune('a' + i))}}
		if i == 10 {
			row = Row{} // all missing
		}
		m.Observe(row)
	}
	w := m.Snapshot()
	wantX := []float64{7, 8, 9, math.NaN(), 11}
	wantC := []string{"h", "i", "j", "", "l"}
	for i := range wantX {
		if got := w.Numeric["x"][i]; !(got == wantX[i] || math.IsNaN(got) && math.IsNaN(wantX[i])) {
			t.Errorf("Snapshot().Numeric[x] = %v, want %v", w.Numeric["x"], wantX)
			break
		}
	}
	for i := range wantC {
		if w.Categorical["c"][i] != wantC[i] {
			t.Errorf("Snapshot().Categorical[c] = %q, want %q", w.Categorical["c"], wantC)
			break
		}
	}
}

func TestMonitorConcurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	ref := &Reference{
		Numeric:              []NumericRef{NewNumericRef("x", normals(rng, 5000, 0))},
		Categorical:          []CategoricalRef{NewCategoricalRef("c", draws(rng, 5000, []string{"a", "b"}, []float64{0.5, 0.5}))},
		Tiers:                map[icp.Tier]float64{icp.Tier1: 0.25, icp.Tier2: 0.25, icp.Tier3: 0.25, icp.NonFit: 0.25},
		ExpectedOutsideShare: 0.2,
	}
	score := NewNumericRef("score", normals(rng, 5000, 0))
	ref.Score = &score
	m := NewMonitor(ref, MonitorConfig{WindowSize: 1000, WinnerWindow: 100})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, 1))
			tiers := icp.Tiers()
			for range 250 {
				// Shifted by one standard deviation: drift.
				m.Observe(Row{
					Num:   map[string]float64{"x": 1 + r.NormFloat64()},
					Cat:   map[string]string{"c": []string{"a", "b"}[r.IntN(2)]},
					Score: r.NormFloat64(),
					Tier:  tiers[r.IntN(4)],
				})
				if r.IntN(5) == 0 {
					// Winners all outside the ICP: ICP drift.
					m.ObserveWinner(0.1, icp.NonFit)
				}
			}
		}(uint64(g))
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 5 {
			_ = m.Evaluate(time.Unix(0, 0))
			_ = m.Snapshot()
		}
	}()
	wg.Wait()
	rep := m.Evaluate(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC))
	if rep.Window != 1000 || len(rep.Features) != 2 {
		t.Fatalf("Evaluate() window, features = %d, %d, want 1000, 2", rep.Window, len(rep.Features))
	}
	status := map[string]string{}
	for _, f := range rep.Features {
		status[f.Feature] = f.Status
	}
	if status["x"] != StatusDrift || status["c"] != StatusStable {
		t.Errorf("Evaluate() statuses = %v, want x drift and c stable", status)
	}
	if rep.Score == nil || rep.Score.Status != StatusStable || rep.TierMix == nil || rep.TierMix.Status != StatusStable {
		t.Errorf("Evaluate() score, tier mix = %+v, %+v, want both stable", rep.Score, rep.TierMix)
	}
	if rep.ICP == nil || rep.ICP.Status != StatusDrift || rep.ICP.Winners != 100 {
		t.Errorf("Evaluate().ICP = %+v, want drift over 100 winners", rep.ICP)
	}
}

func TestMonitorNilReference(t *testing.T) {
	m := NewMonitor(nil, MonitorConfig{})
	m.Observe(Row{Num: map[string]float64{"x": 1}})
	rep := m.Evaluate(time.Unix(0, 0))
	if rep.Window != 1 || len(rep.Features) != 0 || rep.Score != nil || rep.ICP != nil {
		t.Errorf("Evaluate() with a nil reference = %+v, want an empty report over 1 row", rep)
	}
}

func BenchmarkMonitorObserve(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	pop := newPopulation()
	ref := referenceFrom(pop.window(rng, 5000))
	m := NewMonitor(ref, MonitorConfig{})
	row := Row{Num: map[string]float64{}, Cat: map[string]string{}, Score: 0.5, Tier: icp.Tier2}
	for _, n := range numericNames() {
		row.Num[n] = 1
	}
	for _, n := range categoricalNames() {
		row.Cat[n] = "x"
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m.Observe(row)
	}
}

func BenchmarkCompareFeatures(b *testing.B) {
	for _, refRows := range []int{1000, 10000} {
		b.Run(map[int]string{1000: "ref=1k", 10000: "ref=10k"}[refRows], func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			pop := newPopulation()
			ref := referenceFrom(pop.window(rng, refRows))
			w := pop.window(rng, 1000)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				CompareFeatures(ref, w, Config{})
			}
		})
	}
}

func BenchmarkKSTwoSample(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	x, y := normals(rng, 1000, 0), normals(rng, 1000, 0.1)
	b.ReportAllocs()
	for b.Loop() {
		KSTwoSample(x, y)
	}
}
