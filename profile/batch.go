package profile

import (
	"context"
	"errors"
	"fmt"

	"github.com/icpengine/icp"
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
	x, err := p.Encoder.Transform(t, nil)
	if err != nil {
		return fmt.Errorf("score batch: %w", err)
	}
	var ids []string
	if p.Schema.ID != "" {
		if c := t.Column(p.Schema.ID); c != nil {
			ids = c.Str
		}
	}
	n := len(good)
	if attributions {
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

	// Without attributions: segments and distances first, on the encoded
	// rows as they are, then the margins of the whole matrix at once. The
	// segment and anti-ICP answers of a batch share one backing array each.
	segs := make([]icp.SegmentRef, 0, n)
	var antis []icp.AntiICPMatch
	for k := range n {
		i := at(k)
		var seg *icp.SegmentRef
		if s := segmentOf(p.Segments, t, k); s >= 0 {
			sg := &p.Segments[s]
			segs = append(segs, icp.SegmentRef{ID: sg.ID, Name: sg.Name, Rule: sg.RuleText, Distance: distance(x.RawRowView(k), sg.Centroid)})
			seg = &segs[len(segs)-1]
		}
		var anti *icp.AntiICPMatch
		if m := p.antiMatch(t, k); m != nil {
			if antis == nil {
				antis = make([]icp.AntiICPMatch, 0, n)
			}
			antis = append(antis, *m)
			anti = &antis[len(antis)-1]
		}
		dst[i] = icp.Score{ModelVersion: p.Version, Segment: seg, AntiICP: anti, AttributionScale: AttributionScale}
		if ids != nil {
			dst[i].AccountID = ids[k]
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	margins := p.Model.margins(p.Encoder, x)
	base := p.baseValue()
	for k := range n {
		sc := &dst[at(k)]
		sc.Margin = margins[k]
		sc.BaseValue = base
		sc.Score = p.Model.Calibration.Prob(margins[k])
		sc.Percentile = p.percentile(sc.Score)
		sc.Tier = p.Tiers.Tier(sc.Score)
	}
	return nil
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
