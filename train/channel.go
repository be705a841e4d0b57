package train

import (
	"fmt"
	"math"

	"github.com/icpengine/icp/profile"
)

// channels breaks the closed deals down by channel (see profile.Channels)
// when the schema names a channel column: every closed deal of the
// training data, placed in segments and the anti-ICP by their rules and in
// tiers by the served model. For a table of customers (the retained
// target) a deal is won when the customer stayed.
func (r *trainRun) channels() error {
	name := r.s.Channel
	if name == "" || r.t.Column(name) == nil {
		return nil
	}
	p := r.p
	placed, err := p.ScoreTable(r.t.Take(r.labeled), rowsOf(r.all, r.labeled), false)
	if err != nil {
		return fmt.Errorf("channels: %w", err)
	}
	segIndex := make(map[string]int, len(p.Segments))
	segNames := make([]string, len(p.Segments))
	for k, s := range p.Segments {
		segIndex[s.ID] = k
		segNames[k] = s.ID + ": " + s.Name
	}
	var value []float64
	if p.Value != nil {
		if c := numColumn(r.t, p.Value.Column); c != nil {
			value = c.Num
		}
	}
	deals := make([]profile.ChannelDeal, len(r.labeled))
	for j, i := range r.labeled {
		won := r.wonDeal(i)
		d := profile.ChannelDeal{Channel: r.s.ChannelOf(r.t, i), Won: won, Value: math.NaN(), Segment: -1,
			Anti: placed[j].AntiICP != nil, Tier: placed[j].Tier}
		if value != nil && won && value[i] >= 0 {
			d.Value = value[i]
		}
		if s := placed[j].Segment; s != nil {
			d.Segment = segIndex[s.ID]
		}
		deals[j] = d
	}
	scope := fmt.Sprintf("all %d closed deals of the training data (in sample): segments and the anti-ICP by their rules, tiers by the served model", len(r.labeled))
	p.Channels = profile.NewChannels(name, scope, segNames, deals)
	return nil
}
