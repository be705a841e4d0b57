package train

import (
	"fmt"
	"math"
	"sort"

	"github.com/icpengine/icp/profile"
)

// AntiConfig tunes the anti-ICP. The zero value is ready to use.
type AntiConfig struct {
	// MaxRatio is the most a rule's rate of good outcomes may be, as a
	// multiple of the base rate; zero means 0.3. A good outcome is a won
	// deal that did not churn and whose LTV reaches the LTVQuantile of won
	// accounts (each condition when its column is known).
	MaxRatio float64
	// LTVQuantile is the quantile of won accounts' LTV below which a won
	// account counts as a poor outcome; zero means 0.1, negative drops the
	// condition. It is low on purpose: small accounts have small LTVs, and
	// a high cut would make "small" the anti-ICP whatever their win rate.
	LTVQuantile float64
	// MinZ is the least binomial z statistic of the shortfall of good
	// outcomes on the holdout (the newest deals, which the rules are not
	// learned from), where a rule must also show at most half the base
	// rate of good outcomes; zero means 3.
	MinZ float64
	// MinShare is the least share of closed accounts a rule must cover;
	// zero means 0.01.
	MinShare float64
	// Depth is the depth of the surrogate tree; zero means 4.
	Depth int
}

// goodOutcomes marks the closed accounts with a good outcome: won, not
// churned, and LTV at or above the q quantile of won accounts' LTV (no
// condition when q <= 0), each condition applied when its column is known.
func goodOutcomes(od *outcomeData, q float64) ([]float64, string) {
	lab := od.lab
	var ltvs []float64
	for i, v := range lab.y {
		if !math.IsNaN(v) && lab.won[i] && od.ltv != nil && !math.IsNaN(od.ltv.Num[i]) {
			ltvs = append(ltvs, od.ltv.Num[i])
		}
	}
	thr := math.Inf(-1)
	def := "won deals"
	if od.churn != nil {
		def += " that did not churn (" + od.churn.Name + ")"
	}
	if len(ltvs) > 0 && q > 0 {
		sort.Float64s(ltvs)
		thr = ltvs[int(q*float64(len(ltvs)-1))]
		def += fmt.Sprintf(" with %s at or above %s, the %.0fth percentile of won accounts", od.ltv.Name, profile.FormatNumber(thr), 100*q)
	}
	good := make([]float64, len(lab.y))
	for i, v := range lab.y {
		switch {
		case math.IsNaN(v):
			good[i] = math.NaN()
		case !lab.won[i]:
		case od.churn != nil && od.churn.Num[i] == 1:
		case od.ltv != nil && od.ltv.Num[i] < thr:
		default:
			good[i] = 1
		}
	}
	return good, def
}

// findAntiICP learns the anti-ICP: a shallow tree on raw values separates
// good outcomes from the rest over the closed accounts, and each leaf
// whose rate of good outcomes is far and significantly below the base
// rate becomes a rule.
//
// It sets the profile's AntiICP.
func (r *trainRun) findAntiICP() error {
	a, err := r.antiICP()
	r.p.AntiICP = a
	return err
}

// antiICP is findAntiICP's search, on the columns segments cluster on.
func (r *trainRun) antiICP() (profile.AntiICP, error) {
	t, fitRows, holdRows, labeled, od, cfg := r.t, r.fit, r.hold, r.labeled, r.od, r.cfg.Anti
	cols, base := segmentColumns(r.p.Encoder, r.cfg.Segments), r.p.Baseline
	if cfg.MaxRatio == 0 {
		cfg.MaxRatio = 0.3
	}
	if cfg.MinZ == 0 {
		cfg.MinZ = 3
	}
	if cfg.MinShare == 0 {
		cfg.MinShare = 0.01
	}
	if cfg.Depth == 0 {
		cfg.Depth = 4
	}
	if cfg.LTVQuantile == 0 {
		cfg.LTVQuantile = 0.1
	}
	good, def := goodOutcomes(od, cfg.LTVQuantile)
	a := profile.AntiICP{Definition: def}
	rate := func(rows []int) float64 {
		var n float64
		for _, i := range rows {
			n += good[i]
		}
		return n / math.Max(1, float64(len(rows)))
	}
	a.BaseGoodRate = rate(labeled)
	fitRate, holdRate := rate(fitRows), rate(holdRows)
	if len(fitRows) == 0 || fitRate == 0 {
		return a, nil
	}
	rule, err := learnRule(t, r.p.Encoder, cols, fitRows, pick(good, fitRows), nil, ruleConfig{
		depth: cfg.Depth, minLeaf: max(5, len(fitRows)/200), purity: cfg.MaxRatio * fitRate, minCover: 0, low: true})
	if err != nil {
		return a, fmt.Errorf("find anti-ICP: %w", err)
	}
	for _, cl := range rule.Clauses {
		r := profile.Rule{Clauses: []profile.Clause{cl}}
		in := matching(&r, t, labeled)
		if float64(len(in)) < cfg.MinShare*float64(len(labeled)) {
			continue
		}
		var g int
		for _, i := range in {
			if good[i] == 1 {
				g++
			}
		}
		// The rule must hold up on the newest deals, which it was not
		// learned from: at most half the base rate of good outcomes there,
		// and significantly so.
		var hin, hg int
		for _, i := range holdRows {
			if r.Match(t, i) {
				hin++
				if good[i] == 1 {
					hg++
				}
			}
		}
		if hin == 0 || float64(hg)/float64(hin) > 0.5*holdRate || -zScore(hg, hin, holdRate) < cfg.MinZ {
			continue
		}
		ar := profile.AntiRule{Rule: r, RuleText: r.String(), GoodRate: float64(g) / float64(len(in))}
		ar.Evidence = od.evidence(in)
		against(&ar.Evidence, base)
		ar.LossRate = 1 - ar.Evidence.WinRate
		a.Rules = append(a.Rules, ar)
	}
	sort.SliceStable(a.Rules, func(x, y int) bool { return a.Rules[x].Evidence.Closed > a.Rules[y].Evidence.Closed })
	for k := range a.Rules {
		r := &a.Rules[k]
		r.ID = fmt.Sprintf("anti-%d", k+1)
		r.Summary = antiSummary(r, base, a.BaseGoodRate)
	}
	return a, nil
}

func antiSummary(r *profile.AntiRule, base profile.Evidence, baseGood float64) string {
	e := r.Evidence
	s := fmt.Sprintf("Accounts where %s: %d closed accounts", r.RuleText, e.Closed)
	if base.Won < base.Closed {
		s += fmt.Sprintf(", %s of their deals lost (%s overall)", profile.FormatPercent(r.LossRate), profile.FormatPercent(1-base.WinRate))
	}
	s += fmt.Sprintf("; %s end as good customers (%s overall)", profile.FormatPercent(r.GoodRate), profile.FormatPercent(baseGood))
	if e.HasChurn && base.HasChurn && e.Won > 0 {
		s += fmt.Sprintf("; %s of the won ones churn (%s overall)", profile.FormatPercent(e.ChurnRate), profile.FormatPercent(base.ChurnRate))
	}
	if e.HasCycle && base.HasCycle && e.Won > 0 {
		s += fmt.Sprintf("; won deals take a median %s days to close (%s overall)", profile.FormatNumber(e.MedianCycleDays), profile.FormatNumber(base.MedianCycleDays))
	}
	return s + "."
}
