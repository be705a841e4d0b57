package train

import (
	"github.com/icpengine/icp"
	"github.com/icpengine/icp/drift"
)

// driftReference builds the reference distributions drift is measured
// against: every feature over the training rows, the scores and tier mix of
// all rows, the scores of won accounts, and the share of holdout winners the
// validation model placed in tier 3 or non-fit.
func (r *trainRun) driftReference() error {
	p, t, scores, lab := r.p, r.t, r.scores, r.lab
	var holdWinnerScores []float64
	for j, i := range r.hold {
		if lab.won[i] {
			holdWinnerScores = append(holdWinnerScores, r.holdTierKey(j, r.holdProbs[j]))
		}
	}
	n := t.Rows()
	nums := make(map[string][]float64)
	cats := make(map[string][]string)
	num, cat := make(map[string]float64), make(map[string]string)
	for i := 0; i < n; i++ {
		p.DriftValues(t, i, num, cat)
		for k, v := range num {
			nums[k] = append(nums[k], v)
		}
		for k, v := range cat {
			cats[k] = append(cats[k], v)
		}
	}
	ref := &drift.Reference{Tiers: make(map[icp.Tier]float64)}
	for k, v := range nums {
		ref.Numeric = append(ref.Numeric, drift.NewNumericRef(k, v))
	}
	for k, v := range cats {
		ref.Categorical = append(ref.Categorical, drift.NewCategoricalRef(k, v))
	}
	ref.Sort()
	s := drift.NewNumericRef("score", scores)
	ref.Score = &s
	var won []float64
	for i, sc := range scores {
		ref.Tiers[p.Tiers.Tier(r.rowTierKey(i, sc))] += 1 / float64(n)
		if lab.won[i] {
			won = append(won, sc)
		}
	}
	if len(won) > 0 {
		w := drift.NewNumericRef("winner_score", won)
		ref.WinnerScores = &w
	}
	outside := 0
	for _, sc := range holdWinnerScores {
		if tier := p.Tiers.Tier(sc); tier == icp.Tier3 || tier == icp.NonFit {
			outside++
		}
	}
	if len(holdWinnerScores) > 0 {
		ref.ExpectedOutsideShare = float64(outside) / float64(len(holdWinnerScores))
	}
	p.Drift = ref
	return nil
}
