package profile

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/model"
)

// AttributionScale names the scale of attributions: the model's margin, in
// log-odds. Base value plus contributions equals the margin exactly; the
// score is the calibrated probability of the margin, an increasing
// function of it.
const AttributionScale = "log_odds"

// Score scores one account given as raw JSON fields. Bad fields give an
// *icp.ValidationError naming each of them.
func (p *Profile) Score(ctx context.Context, acc icp.Account) (icp.Score, error) {
	if err := ctx.Err(); err != nil {
		return icp.Score{}, err
	}
	t, err := p.Schema.Table([]icp.Account{acc})
	if err != nil {
		return icp.Score{}, err
	}
	x := make([]float64, 2*p.Encoder.Width)
	x, contrib := x[:p.Encoder.Width], x[p.Encoder.Width:]
	p.Encoder.EncodeRow(t, 0, x)
	s := p.scoreRow(t, 0, x, contrib)
	s.Attributions = p.group(contrib, func(col string) any { return acc[col] })
	if p.Schema.ID != "" {
		if c := t.Column(p.Schema.ID); c != nil {
			s.AccountID = c.Str[0]
		}
	}
	return s, nil
}

// scoreRow scores row i of t, encoded as x, and writes the
// per-encoded-column contributions into contrib. x may be changed.
//
// The segment is the first whose rule the raw row matches: the rules are
// what people read in the report, so membership follows them rather than
// the nearest cluster centre. Distance is still the distance to that
// segment's centre in the encoded space.
func (p *Profile) scoreRow(t *datasets.Table, i int, x, contrib []float64) icp.Score {
	// Distances are taken on the encoded row before the model may mark
	// missing values in it.
	var seg *icp.SegmentRef
	if k := SegmentOf(p.Segments, t, i); k >= 0 {
		sg := &p.Segments[k]
		seg = &icp.SegmentRef{ID: sg.ID, Name: sg.Name, Rule: sg.RuleText, Distance: model.Distance(x, sg.Centroid)}
	}
	anti := p.AntiMatch(t, i)
	margin, base := p.Model.Explain(p.Encoder, x, contrib)
	return p.scoreOf(margin, base, seg, anti)
}

// scoreOf is the answer, without attributions, for a row of the given
// margin and base value that falls in seg and matches anti (either nil).
func (p *Profile) scoreOf(margin, base float64, seg *icp.SegmentRef, anti *icp.AntiICPMatch) icp.Score {
	score := p.Model.Calibration.Prob(margin)
	return icp.Score{
		ModelVersion:     p.Version,
		Score:            score,
		Percentile:       p.percentile(score),
		Tier:             p.Tiers.Tier(score),
		Segment:          seg,
		AntiICP:          anti,
		Margin:           margin,
		BaseValue:        base,
		AttributionScale: AttributionScale,
	}
}

// Predict returns the calibrated score of every row of t, without
// attributions: the fast path for batches.
func (p *Profile) Predict(t *datasets.Table) ([]float64, error) {
	x, err := p.Encoder.Transform(t, nil)
	if err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	return p.Model.Probs(p.Encoder, x)[:t.Rows()], nil
}

// group sums contributions back to the original columns, largest absolute
// contribution first (ties by column name).
func (p *Profile) group(contrib []float64, value func(col string) any) []icp.Attribution {
	out := make([]icp.Attribution, 0, len(p.Encoder.Columns))
	for _, ce := range p.Encoder.Columns {
		sum := 0.0
		for _, c := range contrib[ce.Offset : ce.Offset+ce.Width()] {
			sum += c
		}
		out = append(out, icp.Attribution{Feature: ce.Name, Value: value(ce.Name), Contribution: sum})
	}
	slices.SortStableFunc(out, func(a, b icp.Attribution) int {
		da, db := math.Abs(a.Contribution), math.Abs(b.Contribution)
		if da != db {
			if da > db {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Feature, b.Feature)
	})
	return out
}

// ScoreTable scores every row of t, which has the training table's
// columns (a CSV of accounts to rank, open deals included).
func (p *Profile) ScoreTable(t *datasets.Table) ([]icp.Score, error) {
	x, err := p.Encoder.Transform(t, nil)
	if err != nil {
		return nil, fmt.Errorf("score table: %w", err)
	}
	var ids *datasets.Column
	if p.Schema.ID != "" {
		ids = t.Column(p.Schema.ID)
	}
	out := make([]icp.Score, t.Rows())
	contrib := make([]float64, p.Encoder.Width)
	for i := range out {
		out[i] = p.scoreRow(t, i, x.RawRowView(i), contrib)
		acc := t.Account(i)
		out[i].Attributions = p.group(contrib, func(col string) any { return acc[col] })
		if ids != nil {
			out[i].AccountID = ids.Text(i)
		}
	}
	return out, nil
}
