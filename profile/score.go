package profile

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/mat"

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
	var s [1]icp.Score
	err = p.scoreRows(ctx, rows{t: t, accs: []icp.Account{acc}}, true, s[:])
	return s[0], err
}

// ScoreTable scores every row of t, which has the training table's
// columns (a CSV of accounts to rank, open deals included), as Score
// would; without attributions the scores carry none (nil), as ScoreBatch
// gives them. x, when not nil, holds the rows of t as p.Encoder.Transform
// encodes them, for callers that have encoded them already; nil encodes
// them here. A column whose kind differs from the training table's is an
// error.
func (p *Profile) ScoreTable(t *datasets.Table, x *mat.Dense, attributions bool) ([]icp.Score, error) {
	if x == nil {
		var err error
		if x, err = p.Encoder.Transform(t, nil); err != nil {
			return nil, fmt.Errorf("score table: %w", err)
		}
	} else if r, c := x.Dims(); r < t.Rows() || c != p.Encoder.Width {
		panic("profile: ScoreTable: x does not hold the rows of t")
	}
	out := make([]icp.Score, t.Rows())
	if err := p.scoreRows(context.Background(), rows{t: t, x: x}, attributions, out); err != nil {
		return nil, fmt.Errorf("score table: %w", err)
	}
	return out, nil
}

// Predict returns the calibrated score of every row of t, without
// attributions, segments or tiers: the fast path for the scores alone.
func (p *Profile) Predict(t *datasets.Table) ([]float64, error) {
	x, err := p.Encoder.Transform(t, nil)
	if err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	return p.Model.Probs(x)[:t.Rows()], nil
}

// rows are the accounts scoreRows scores: a table of them, and how to
// reach their encoding, their raw fields and their place in the answer.
type rows struct {
	t *datasets.Table
	// x holds the rows of t encoded; nil encodes each row when it is
	// scored.
	x *mat.Dense
	// accs are the raw accounts of the rows, whose values attributions
	// carry; nil reads them from t.
	accs []icp.Account
	// at is the index in dst of each row; nil puts row k at dst[k].
	at []int
}

// scoreRows is the one scoring path: Score, ScoreBatch, ScoreTable and
// WarmUp (through Score) all come here. It scores each row of r into its
// place in dst.
//
// The segment is the first whose rule the raw row matches: the rules are
// what people read in the report, so membership follows them rather than
// the nearest cluster centre. Distance is still the distance to that
// segment's centre in the encoded space, taken before the model may mark
// missing values in the row.
//
// With attributions each row is explained: its attributions are summed
// back to the original columns and carry the raw values. Without, the
// margin comes from the model's plain prediction, which skips the
// explanation (for boosted trees most of the cost of a score), the base
// value is computed once, and Attributions is nil.
//
// It returns a non-nil error only when ctx is done; dst is then partly
// written.
func (p *Profile) scoreRows(ctx context.Context, r rows, attributions bool, dst []icp.Score) error {
	n := r.t.Rows()
	w := p.Encoder.Width
	buf := make([]float64, 2*w)
	x, contrib := buf[:w], buf[w:]
	var ids *datasets.Column
	if p.Schema.ID != "" {
		ids = r.t.Column(p.Schema.ID)
	}
	var base float64
	if !attributions {
		base = p.Model.baseValue(w)
	}
	fields := p.completenessFields(r.t)
	// The missing fields of every row share one backing array.
	var missing []string
	// The segment and anti-ICP answers share one backing array each.
	var segs []icp.SegmentRef
	var antis []icp.AntiICPMatch
	vs := p.newValueScorer(n)
	for k := range n {
		if k%256 == 255 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if r.x != nil {
			copy(x, r.x.RawRowView(k))
		} else {
			p.Encoder.EncodeRow(r.t, k, x)
		}
		var seg *icp.SegmentRef
		if s := SegmentOf(p.Segments, r.t, k); s >= 0 {
			if segs == nil {
				segs = make([]icp.SegmentRef, 0, n)
			}
			sg := &p.Segments[s]
			_, conds, missing := sg.Rule.MatchMissing(r.t, k)
			segs = append(segs, icp.SegmentRef{ID: sg.ID, Name: sg.Name, Rule: sg.RuleText, Distance: model.Distance(x, sg.Centroid),
				Conditions: conds, MissingConditions: missing, Sparse: conds > 0 && 2*missing >= conds})
			seg = &segs[len(segs)-1]
		}
		var anti *icp.AntiICPMatch
		if m := p.antiMatch(r.t, k); m >= 0 {
			if antis == nil {
				antis = make([]icp.AntiICPMatch, 0, n)
			}
			a := &p.AntiICP.Rules[m]
			antis = append(antis, icp.AntiICPMatch{ID: a.ID, Rule: a.RuleText, LossRate: a.LossRate})
			anti = &antis[len(antis)-1]
		}
		var s icp.Score
		if attributions {
			margin, b := p.Model.Explain(x, contrib)
			s = p.scoreOf(margin, b, seg, anti)
			acc := r.account(k)
			s.Attributions = p.group(contrib, acc)
			vs.explain(&s, x, contrib, acc)
		} else {
			s = p.scoreOf(p.Model.kind.margin(x), base, seg, anti)
			vs.score(&s, x)
		}
		s.Completeness, s.MissingFields, missing = fields.of(k, missing)
		if ids != nil {
			s.AccountID = ids.Text(k)
		}
		if r.at != nil {
			dst[r.at[k]] = s
		} else {
			dst[k] = s
		}
	}
	return nil
}

