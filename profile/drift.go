package profile

import (
	"math"
	"strings"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/drift"
	"github.com/icpengine/icp/features"
)

// driftValues returns the drift view of row i of t: numeric features (dates
// in years) by column name, and categorical ones, where a boolean is "true"
// or "false" and a tag list becomes one "true"/"false" feature per tag the
// encoder knows, named "column has tag".
func (p *Profile) driftValues(t *datasets.Table, i int, num map[string]float64, cat map[string]string) {
	for k := range p.Encoder.Columns {
		ce := &p.Encoder.Columns[k]
		col := t.Column(ce.Name)
		missing := col == nil || col.IsMissing(i)
		switch ce.Role {
		case features.RoleNumeric, features.RoleDate:
			v := math.NaN()
			if !missing {
				v = col.Num[i]
				if ce.Role == features.RoleDate {
					v /= 365.25
				}
			}
			num[ce.Name] = v
		case features.RoleBoolean:
			cat[ce.Name] = ""
			if !missing {
				cat[ce.Name] = boolText(col.Num[i] == 1)
			}
		case features.RoleCategorical:
			cat[ce.Name] = ""
			if !missing {
				cat[ce.Name] = col.Text(i)
			}
		case features.RoleTags:
			var have map[string]bool
			if !missing {
				have = make(map[string]bool)
				for _, tag := range strings.Split(col.Str[i], ce.Separator) {
					have[strings.TrimSpace(tag)] = true
				}
			}
			for _, tag := range ce.Levels {
				name := ce.Name + " has " + tag
				cat[name] = ""
				if !missing {
					cat[name] = boolText(have[tag])
				}
			}
		}
	}
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// DriftRow returns the drift monitor's view of one account: its feature
// values as the reference holds them, and its score and tier.
func (p *Profile) DriftRow(acc icp.Account, s icp.Score) (drift.Row, error) {
	t, err := p.Schema.Table([]icp.Account{acc})
	if err != nil {
		return drift.Row{}, err
	}
	row := drift.Row{Num: make(map[string]float64), Cat: make(map[string]string), Score: s.Score, Tier: s.Tier}
	p.driftValues(t, 0, row.Num, row.Cat)
	return row, nil
}

// driftReference builds the reference distributions drift is measured
// against: every feature over the training rows, the scores and tier mix of
// all rows, the scores of won accounts, and the share of holdout winners the
// validation model placed in tier 3 or non-fit.
func (p *Profile) driftReference(t *datasets.Table, scores []float64, lab *labels, holdWinnerScores []float64) *drift.Reference {
	n := t.Rows()
	nums := make(map[string][]float64)
	cats := make(map[string][]string)
	num, cat := make(map[string]float64), make(map[string]string)
	for i := 0; i < n; i++ {
		p.driftValues(t, i, num, cat)
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
		ref.Tiers[p.Tiers.Tier(sc)] += 1 / float64(n)
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
	return ref
}
