package profile

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/model"
)

// Channels breaks closed deals down by the channel they came from (the
// schema's channel column: lead source, original source, utm_source...):
// for all deals, for each segment and for each tier, the share of deals,
// the win rate with its 95% Wilson interval and the value won by channel;
// and which channels bring ICP accounts and which the anti-ICP.
type Channels struct {
	// Column is the channel column.
	Column string `json:"column"`
	// Scope says which deals are counted and how they were placed.
	Scope string `json:"scope"`
	// ICPDefinition says what counts as an ICP account in ICP.
	ICPDefinition string `json:"icp_definition"`
	// HasValue is set when deals carry a value (the value outcome).
	HasValue bool `json:"has_value"`
	// All sums up every deal; Segments has one group per segment, then the
	// deals in no segment and those matching an anti-ICP rule; Tiers one
	// group per tier.
	All      ChannelGroup   `json:"all"`
	Segments []ChannelGroup `json:"segments"`
	Tiers    []ChannelGroup `json:"tiers"`
	// ICP lists the channels whose deals are ICP accounts significantly
	// more often than all deals are, highest lift first; Anti those whose
	// deals match the anti-ICP significantly more often.
	ICP  []ChannelFinding `json:"icp"`
	Anti []ChannelFinding `json:"anti"`
}

// ChannelGroup is one group of deals (a segment, a tier) by channel.
type ChannelGroup struct {
	Name     string        `json:"name"`
	Deals    int           `json:"deals"`
	Channels []ChannelStat `json:"channels"`
}

// ChannelStat sums up the deals of one channel in a group.
type ChannelStat struct {
	Channel string `json:"channel"`
	Deals   int    `json:"deals"`
	// Share is the share of the group's deals that came from the channel.
	Share float64 `json:"share"`
	Won   int     `json:"won"`
	// WinRate is Won / Deals, and WinLow and WinHigh bound its 95% Wilson
	// interval.
	WinRate float64 `json:"win_rate"`
	WinLow  float64 `json:"win_low"`
	WinHigh float64 `json:"win_high"`
	// Value is the value of the won deals, MedianValue their median (0
	// when none has a value).
	Value       float64 `json:"value"`
	MedianValue float64 `json:"median_value"`
	// WonICP and WonAnti count the won deals that are ICP accounts (see
	// Channels.ICPDefinition) and that match an anti-ICP rule.
	WonICP  int `json:"won_icp"`
	WonAnti int `json:"won_anti"`
}

// ChannelFinding says that a channel brings ICP (or anti-ICP) accounts:
// Share of its Deals are, within [Low, High] (95% Wilson), against
// Overall of all deals.
type ChannelFinding struct {
	Channel string  `json:"channel"`
	Deals   int     `json:"deals"`
	Share   float64 `json:"share"`
	Low     float64 `json:"low"`
	High    float64 `json:"high"`
	Overall float64 `json:"overall"`
	Lift    float64 `json:"lift"`
	// Text says it in a sentence.
	Text string `json:"text"`
}

// ChannelDeal is one deal as Channels counts it.
type ChannelDeal struct {
	// Channel is the raw value of the channel column, "" when missing.
	Channel string
	Won     bool
	// Value is the deal's value when won, NaN when unknown.
	Value float64
	// Segment is the index of the segment whose rule the deal matches, -1
	// for none; Anti marks a deal matching an anti-ICP rule.
	Segment int
	Anti    bool
	Tier    icp.Tier
}

// Bounds of the breakdown: the channels shown by name (the others are
// counted as "other"), and the fewest deals of a channel for a finding.
const (
	maxChannelsShown   = 12
	minChannelFindings = 20
	// NoChannel names the deals whose channel is missing.
	NoChannel = "(none)"
	// OtherChannels names the channels beyond the most common ones.
	OtherChannels = "(other)"
)

