package train

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/profile"
)

// backtest builds the backtest of the holdout rows and their calibrated
// probabilities. Each holdout deal is placed in a segment and in the
// anti-ICP as serve places it, by p's scoring.
//
// It sets the profile's Backtest.
func (r *trainRun) backtest() error {
	b, err := r.replay()
	r.p.Backtest = b
	return err
}

// replay is backtest's replay of the holdout.
func (r *trainRun) replay() (profile.Backtest, error) {
	p, t, od, holdRows, probs, closeDays := r.p, r.t, r.od, r.hold, r.holdProbs, r.closeDays
	b := profile.Backtest{Rows: len(holdRows)}
	placed, err := p.ScoreTable(t.Take(holdRows), rowsOf(r.all, holdRows), false)
	if err != nil {
		return b, fmt.Errorf("backtest: %w", err)
	}
	segIndex := make(map[string]int, len(p.Segments))
	for k := range p.Segments {
		segIndex[p.Segments[k].ID] = k
	}
	hod := od.within(holdRows)
	base := hod.evidence(holdRows)
	group := func(name string, rows []int) profile.GroupResult {
		e := hod.evidence(rows)
		against(&e, base)
		return profile.GroupResult{Name: name, Evidence: e}
	}
	tierOf := make([]icp.Tier, len(holdRows))
	byTier := map[icp.Tier][]int{}
	segRows := make([][]int, len(p.Segments)+1)
	var anti []int
	for j, i := range holdRows {
		tierOf[j] = p.Tiers.Tier(r.holdTierKey(j, probs[j]))
		byTier[tierOf[j]] = append(byTier[tierOf[j]], i)
		k := len(p.Segments)
		if s := placed[j].Segment; s != nil {
			k = segIndex[s.ID]
		}
		segRows[k] = append(segRows[k], i)
		if placed[j].AntiICP != nil {
			anti = append(anti, i)
		}
	}
	b.WinRateFalls = true
	prev := math.Inf(1)
	for _, tr := range icp.Tiers() {
		g := group(string(tr), byTier[tr])
		b.Tiers = append(b.Tiers, g)
		// The rate the tiers order is the positive rate (the win rate
		// under the won label; the share who stay in a churn table).
		if g.Evidence.Closed > 0 {
			if g.Evidence.PositiveRate > prev {
				b.WinRateFalls = false
			}
			prev = g.Evidence.PositiveRate
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
	b.Histogram = profile.ScoreHistogram{Positive: make([]int, 20), Negative: make([]int, 20)}
	for j, i := range holdRows {
		bin := min(19, max(0, int(probs[j]*20)))
		if od.lab.y[i] == 1 {
			b.Histogram.Positive[bin]++
		} else {
			b.Histogram.Negative[bin]++
		}
	}
	if len(holdRows) > 0 && totalPos > 0 {
		b.Gains = append(b.Gains, profile.GainPoint{})
		var got float64
		next := 1
		for r, j := range order {
			got += od.lab.y[holdRows[j]]
			for next <= 20 && float64(r+1) >= float64(next)*float64(len(holdRows))/20-1e-9 {
				share := float64(next) / 20
				b.Gains = append(b.Gains, profile.GainPoint{Share: share, Captured: got / totalPos, Lift: got / totalPos / share})
				next++
			}
		}
	}

	// The last 20 won and 20 lost deals, newest first.
	noIDs := t.Column(p.Schema.ID) == nil
	var won, lost int
	for j := len(holdRows) - 1; j >= 0 && (won < 20 || lost < 20); j-- {
		i := holdRows[j]
		w := od.lab.won[i]
		if p.Label.Target == profile.TargetRetained {
			w = od.lab.y[i] == 1 // every row is a won customer: show who stayed
		}
		if w && won >= 20 || !w && lost >= 20 {
			continue
		}
		if w {
			won++
		} else {
			lost++
		}
		d := profile.RecentDeal{AccountID: placed[j].AccountID, Won: w, Score: probs[j], Tier: tierOf[j]}
		if noIDs {
			d.AccountID = "row " + strconv.Itoa(i+1)
		}
		if closeDays != nil {
			d.CloseDate = profile.FormatDay(closeDays[i])
		}
		if s := placed[j].Segment; s != nil {
			d.Segment = s.ID
		}
		if a := placed[j].AntiICP; a != nil {
			d.AntiICP = a.ID
		}
		b.Recent = append(b.Recent, d)
	}
	return b, nil
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
