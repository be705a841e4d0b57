package main

import (
	"context"
	"fmt"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/registry"
	"github.com/icpengine/icp/server/dashboard"
)

// The dashboard's recent outcomes by channel: those closed in the last
// recentWindow, at most maxRecentOutcomes of them (the newest).
const (
	recentWindow      = 90 * 24 * time.Hour
	maxRecentOutcomes = 5000
)

// outcomeLister lists recorded outcomes closed at or after since, oldest
// first (the store).
type outcomeLister interface {
	Outcomes(ctx context.Context, since time.Time, limit int) ([]icp.Outcome, error)
}

// recentChannels returns the dashboard's source of recent outcomes by
// channel: the outcomes of the window, scored by the model of the moment,
// broken down by its channel column; nil when the model has none.
func recentChannels(st outcomeLister, current func() *profile.Profile, now func() time.Time) func(context.Context) (*dashboard.ChannelSummary, error) {
	return func(ctx context.Context) (*dashboard.ChannelSummary, error) {
		p := current()
		if p.Schema.Channel == "" {
			return nil, nil
		}
		since := now().Add(-recentWindow).UTC()
		outs, err := st.Outcomes(ctx, since, 0)
		if err != nil {
			return nil, fmt.Errorf("recent outcomes by channel: %w", err)
		}
		if len(outs) > maxRecentOutcomes {
			outs = outs[len(outs)-maxRecentOutcomes:]
		}
		c, err := p.ChannelsOfOutcomes(ctx, outs, fmt.Sprintf("the %d outcomes closed since %s", len(outs), since.Format(time.DateOnly)))
		if err != nil {
			return nil, err
		}
		return channelSummary(c, since), nil
	}
}

// liveProfile returns the served model of the moment.
func liveProfile(live *registry.Live) func() *profile.Profile {
	return func() *profile.Profile { return live.Current().Profile }
}

// channelSummary is the dashboard's form of a breakdown of outcomes by
// channel.
func channelSummary(c *profile.Channels, since time.Time) *dashboard.ChannelSummary {
	if c == nil {
		return nil
	}
	s := &dashboard.ChannelSummary{Column: c.Column, Since: since, Outcomes: c.All.Deals, ICPDefinition: c.ICPDefinition,
		HasValue: c.HasValue, Rows: []dashboard.ChannelRow{}, ICP: []string{}, Anti: []string{}}
	for _, st := range c.All.Channels {
		s.Won += st.Won
	}
	for _, st := range c.All.Channels {
		r := dashboard.ChannelRow{Channel: st.Channel, Deals: st.Deals, Won: st.Won, WinRate: st.WinRate, WinLow: st.WinLow, WinHigh: st.WinHigh, Value: st.Value}
		if s.Won > 0 {
			r.ShareOfWinners = float64(st.Won) / float64(s.Won)
		}
		if st.Won > 0 {
			r.WinnersICP, r.WinnersAnti = float64(st.WonICP)/float64(st.Won), float64(st.WonAnti)/float64(st.Won)
		}
		s.Rows = append(s.Rows, r)
	}
	for _, f := range c.ICP {
		s.ICP = append(s.ICP, f.Text)
	}
	for _, f := range c.Anti {
		s.Anti = append(s.Anti, f.Text)
	}
	return s
}
