package profile

import (
	"context"
	"fmt"
	"math"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/features"
)

// warmUpTolerance bounds |base value + contributions - margin| in a warm-up
// score: the attributions of a sound model add up to its margin.
const warmUpTolerance = 1e-6

// maxBaseRateGap bounds, on the log-odds scale, how far the mean
// calibrated score of the warm-up accounts may lie from the base rate the
// artifact records (its label counts): e^4, a factor of about 55 on the
// odds. Models trained here land well within it (within 0.8 on the sample,
// generated, telco, startup and Crunchbase tables), since the warm-up
// accounts sit at the training medians and levels; a calibration shifted
// or saturated by hand does not.
const maxBaseRateGap = 4.0

// constantSpread is the spread of warm-up scores below which a model is
// taken to score every account alike.
const constantSpread = 1e-9

// warmUpZ are the standard scores, in units of the training deviation
// around the training mean, that the warm-up accounts take in turn for
// numeric columns (0 is the median itself).
var warmUpZ = [...]float64{0, -1, 1, -2, 2, 0.5, -0.5}

// WarmUp scores n accounts made from the fitted encoder (the first with
// every field missing, the others near the training data: numbers at the
// median and at a few deviations around the mean, each category, tag and
// boolean in turn) and checks each answer: a finite score in [0, 1], a
// known tier, attributions naming every feature column and adding up to
// the margin. With two accounts or more it also checks the model as a
// whole: the scores are not all the same where the margins differ or
// where no feature can change them, and their mean lies within
// maxBaseRateGap log-odds of the base rate the artifact records, so that a
// model whose parameters saturate every score, or whose calibration was
// shifted, is refused.
//
// It is what a server runs on a newly loaded model before routing traffic
// to it, so that a model that cannot score fails there and not on a
// customer's request, and so that the first requests do not pay for cold
// caches. A panic while scoring is returned as an error: a model that
// would crash the server is refused, not served. n below 1 means 1.
func (p *Profile) WarmUp(ctx context.Context, n int) (err error) {
	i := 0
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("warm up: account %d: scoring panicked: %v", i, r)
		}
	}()
	n = max(n, 1)
	lo, hi, sum := math.Inf(1), math.Inf(-1), 0.0
	loM, hiM := math.Inf(1), math.Inf(-1)
	for ; i < n; i++ {
		acc := p.warmUpAccount(i)
		s, err := p.Score(ctx, acc)
		if err != nil {
			return fmt.Errorf("warm up: account %d: %w", i, err)
		}
		if err := p.checkScore(s); err != nil {
			return fmt.Errorf("warm up: account %d: %w", i, err)
		}
		lo, hi, sum = min(lo, s.Score), max(hi, s.Score), sum+s.Score
		loM, hiM = min(loM, s.Margin), max(hiM, s.Margin)
	}
	if n < 2 {
		return nil
	}
	// One score for every account is refused where it cannot come from
	// the data: margins that differ mapped to one score (a saturated
	// base or calibration), or a model no feature can move. A fitted
	// model may well give these few accounts, each one field away from
	// the training medians, one margin (trees that split on rarer levels).
	switch {
	case hi-lo < constantSpread && hiM-loM >= constantSpread:
		return fmt.Errorf("warm up: every one of %d accounts scores %v, though their margins range from %.4g to %.4g: the model does not tell accounts apart", n, lo, loM, hiM)
	case hi-lo < constantSpread && !p.Model.kind.usesFeatures():
		return fmt.Errorf("warm up: every one of %d accounts scores %v and no feature moves the margin: the model does not tell accounts apart", n, lo)
	}
	if rate, ok := p.baseRate(); ok {
		mean := sum / float64(n)
		if gap := logOdds(mean) - logOdds(rate); math.Abs(gap) > maxBaseRateGap {
			return fmt.Errorf("warm up: the mean score of %d accounts is %.3g, %.1f log-odds from the base rate %.3g the model was trained on (at most %g)",
				n, mean, gap, rate, maxBaseRateGap)
		}
	}
	return nil
}

