package train

import (
	"math"
	"sort"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/profile"
)

// maxImportanceRows caps the accounts explained to rank the columns.
const maxImportanceRows = 2000

// importance explains up to maxImportanceRows of the given rows of t,
// evenly spaced, and ranks the columns.
func importance(p *profile.Profile, t *datasets.Table, rows []int) (profile.Importance, error) {
	step := max(1, (len(rows)+maxImportanceRows-1)/maxImportanceRows)
	var sample []int
	for k := 0; k < len(rows); k += step {
		sample = append(sample, rows[k])
	}
	x, err := p.Encoder.Transform(t.Take(sample), nil)
	if err != nil {
		return profile.Importance{}, err
	}
	sums := make([]float64, len(p.Encoder.Columns))
	contrib := make([]float64, p.Encoder.Width)
	for i := range sample {
		p.Model.Explain(p.Encoder, x.RawRowView(i), contrib)
		for k, ce := range p.Encoder.Columns {
			s := 0.0
			for _, c := range contrib[ce.Offset : ce.Offset+ce.Width()] {
				s += c
			}
			sums[k] += math.Abs(s)
		}
	}
	imp := profile.Importance{Rows: len(sample)}
	for k, ce := range p.Encoder.Columns {
		imp.Columns = append(imp.Columns, profile.ColumnImportance{Column: ce.Name, MeanAbs: sums[k] / float64(len(sample))})
	}
	sort.SliceStable(imp.Columns, func(a, b int) bool { return imp.Columns[a].MeanAbs > imp.Columns[b].MeanAbs })
	return imp, nil
}
