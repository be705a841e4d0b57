package train

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/profile"
)

// outcomeData holds the outcome columns of a table for evidence.
type outcomeData struct {
	lab                *labels
	ltv, churn, cycle  *datasets.Column
	totalWon, totalPos int
}

func newOutcomeData(t *datasets.Table, s *features.Schema, lab *labels) *outcomeData {
	o := &outcomeData{lab: lab,
		ltv:   numColumn(t, s.Outcomes.LTV),
		churn: numColumn(t, s.Outcomes.Churned),
		cycle: numColumn(t, s.Outcomes.CycleDays)}
	for i, v := range lab.y {
		if math.IsNaN(v) {
			continue
		}
		if lab.won[i] {
			o.totalWon++
		}
		if v == 1 {
			o.totalPos++
		}
	}
	return o
}

func numColumn(t *datasets.Table, name string) *datasets.Column {
	c := outcomeColumn(t, name)
	if c == nil || c.Kind == datasets.String {
		return nil
	}
	return c
}

// evidence sums up rows; no rows give empty evidence.
func (o *outcomeData) evidence(rows []int) profile.Evidence {
	var e profile.Evidence
	var ltvs, cycles []float64
	var churned, churnKnown int
	for _, i := range rows {
		e.Accounts++
		y := o.lab.y[i]
		if math.IsNaN(y) {
			continue
		}
		e.Closed++
		if y == 1 {
			e.Positives++
		}
		if !o.lab.won[i] {
			continue
		}
		e.Won++
		if o.ltv != nil && !math.IsNaN(o.ltv.Num[i]) {
			ltvs = append(ltvs, o.ltv.Num[i])
		}
		if o.cycle != nil && !math.IsNaN(o.cycle.Num[i]) {
			cycles = append(cycles, o.cycle.Num[i])
		}
		if o.churn != nil && !math.IsNaN(o.churn.Num[i]) {
			churnKnown++
			if o.churn.Num[i] == 1 {
				churned++
			}
		}
	}
	if e.Closed > 0 {
		e.WinRate = float64(e.Won) / float64(e.Closed)
		e.PositiveRate = float64(e.Positives) / float64(e.Closed)
		e.WinRateInterval = profile.Wilson(e.Won, e.Closed)
		e.PositiveRateInterval = profile.Wilson(e.Positives, e.Closed)
	}
	if o.totalWon > 0 {
		e.ShareOfWins = float64(e.Won) / float64(o.totalWon)
	}
	if o.totalPos > 0 {
		e.ShareOfPositives = float64(e.Positives) / float64(o.totalPos)
	}
	if len(ltvs) > 0 {
		e.MedianLTV, e.HasLTV = median(ltvs), true
	}
	if len(cycles) > 0 {
		e.MedianCycleDays, e.HasCycle = median(cycles), true
	}
	if churnKnown > 0 {
		e.ChurnRate, e.HasChurn = float64(churned)/float64(churnKnown), true
		e.ChurnRateInterval = profile.Wilson(churned, churnKnown)
	}
	return e
}

// against fills the lifts of e against the baseline b.
func against(e *profile.Evidence, b profile.Evidence) {
	ratio := func(a, b float64, ok bool) float64 {
		if !ok || b == 0 {
			return 0
		}
		return a / b
	}
	e.WinLift = ratio(e.WinRate, b.WinRate, e.Closed > 0)
	e.Lift = ratio(e.PositiveRate, b.PositiveRate, e.Closed > 0)
	e.LTVLift = ratio(e.MedianLTV, b.MedianLTV, e.HasLTV && b.HasLTV)
	e.ChurnLift = ratio(e.ChurnRate, b.ChurnRate, e.HasChurn && b.HasChurn)
	e.CycleRatio = ratio(e.MedianCycleDays, b.MedianCycleDays, e.HasCycle && b.HasCycle)
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return stat.Quantile(0.5, stat.Empirical, s, nil)
}

// matching returns the rows of rows that match r.
func matching(r *profile.Rule, t *datasets.Table, rows []int) []int {
	var out []int
	for _, i := range rows {
		if r.Match(t, i) {
			out = append(out, i)
		}
	}
	return out
}

// zScore is the one-sided binomial z statistic of k successes in n trials
// against rate p: positive when k is above n*p.
func zScore(k, n int, p float64) float64 {
	if n == 0 || p <= 0 || p >= 1 {
		return 0
	}
	return (float64(k) - float64(n)*p) / math.Sqrt(float64(n)*p*(1-p))
}
