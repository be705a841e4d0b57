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

// WarmUp scores n accounts made from the fitted encoder (the first with
// every field missing, the others with the training medians and with each
// category and tag in turn) and checks each answer: a finite score in
// [0, 1], a known tier, attributions naming every feature column and adding
// up to the margin. It is what a server runs on a newly loaded model before
// routing traffic to it, so that a model that cannot score fails there and
// not on a customer's request, and so that the first requests do not pay
// for cold caches. A panic while scoring is returned as an error: a model
// that would crash the server is refused, not served. n below 1 means 1.
func (p *Profile) WarmUp(ctx context.Context, n int) (err error) {
	i := 0
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("warm up: account %d: scoring panicked: %v", i, r)
		}
	}()
	for ; i < max(n, 1); i++ {
		acc := p.warmUpAccount(i)
		s, err := p.Score(ctx, acc)
		if err != nil {
			return fmt.Errorf("warm up: account %d: %w", i, err)
		}
		if err := p.checkScore(s); err != nil {
			return fmt.Errorf("warm up: account %d: %w", i, err)
		}
	}
	return nil
}

// warmUpAccount returns the i-th warm-up account: none of the fields for
// i = 0, and otherwise the numeric medians with the (i-1)-th category level
// and tag of each column, cycling.
func (p *Profile) warmUpAccount(i int) icp.Account {
	acc := icp.Account{}
	if p.Schema.ID != "" {
		acc[p.Schema.ID] = fmt.Sprintf("warm-up-%d", i)
	}
	if i == 0 {
		return acc
	}
	for _, ce := range p.Encoder.Columns {
		sc := p.Schema.Column(ce.Name)
		if sc == nil {
			continue
		}
		switch {
		case ce.Role == features.RoleNumeric && sc.Kind == "number":
			acc[ce.Name] = ce.Median
		case ce.Role == features.RoleCategorical && sc.Kind == "string" && len(ce.Levels) > 0:
			acc[ce.Name] = ce.Levels[(i-1)%len(ce.Levels)]
		case ce.Role == features.RoleTags && len(ce.Levels) > 0:
			acc[ce.Name] = []any{ce.Levels[(i-1)%len(ce.Levels)]}
		}
	}
	return acc
}

// checkScore returns an error naming what is wrong with a score.
func (p *Profile) checkScore(s icp.Score) error {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case !finite(s.Score) || s.Score < 0 || s.Score > 1:
		return fmt.Errorf("score %v outside [0, 1]", s.Score)
	case !finite(s.Margin) || !finite(s.BaseValue):
		return fmt.Errorf("margin %v, base value %v: want finite numbers", s.Margin, s.BaseValue)
	case s.Tier != p.Tiers.Tier(s.Score):
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
	return nil
}
