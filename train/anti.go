package train

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/icpengine/icp/profile"
)

// AntiConfig tunes the anti-ICP. The zero value is ready to use.
type AntiConfig struct {
	// MaxRatio is the most a rule's odds of a good outcome may be, as a
	// multiple of the base odds; zero means 0.3. A good outcome is a won
	// deal that did not churn (when churn is known) and, with LTVQuantile,
	// whose LTV reaches that quantile of won accounts. Odds rather
	// than rates, so that a disqualifier reads the same in a table where
	// most deals are lost and in one where most customers stay: 3% won
	// against 24% and 25% retained against 62% are both odds ratios near
	// 0.1 to 0.2, while 25% is 0.4 times 62%.
	MaxRatio float64
	// LTVQuantile, when positive, is the quantile of won accounts' LTV
	// below which a won account counts as a poor outcome; zero leaves LTV
	// out. It is left out by default: small accounts have small LTVs, so
	// any LTV cut makes "small" a disqualifier whatever its win and churn
	// rates, while the anti-ICP says who loses or churns; how much a
	// customer is worth is the ideal label's question.
	LTVQuantile float64
	// MinZ is the least binomial z statistic (by the exact tail) of the
	// shortfall of good outcomes on the holdout (the newest deals, which
	// the rules are not learned from), where a rule must also show at most
	// half the base odds of a good outcome; zero means 3. A holdout too
	// small to show that much accepts the 5% level, and the rule's
	// confidence says "moderate".
	MinZ float64
	// MinShare is the least share of closed accounts a rule must cover;
	// zero means 0.01.
	MinShare float64
	// Depth is the most conditions of a rule; zero means 4.
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

// findAntiICP learns the anti-ICP with the segments' rule search turned
// around (see subgroup.go): it looks for the largest groups of closed
// accounts whose odds of a good outcome stay under MaxRatio times the
// base odds, contrasting with that ceiling, so that a condition joins a
// rule when the accounts it removes do clearly better than the rule's
// own; one search after the other on what earlier rules leave. Each rule
// must hold up on the holdout.
//
// It sets the profile's AntiICP.
func (r *trainRun) findAntiICP() error {
	a := r.antiICP()
	r.p.AntiICP = a
	return nil
}

// antiICP is findAntiICP's search, on the columns segments use.
func (r *trainRun) antiICP() profile.AntiICP {
	t, fitRows, holdRows, labeled, od, cfg := r.t, r.fit, r.hold, r.labeled, r.od, r.cfg.Anti
	scfg := r.cfg.Segments
	scfg.defaults()
	cols, base := segmentColumns(r.p.Encoder, scfg), r.p.Baseline
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
		return a
	}
	views, rows := r.searchRows(cols, scfg)
	s := &searcher{views: views, y: good, a: 0.5, t: oddsTimes(fitRate, cfg.MaxRatio), low: true,
		minPos: math.Max(10, cfg.MinShare*float64(len(rows))), alpha: scfg.RefineAlpha, width: scfg.Width, depth: cfg.Depth}
	left := rows
	var found []profile.Rule
	for len(found) < scfg.MaxSegments {
		g, ok := s.search(left)
		if !ok {
			break
		}
		s.exactRanges(left, &g)
		s.orMissing(left, &g)
		if len(g.conds) == 0 || !s.supported(g.n, g.k) || g.k/g.n >= s.t {
			break
		}
		left = slices.DeleteFunc(slices.Clone(left), func(i int) bool { return s.matches(&g, i) })
		found = append(found, s.rule(&g))
	}
	merged := mergeRules(found, func(r *profile.Rule) counts { return holdoutOf(r, t, fitRows, good) }, true)
	for _, rule := range merged {
		in := matching(&rule, t, labeled)
		var gd int
		for _, i := range in {
			if good[i] == 1 {
				gd++
			}
		}
		// The rule must hold up on the newest deals, which it was not
		// learned from: at most half the base odds of a good outcome
		// there, and significantly so (see antiConfidence).
		var hin, hg int
		for _, i := range holdRows {
			if rule.Match(t, i) {
				hin++
				if good[i] == 1 {
					hg++
				}
			}
		}
		var fit counts
		for _, i := range fitRows {
			if rule.Match(t, i) {
				fit.n++
				fit.k += good[i]
			}
		}
		conf := antiConfidence(counts{float64(hin), float64(hg)}, holdRate, profile.Wilson(int(fit.k), int(fit.n)).Hi, cfg.MinZ, len(merged))
		if conf == "" {
			continue
		}
		ar := profile.AntiRule{Rule: rule, RuleText: rule.String(), GoodRate: float64(gd) / float64(max(1, len(in))), Confidence: conf}
		ar.GoodRateInterval = profile.Wilson(gd, len(in))
		ar.Evidence = od.evidence(in)
		against(&ar.Evidence, base)
		ar.LossRate = 1 - ar.Evidence.WinRate
		a.Rules = append(a.Rules, ar)
	}
	for k := range a.Rules {
		r := &a.Rules[k]
		r.ID = fmt.Sprintf("anti-%d", k+1)
		r.Summary = antiSummary(r, base, a.BaseGoodRate)
	}
	return a
}

// antiConfidence judges an anti-ICP rule by its holdout counts he (good
// outcomes among he.n accounts) against the holdout's rate of good
// outcomes base: it must show at most half the base odds, and the
// shortfall must be significant, by the exact binomial tail: at z =
// minZ for confidence high, or, for moderate, at the 5% level divided by
// the m rules judged when the holdout could not have shown more even at
// trainRate (the high end of the rule's training rate). "" when the
// holdout does not bear it out.
func antiConfidence(he counts, base, trainRate, minZ float64, m int) string {
	if he.n == 0 || he.k/he.n > oddsTimes(base, 0.5) {
		return ""
	}
	tail := 1.0
	if base < 1 {
		tail = distuv.Binomial{N: he.n, P: base}.CDF(he.k)
	}
	if tail <= distuv.UnitNormal.CDF(-minZ) {
		return profile.ConfidenceHigh
	}
	reach := 0.0
	if base > 0 && base < 1 {
		reach = (base - trainRate) * math.Sqrt(he.n) / math.Sqrt(base*(1-base))
	}
	if reach < minZ && tail <= 0.05/float64(max(1, m)) {
		return profile.ConfidenceModerate
	}
	return ""
}

// oddsTimes returns the rate whose odds are m times the odds of rate p.
func oddsTimes(p, m float64) float64 {
	if p >= 1 {
		return 1
	}
	o := m * p / (1 - p)
	return o / (1 + o)
}

// matches reports whether row i meets every condition of g.
func (s *searcher) matches(g *subgroup, i int) bool {
	for j := range g.conds {
		if !s.holds(&g.conds[j], i) {
			return false
		}
	}
	return true
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