// NewChannels breaks deals down by channel. segments names the segments
// by index (see ChannelDeal.Segment); scope says which deals they are. An
// ICP account is one in a segment, or in tier 1 when there is no segment.
// Channel values are grouped without regard to case and spacing, under
// their most common spelling; the 12 most common are shown by name.
func NewChannels(column, scope string, segments []string, deals []ChannelDeal) *Channels {
	c := &Channels{Column: column, Scope: scope, Segments: []ChannelGroup{}, Tiers: []ChannelGroup{}, ICP: []ChannelFinding{}, Anti: []ChannelFinding{}}
	names := channelNames(deals)
	for _, d := range deals {
		if d.Won && !math.IsNaN(d.Value) {
			c.HasValue = true
		}
	}
	isICP := func(d *ChannelDeal) bool { return d.Segment >= 0 && !d.Anti }
	c.ICPDefinition = "a deal whose account matches a segment's rule and no anti-ICP rule"
	if len(segments) == 0 {
		isICP = func(d *ChannelDeal) bool { return d.Tier == icp.Tier1 }
		c.ICPDefinition = "a deal whose account is in tier 1 (there are no segments)"
	}
	group := func(name string, keep func(d *ChannelDeal) bool) ChannelGroup {
		return channelGroup(name, names, deals, keep, isICP)
	}
	c.All = group("all deals", func(*ChannelDeal) bool { return true })
	for k, s := range segments {
		c.Segments = append(c.Segments, group(s, func(d *ChannelDeal) bool { return d.Segment == k && !d.Anti }))
	}
	c.Segments = append(c.Segments,
		group("no segment", func(d *ChannelDeal) bool { return d.Segment < 0 && !d.Anti }),
		group("anti-ICP", func(d *ChannelDeal) bool { return d.Anti }))
	for _, t := range icp.Tiers() {
		c.Tiers = append(c.Tiers, group(string(t), func(d *ChannelDeal) bool { return d.Tier == t }))
	}
	c.ICP = findings(names, deals, isICP, "ICP accounts")
	c.Anti = findings(names, deals, func(d *ChannelDeal) bool { return d.Anti }, "anti-ICP accounts")
	return c
}

// ChannelsOfOutcomes breaks recorded outcomes down by channel, as
// NewChannels does closed deals: each outcome's account is scored by p
// (placed in a segment, the anti-ICP and a tier), its channel is the
// account's field of the schema's channel column, its value the outcome's
// LTV. Outcomes whose account p cannot score are left out. It returns nil
// when p's schema has no channel column.
func (p *Profile) ChannelsOfOutcomes(ctx context.Context, outs []icp.Outcome, scope string) (*Channels, error) {
	if p.Schema.Channel == "" {
		return nil, nil
	}
	accs := make([]icp.Account, len(outs))
	for i, o := range outs {
		accs[i] = o.Account
		if accs[i] == nil {
			accs[i] = icp.Account{}
		}
	}
	scores, errs := make([]icp.Score, len(outs)), make([]error, len(outs))
	if err := p.ScoreBatch(ctx, accs, false, scores, errs); err != nil {
		return nil, fmt.Errorf("channels of outcomes: %w", err)
	}
	segIndex := make(map[string]int, len(p.Segments))
	names := make([]string, len(p.Segments))
	for k, s := range p.Segments {
		segIndex[s.ID], names[k] = k, s.ID+": "+s.Name
	}
	deals := make([]ChannelDeal, 0, len(outs))
	for i, o := range outs {
		if errs[i] != nil {
			continue
		}
		ch, _ := o.Account[p.Schema.Channel].(string)
		for _, ph := range p.Schema.Placeholders {
			if strings.EqualFold(strings.TrimSpace(ch), ph) {
				ch = ""
			}
		}
		d := ChannelDeal{Channel: ch, Won: o.Won, Value: math.NaN(), Segment: -1, Anti: scores[i].AntiICP != nil, Tier: scores[i].Tier}
		if o.Won && o.LTVUSD != nil && *o.LTVUSD >= 0 {
			d.Value = *o.LTVUSD
		}
		if s := scores[i].Segment; s != nil {
			d.Segment = segIndex[s.ID]
		}
		deals = append(deals, d)
	}
	return NewChannels(p.Schema.Channel, scope, names, deals), nil
}

// channelKey is the form under which channel values are compared.
func channelKey(v string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(v), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}), " ")
}

