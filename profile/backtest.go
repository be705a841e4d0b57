package profile

import (
	"math"
	"sort"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
)

// Backtest replays the time-ordered holdout: each of the newest closed
// deals is scored by the model fitted on the older ones (calibrated by
// cross-fitting) and placed in a tier by the final thresholds, in a
// segment and in the anti-ICP by the final rules.
type Backtest struct {
	// Rows is the number of holdout deals.
	Rows int `json:"rows"`
	// Tiers, Segments and AntiICP sum up the outcomes of each group of
	// holdout deals; Segments ends with the deals in no segment.
	Tiers    []GroupResult `json:"tiers"`
	Segments []GroupResult `json:"segments"`
	AntiICP  GroupResult   `json:"anti_icp"`
	// WinRateFalls reports whether the win rate falls from each tier to
	// the next (tiers without deals are skipped).
	WinRateFalls bool `json:"win_rate_falls"`
	// Gains is the cumulative share of positives captured by the top
	// share of holdout deals by score, at every 5% of deals.
	Gains []GainPoint `json:"gains"`
	// Histogram counts holdout deals by score, in 20 bins of width 0.05,
	// for positives and negatives.
	Histogram ScoreHistogram `json:"histogram"`
	// Recent lists the last 20 won and the last 20 lost deals of the
	// holdout, newest first.
	Recent []RecentDeal `json:"recent"`
}

// GroupResult is the outcome of one group of holdout deals.
type GroupResult struct {
	Name     string   `json:"name"`
	Evidence Evidence `json:"evidence"`
}

// GainPoint is one point of the gains curve.
type GainPoint struct {
	// Share is the share of deals taken from the top score down, and
	// Captured the share of all positives among them. Lift is their ratio.
	Share    float64 `json:"share"`
	Captured float64 `json:"captured"`
	Lift     float64 `json:"lift"`
}

// ScoreHistogram counts scores in equal bins over [0, 1].
type ScoreHistogram struct {
	Positive []int `json:"positive"`
	Negative []int `json:"negative"`
}

// RecentDeal is one recent holdout deal with how the model placed it.
type RecentDeal struct {
	AccountID string   `json:"account_id"`
	CloseDate string   `json:"close_date,omitempty"`
	Won       bool     `json:"won"`
	Score     float64  `json:"score"`
	Tier      icp.Tier `json:"tier"`
	Segment   string   `json:"segment,omitempty"`
	AntiICP   string   `json:"anti_icp,omitempty"`
}

// backtest builds the backtest of the holdout rows and their calibrated
// probabilities.
func (p *Profile) backtest(t *datasets.Table, od *outcomeData, holdRows []int, probs, closeDays []float64) Backtest {
	b := Backtest{Rows: len(holdRows)}
	hod := od.within(holdRows)
	base := hod.evidence(holdRows)
	group := func(name string, rows []int) GroupResult {
		e := hod.evidence(rows)
		e.against(base)
		return GroupResult{Name: name, Evidence: e}
	}
	tierOf := make([]icp.Tier, len(holdRows))
	byTier := map[icp.Tier][]int{}
	segRows := make([][]int, len(p.Segments)+1)
	var anti []int
	for j, i := range holdRows {
		tierOf[j] = p.Tiers.Tier(probs[j])
		byTier[tierOf[j]] = append(byTier[tierOf[j]], i)
		k := segmentOf(p.Segments, t, i)
		if k < 0 {
			k = len(p.Segments)
		}
		segRows[k] = append(segRows[k], i)
		if p.antiMatch(t, i) != nil {
			anti = append(anti, i)
		}
	}
	b.WinRateFalls = true
	prev := math.Inf(1)
	for _, tr := range icp.Tiers() {
		g := group(string(tr), byTier[tr])
		b.Tiers = append(b.Tiers, g)
		if g.Evidence.Closed > 0 {
			if g.Evidence.WinRate > prev {
				b.WinRateFalls = false
			}
			prev = g.Evidence.WinRate
		}
	}
	for k, rows := range segRows {
		name := "no segment"
		if k < len(p.Segments) {
			name = p.Segments[k].ID + ": " + p.Segments[k].Name
		}
		b.Segments = append(b.Segments, group(name, rows))
	}
	b.AntiICP = group("anti-ICP", anti)

	// Gains and histogram on the label.
	order := make([]int, len(holdRows))
	for j := range order {
		order[j] = j
	}
	sort.SliceStable(order, func(a, c int) bool { return probs[order[a]] > probs[order[c]] })
	var totalPos float64
	for _, i := range holdRows {
		totalPos += od.lab.y[i]
	}
	b.Histogram = ScoreHistogram{Positive: make([]int, 20), Negative: make([]int, 20)}
	for j, i := range holdRows {
		bin := min(19, max(0, int(probs[j]*20)))
		if od.lab.y[i] == 1 {
			b.Histogram.Positive[bin]++
		} else {
			b.Histogram.Negative[bin]++
		}
	}
	if len(holdRows) > 0 && totalPos > 0 {
		b.Gains = append(b.Gains, GainPoint{})
		var got float64
		next := 1
		for r, j := range order {
			got += od.lab.y[holdRows[j]]
			for next <= 20 && float64(r+1) >= float64(next)*float64(len(holdRows))/20-1e-9 {
				share := float64(next) / 20
				b.Gains = append(b.Gains, GainPoint{Share: share, Captured: got / totalPos, Lift: got / totalPos / share})
				next++
			}
		}
	}

	// The last 20 won and 20 lost deals, newest first.
	var ids *datasets.Column
	if p.Schema.ID != "" {
		ids = t.Column(p.Schema.ID)
	}
	var won, lost int
	for j := len(holdRows) - 1; j >= 0 && (won < 20 || lost < 20); j-- {
		i := holdRows[j]
		w := od.lab.won[i]
		if w && won >= 20 || !w && lost >= 20 {
			continue
		}
		if w {
			won++
		} else {
			lost++
		}
		d := RecentDeal{Won: w, Score: probs[j], Tier: tierOf[j]}
		if ids != nil {
			d.AccountID = ids.Text(i)
		} else {
			d.AccountID = "row " + itoa(i+1)
		}
		if closeDays != nil {
			d.CloseDate = dayString(closeDays[i])
		}
		if k := segmentOf(p.Segments, t, i); k >= 0 {
			d.Segment = p.Segments[k].ID
		}
		if m := p.antiMatch(t, i); m != nil {
			d.AntiICP = m.ID
		}
		b.Recent = append(b.Recent, d)
	}
	return b
}

// within returns a copy of o whose totals count only rows.
func (o *outcomeData) within(rows []int) *outcomeData {
	c := *o
	c.totalWon, c.totalPos = 0, 0
	for _, i := range rows {
		if math.IsNaN(o.lab.y[i]) {
			continue
		}
		if o.lab.won[i] {
			c.totalWon++
		}
		if o.lab.y[i] == 1 {
			c.totalPos++
		}
	}
	return &c
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	k := len(b)
	for i > 0 {
		k--
		b[k] = byte('0' + i%10)
		i /= 10
	}
	return string(b[k:])
}
