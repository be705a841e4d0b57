package drift

import (
	"math"
	"sync"
	"time"

	"github.com/icpengine/icp"
)

// MonitorConfig configures a Monitor. The zero value is ready to use.
type MonitorConfig struct {
	// WindowSize is how many of the latest observations are kept and
	// evaluated. Zero means 1000.
	WindowSize int
	// WinnerWindow is how many of the latest winners are kept for the ICP
	// drift test. Zero means 200.
	WinnerWindow int
	// MinWinners is the least number of winners for the ICP drift test.
	// Zero means 30.
	MinWinners int
	// Drift holds the test rules.
	Drift Config
}

// Row is one scored account as the monitor sees it. Values absent from the
// maps are missing. A tag list is given as one categorical per tag, named
// as in the reference (the caller decides the naming).
type Row struct {
	Num map[string]float64
	Cat map[string]string
	// Score is the fit score and Tier the fit tier; an empty Tier means the
	// row carries no score.
	Score float64
	Tier  icp.Tier
}

// Monitor keeps a bounded ring of the latest observations and evaluates
// them against a Reference. Its methods are safe for concurrent use;
// Observe holds the lock only to copy one row's values into the ring.
type Monitor struct {
	ref *Reference
	cfg MonitorConfig

	mu     sync.Mutex
	num    [][]float64 // per ref.Numeric feature, ring of WindowSize
	cat    [][]string  // per ref.Categorical feature
	score  []float64
	tier   []icp.Tier
	head   int // next slot to write
	size   int // filled slots
	wScore []float64
	wTier  []icp.Tier
	wHead  int
	wSize  int
}

// NewMonitor returns a monitor of the features of ref. A nil ref monitors
// nothing. The monitor keeps ref and does not modify it.
func NewMonitor(ref *Reference, cfg MonitorConfig) *Monitor {
	if ref == nil {
		ref = &Reference{}
	}
	if cfg.WindowSize <= 0 {
		cfg.WindowSize = 1000
	}
	if cfg.WinnerWindow <= 0 {
		cfg.WinnerWindow = 200
	}
	if cfg.MinWinners <= 0 {
		cfg.MinWinners = 30
	}
	m := &Monitor{
		ref:    ref,
		cfg:    cfg,
		num:    make([][]float64, len(ref.Numeric)),
		cat:    make([][]string, len(ref.Categorical)),
		score:  make([]float64, cfg.WindowSize),
		tier:   make([]icp.Tier, cfg.WindowSize),
		wScore: make([]float64, cfg.WinnerWindow),
		wTier:  make([]icp.Tier, cfg.WinnerWindow),
	}
	for i := range m.num {
		m.num[i] = make([]float64, cfg.WindowSize)
	}
	for i := range m.cat {
		m.cat[i] = make([]string, cfg.WindowSize)
	}
	return m
}

// Observe records one scored account, replacing the oldest once the window
// is full.
func (m *Monitor) Observe(row Row) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.head
	for i := range m.ref.Numeric {
		v, ok := row.Num[m.ref.Numeric[i].Name]
		if !ok {
			v = math.NaN()
		}
		m.num[i][h] = v
	}
	for i := range m.ref.Categorical {
		m.cat[i][h] = row.Cat[m.ref.Categorical[i].Name]
	}
	m.score[h] = row.Score
	m.tier[h] = row.Tier
	m.head = (h + 1) % m.cfg.WindowSize
	m.size = min(m.size+1, m.cfg.WindowSize)
}

// ObserveWinner records the score and tier the model gave to an account
// that was then won.
func (m *Monitor) ObserveWinner(score float64, tier icp.Tier) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.wScore[m.wHead] = score
	m.wTier[m.wHead] = tier
	m.wHead = (m.wHead + 1) % m.cfg.WinnerWindow
	m.wSize = min(m.wSize+1, m.cfg.WinnerWindow)
}

// Snapshot returns a copy of the current window, oldest observation first.
func (m *Monitor) Snapshot() Window {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.snapshotLocked()
}

func (m *Monitor) snapshotLocked() Window {
	w := Window{
		Numeric:     make(map[string][]float64, len(m.num)),
		Categorical: make(map[string][]string, len(m.cat)),
	}
	start := (m.head - m.size + m.cfg.WindowSize) % m.cfg.WindowSize
	for i := range m.num {
		w.Numeric[m.ref.Numeric[i].Name] = ringCopy(m.num[i], start, m.size)
	}
	for i := range m.cat {
		w.Categorical[m.ref.Categorical[i].Name] = ringCopy(m.cat[i], start, m.size)
	}
	return w
}

func ringCopy[T any](ring []T, start, size int) []T {
	out := make([]T, size)
	n := copy(out, ring[start:min(len(ring), start+size)])
	copy(out[n:], ring[:size-n])
	return out
}

// Evaluate tests the current window and winners against the reference and
// returns the report stamped with now. The statistics run outside the
// lock, on a copy.
func (m *Monitor) Evaluate(now time.Time) icp.DriftResult {
	m.mu.Lock()
	w := m.snapshotLocked()
	start := (m.head - m.size + m.cfg.WindowSize) % m.cfg.WindowSize
	scores := ringCopy(m.score, start, m.size)
	tiers := ringCopy(m.tier, start, m.size)
	ws := (m.wHead - m.wSize + m.cfg.WinnerWindow) % m.cfg.WinnerWindow
	wScores := ringCopy(m.wScore, ws, m.wSize)
	wTiers := ringCopy(m.wTier, ws, m.wSize)
	size := m.size
	m.mu.Unlock()

	rep := icp.DriftResult{Time: now, Window: size, Features: CompareFeatures(m.ref, w, m.cfg.Drift)}
	var scored []float64
	mix := make(map[icp.Tier]int)
	for i, t := range tiers {
		if t == "" {
			continue
		}
		scored = append(scored, scores[i])
		mix[t]++
	}
	if m.ref.Score != nil && len(scored) > 0 {
		s := ScoreDrift(*m.ref.Score, scored, m.cfg.Drift)
		rep.Score = &s
	}
	if len(m.ref.Tiers) > 0 && len(scored) > 0 {
		t := TierMix(m.ref.Tiers, mix, m.cfg.Drift)
		rep.TierMix = &t
	}
	if m.ref.ExpectedOutsideShare > 0 && m.ref.ExpectedOutsideShare < 1 && len(wTiers) > 0 {
		outside := 0
		for _, t := range wTiers {
			if t == icp.Tier3 || t == icp.NonFit {
				outside++
			}
		}
		res, err := ICPDrift(ICPDriftInput{
			ExpectedOutsideShare: m.ref.ExpectedOutsideShare,
			Winners:              len(wTiers), WinnersOutside: outside,
			MinWinners: m.cfg.MinWinners, Alpha: m.cfg.Drift.Alpha,
			WinnerScores: wScores, RefWinnerScores: m.ref.WinnerScores,
			DistanceThreshold: m.cfg.Drift.DistanceThreshold,
		})
		if err == nil { // the counts above are valid by construction
			rep.ICP = &res
		}
	}
	return rep
}