// channelNames maps each channel key to its name in the breakdown: the
// most common spelling for the 12 most common channels, OtherChannels for
// the rest, NoChannel for a missing one.
func channelNames(deals []ChannelDeal) map[string]string {
	count := map[string]int{}
	spell := map[string]map[string]int{}
	for _, d := range deals {
		k := channelKey(d.Channel)
		if k == "" {
			continue
		}
		count[k]++
		if spell[k] == nil {
			spell[k] = map[string]int{}
		}
		spell[k][strings.TrimSpace(d.Channel)]++
	}
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		if count[keys[a]] != count[keys[b]] {
			return count[keys[a]] > count[keys[b]]
		}
		return keys[a] < keys[b]
	})
	names := map[string]string{"": NoChannel}
	for n, k := range keys {
		if n >= maxChannelsShown {
			names[k] = OtherChannels
			continue
		}
		best, bestN := "", -1
		for s, c := range spell[k] {
			if c > bestN || c == bestN && s < best {
				best, bestN = s, c
			}
		}
		names[k] = best
	}
	return names
}

// channelGroup sums up the deals keep selects, by channel, most deals
// first (ties by name), NoChannel and OtherChannels last.
func channelGroup(name string, names map[string]string, deals []ChannelDeal, keep, isICP func(d *ChannelDeal) bool) ChannelGroup {
	g := ChannelGroup{Name: name, Channels: []ChannelStat{}}
	by := map[string]*ChannelStat{}
	values := map[string][]float64{}
	for i := range deals {
		d := &deals[i]
		if !keep(d) {
			continue
		}
		g.Deals++
		ch := names[channelKey(d.Channel)]
		st := by[ch]
		if st == nil {
			st = &ChannelStat{Channel: ch}
			by[ch] = st
		}
		st.Deals++
		if d.Won {
			st.Won++
			if isICP(d) {
				st.WonICP++
			}
			if d.Anti {
				st.WonAnti++
			}
			if !math.IsNaN(d.Value) {
				st.Value += d.Value
				values[ch] = append(values[ch], d.Value)
			}
		}
	}
	for ch, st := range by {
		st.Share = float64(st.Deals) / float64(g.Deals)
		st.WinRate = float64(st.Won) / float64(st.Deals)
		st.WinLow, st.WinHigh = model.Wilson(st.Won, st.Deals)
		if v := values[ch]; len(v) > 0 {
			sort.Float64s(v)
			st.MedianValue = medianSorted(v)
		}
		g.Channels = append(g.Channels, *st)
	}
	last := func(ch string) bool { return ch == NoChannel || ch == OtherChannels }
	sort.Slice(g.Channels, func(a, b int) bool {
		x, y := g.Channels[a], g.Channels[b]
		if last(x.Channel) != last(y.Channel) {
			return !last(x.Channel)
		}
		if x.Deals != y.Deals {
			return x.Deals > y.Deals
		}
		return x.Channel < y.Channel
	})
	return g
}

// findings lists the channels whose deals are what in (ICP or anti-ICP
// accounts) significantly more often than all deals: at least 20 deals,
// the 95% Wilson interval of their share above the overall share. Highest
// lift first.
func findings(names map[string]string, deals []ChannelDeal, in func(d *ChannelDeal) bool, what string) []ChannelFinding {
	n, k := map[string]int{}, map[string]int{}
	total, hits := 0, 0
	for i := range deals {
		d := &deals[i]
		ch := names[channelKey(d.Channel)]
		n[ch]++
		total++
		if in(d) {
			k[ch]++
			hits++
		}
	}
	out := []ChannelFinding{}
	if total == 0 || hits == 0 {
		return out
	}
	overall := float64(hits) / float64(total)
	for ch, m := range n {
		if ch == NoChannel || ch == OtherChannels || m < minChannelFindings {
			continue
		}
		share := float64(k[ch]) / float64(m)
		lo, hi := model.Wilson(k[ch], m)
		if lo <= overall {
			continue
		}
		f := ChannelFinding{Channel: ch, Deals: m, Share: share, Low: lo, High: hi, Overall: overall, Lift: share / overall}
		f.Text = fmt.Sprintf("%s brings %s: %s of its %d deals (95%% interval %s to %s) against %s of all deals, %s.",
			ch, what, FormatPercent(share), m, FormatPercent(lo), FormatPercent(hi), FormatPercent(overall), FormatTimes(f.Lift))
		out = append(out, f)
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Lift != out[b].Lift {
			return out[a].Lift > out[b].Lift
		}
		return out[a].Channel < out[b].Channel
	})
	return out
}

// medianSorted is the median of sorted values (the mean of the middle two
// for an even count).
func medianSorted(v []float64) float64 {
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}
