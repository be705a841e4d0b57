package profile

import (
	"context"
	"errors"
	"fmt"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/model"
)

// ModelVersion returns the version of the profile, the one its scores
// name. Servers use it to name the model in answers that hold no score,
// such as an empty batch.
func (p *Profile) ModelVersion() string { return p.Version }

// ScoreBatch scores each account of accs into dst[i], as Score would, or
// sets errs[i] to the account's *icp.ValidationError (field names without
// an index) and leaves dst[i] zero. The accounts are parsed and encoded as
// one table, which is what makes a batch faster than as many calls of
// Score.
//
// When attributions is false the scores carry no attributions (nil) and
// the margins come from the model's batch prediction, which skips the
// per-account explanation: for boosted trees that is most of the cost of
// a score. Every other field is the same as Score gives.
//
// It returns a non-nil error only when ctx is done before the batch is
// scored; dst and errs are then partly written. It panics when dst or errs
// is not as long as accs.
func (p *Profile) ScoreBatch(ctx context.Context, accs []icp.Account, attributions bool, dst []icp.Score, errs []error) error {
	if len(dst) != len(accs) || len(errs) != len(accs) {
		panic("profile: ScoreBatch: dst and errs must be as long as accs")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	clear(errs)
	good := accs
	var idx []int // positions in accs of good, nil when all are good
	if len(accs) == 0 {
		return nil
	}
	t, err := p.Schema.Table(accs)
	if err != nil {
		// Find the bad accounts one by one, each with its own field
		// errors, then build the table of the others.
		var verr *icp.ValidationError
		if !errors.As(err, &verr) {
			return fmt.Errorf("score batch: %w", err)
		}
		good, idx = make([]icp.Account, 0, len(accs)), make([]int, 0, len(accs))
		for i, acc := range accs {
			if _, err := p.Schema.Table([]icp.Account{acc}); err != nil {
				errs[i] = err
				dst[i] = icp.Score{}
				continue
			}
			good, idx = append(good, acc), append(idx, i)
		}
		if len(good) == 0 {
			return nil
		}
		if t, err = p.Schema.Table(good); err != nil {
			return fmt.Errorf("score batch: %w", err)
		}
	}
	at := func(k int) int {
		if idx == nil {
			return k
		}
		return idx[k]
	}
	var ids []string
	if p.Schema.ID != "" {
		if c := t.Column(p.Schema.ID); c != nil {
			ids = c.Str
		}
	}
	n := len(good)
	if attributions {
		x, err := p.Encoder.Transform(t, nil)
		if err != nil {
			return fmt.Errorf("score batch: %w", err)
		}
		contrib := make([]float64, p.Encoder.Width)
		for k := range n {
			if k%256 == 255 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			i := at(k)
			acc := good[k]
			dst[i] = p.scoreRow(t, k, x.RawRowView(k), contrib)
			dst[i].Attributions = p.group(contrib, func(col string) any { return acc[col] })
			if ids != nil {
				dst[i].AccountID = ids[k]
			}
		}
		return nil
	}

	// Without attributions each row is encoded into one reused buffer and
	// scored by the model's plain margin, as Score does less the
	// explanation. The segment and anti-ICP answers of a batch share one
	// backing array each.
	x := make([]float64, p.Encoder.Width)
	segs := make([]icp.SegmentRef, 0, n)
	var antis []icp.AntiICPMatch
	base := p.baseValue()
	for k := range n {
		if k%1024 == 1023 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		p.Encoder.EncodeRow(t, k, x)
		var seg *icp.SegmentRef
		// Distances are taken before the model may mark missing values.
		if s := SegmentOf(p.Segments, t, k); s >= 0 {
			sg := &p.Segments[s]
			segs = append(segs, icp.SegmentRef{ID: sg.ID, Name: sg.Name, Rule: sg.RuleText, Distance: model.Distance(x, sg.Centroid)})
			seg = &segs[len(segs)-1]
		}
		var anti *icp.AntiICPMatch
		if m := p.AntiMatch(t, k); m != nil {
			if antis == nil {
				antis = make([]icp.AntiICPMatch, 0, n)
			}
			antis = append(antis, *m)
			anti = &antis[len(antis)-1]
		}
		sc := p.scoreOf(p.Model.margin(p.Encoder, x), base, seg, anti)
		if ids != nil {
			sc.AccountID = ids[k]
		}
		dst[at(k)] = sc
	}
	return nil
}

// margin returns the model's margin for one encoded row x, as explain
// does without the attributions. x is changed (missing values marked) for
// boosted trees.
func (m *Model) margin(enc *features.Encoder, x []float64) float64 {
	if m.Kind == KindGBM {
		enc.MarkMissing(x)
		return m.GBM.Margin(x)
	}
	return m.Logistic.Margin(x)
}

// baseValue returns the base value of the model's attributions, which does
// not depend on the account: the expected margin over the training data.
func (p *Profile) baseValue() float64 {
	contrib := make([]float64, p.Encoder.Width)
	x := make([]float64, p.Encoder.Width)
	if p.Model.Kind == KindGBM {
		base, _ := p.Model.GBM.SHAP(x, contrib)
		return base
	}
	base, _ := p.Model.Logistic.Attributions(x, p.Model.Ref, contrib)
	return base
}
