package profile

import (
	"math"
	"strings"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/drift"
	"github.com/icpengine/icp/features"
)

// DriftValues returns the drift view of row i of t: numeric features (dates
// in years) by column name, and categorical ones, where a boolean is "true"
// or "false" and a tag list becomes one "true"/"false" feature per tag the
// encoder knows, named "column has tag".
func (p *Profile) DriftValues(t *datasets.Table, i int, num map[string]float64, cat map[string]string) {
	at := 0
	for k := range p.Encoder.Columns {
		ce := &p.Encoder.Columns[k]
		var col *datasets.Column
		col, at = features.ColumnFrom(t, ce.Name, at)
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
	p.DriftValues(t, 0, row.Num, row.Cat)
	return row, nil
}