// baseRate returns the share of positives among the labeled training
// accounts, as the artifact's label counts record it, and false when the
// counts give no rate strictly between 0 and 1.
func (p *Profile) baseRate() (float64, bool) {
	pos, neg := p.Label.Positives, p.Label.Negatives
	if pos <= 0 || neg <= 0 {
		return 0, false
	}
	return float64(pos) / (float64(pos) + float64(neg)), true
}

// logOdds is the logit of a probability, clamped away from 0 and 1 so
// that a saturated score stays finite.
func logOdds(q float64) float64 {
	q = min(max(q, 1e-12), 1-1e-12)
	return math.Log(q / (1 - q))
}

// warmUpAccount returns the i-th warm-up account: none of the fields for
// i = 0, and otherwise each numeric column at the training mean plus
// warmUpZ[(i-1) % len] deviations (the median at 0), the (i-1)-th category
// level and tag of each column, cycling, and booleans alternating.
func (p *Profile) warmUpAccount(i int) icp.Account {
	acc := icp.Account{}
	if p.Schema.ID != "" {
		acc[p.Schema.ID] = fmt.Sprintf("warm-up-%d", i)
	}
	if i == 0 {
		return acc
	}
	z := warmUpZ[(i-1)%len(warmUpZ)]
	at := 0
	for k := range p.Encoder.Columns {
		ce := &p.Encoder.Columns[k]
		var sc *features.Column
		sc, at = p.Schema.ColumnFrom(ce.Name, at)
		if sc == nil {
			continue
		}
		switch {
		case ce.Role == features.RoleNumeric && sc.Kind == "number":
			acc[ce.Name] = warmUpNumber(ce, z)
		case ce.Role == features.RoleBoolean && sc.Kind == "bool":
			acc[ce.Name] = i%2 == 1
		case ce.Role == features.RoleCategorical && sc.Kind == "string" && len(ce.Levels) > 0:
			acc[ce.Name] = ce.Levels[(i-1)%len(ce.Levels)]
		case ce.Role == features.RoleTags && len(ce.Levels) > 0:
			acc[ce.Name] = []any{ce.Levels[(i-1)%len(ce.Levels)]}
		}
	}
	return acc
}

// warmUpNumber is the raw value of a numeric column z deviations from the
// training mean on the encoder's scale (the median when z is 0), within
// what the column accepts.
func warmUpNumber(ce *features.ColumnEncoder, z float64) float64 {
	if z == 0 {
		return ce.Median
	}
	v := ce.Mean + z*ce.Std
	if ce.Log {
		v = math.Expm1(v)
	}
	if ce.NonNegative {
		v = max(v, 0)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ce.Median
	}
	return v
}

// checkScore returns an error naming what is wrong with a score.
func (p *Profile) checkScore(s icp.Score) error {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case !finite(s.Score) || s.Score < 0 || s.Score > 1:
		return fmt.Errorf("score %v outside [0, 1]", s.Score)
	case !finite(s.Margin) || !finite(s.BaseValue):
		return fmt.Errorf("margin %v, base value %v: want finite numbers", s.Margin, s.BaseValue)
	case !finite(s.Percentile):
		return fmt.Errorf("percentile %v: want a finite number", s.Percentile)
	case s.Segment != nil && !finite(s.Segment.Distance):
		return fmt.Errorf("distance to segment %s is %v", s.Segment.ID, s.Segment.Distance)
	case s.Tier != p.Tiers.Tier(p.TierKey(s)):
		return fmt.Errorf("tier %q for score %v", s.Tier, s.Score)
	case len(s.Attributions) != len(p.Encoder.Columns):
		return fmt.Errorf("%d attributions for %d feature columns", len(s.Attributions), len(p.Encoder.Columns))
	}
	sum := s.BaseValue
	for _, a := range s.Attributions {
		if !finite(a.Contribution) {
			return fmt.Errorf("contribution of %s is %v", a.Feature, a.Contribution)
		}
		sum += a.Contribution
	}
	if d := math.Abs(sum - s.Margin); d > warmUpTolerance*max(1, math.Abs(s.Margin)) {
		return fmt.Errorf("attributions add up to %v, margin is %v", sum, s.Margin)
	}
	return p.checkValueScore(s)
}