// account returns the raw fields of row k.
func (r *rows) account(k int) icp.Account {
	if r.accs != nil {
		return r.accs[k]
	}
	return r.t.Account(k)
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

// group sums contributions back to the original columns, largest absolute
// contribution first (ties by column name), with the raw values of acc.
func (p *Profile) group(contrib []float64, acc icp.Account) []icp.Attribution {
	out := make([]icp.Attribution, 0, len(p.Encoder.Columns))
	for _, ce := range p.Encoder.Columns {
		sum := 0.0
		for _, c := range contrib[ce.Offset : ce.Offset+ce.Width()] {
			sum += c
		}
		out = append(out, icp.Attribution{Feature: ce.Name, Value: acc[ce.Name], Contribution: sum})
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

// completeness weighs the columns the model uses by their importance, to
// say how much of it a row sent (icp.Score.Completeness).
type completeness struct {
	cols   []*datasets.Column
	names  []string
	weight []float64
	total  float64
}

// completenessFields returns the model's columns in t, most important
// first, with their importance; without importance figures (or with all
// of them zero) every column weighs the same.
func (p *Profile) completenessFields(t *datasets.Table) completeness {
	var c completeness
	imp := make(map[string]float64, len(p.Importance.Columns))
	for _, ci := range p.Importance.Columns {
		imp[ci.Column] = ci.MeanAbs
	}
	names := make([]string, 0, len(p.Encoder.Columns))
	for _, ce := range p.Encoder.Columns {
		names = append(names, ce.Name)
	}
	slices.SortStableFunc(names, func(a, b string) int {
		switch {
		case imp[a] > imp[b]:
			return -1
		case imp[a] < imp[b]:
			return 1
		}
		return 0
	})
	var sum float64
	for _, n := range names {
		sum += imp[n]
	}
	for _, n := range names {
		w := imp[n]
		if !(sum > 0) {
			w = 1
		}
		c.cols = append(c.cols, t.Column(n))
		c.names = append(c.names, n)
		c.weight = append(c.weight, w)
		c.total += w
	}
	return c
}

// of returns the share of the importance row k sent and the columns it
// did not send, the most important first, appended to buf (returned
// grown) and returned as their own slice.
func (c *completeness) of(k int, buf []string) (float64, []string, []string) {
	if c.total == 0 {
		return 1, nil, buf
	}
	var sent float64
	from := len(buf)
	for j, col := range c.cols {
		if col == nil || col.IsMissing(k) {
			buf = append(buf, c.names[j])
			continue
		}
		sent += c.weight[j]
	}
	if len(buf) == from {
		return sent / c.total, nil, buf
	}
	return sent / c.total, buf[from:len(buf):len(buf)], buf
}
