package train

import (
	"math"
	"sort"

	"github.com/icpengine/icp/profile"
)

// maxImportanceRows caps the accounts explained to rank the columns.
const maxImportanceRows = 2000

// importance explains up to maxImportanceRows of the labeled rows, evenly
// spaced, and ranks the columns.
func (r *trainRun) importance() error {
	p, rows := r.p, r.labeled
	step := max(1, (len(rows)+maxImportanceRows-1)/maxImportanceRows)
	var sample []int
	for k := 0; k < len(rows); k += step {
		sample = append(sample, rows[k])
	}
	sums := make([]float64, len(p.Encoder.Columns))
	x := make([]float64, p.Encoder.Width)
	contrib := make([]float64, p.Encoder.Width)
	for _, i := range sample {
		copy(x, r.all.RawRowView(i))
		p.Model.Explain(x, contrib)
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
	p.Importance = imp
	return nil
}
