package report

import (
	"fmt"
	"io"

	"github.com/icpengine/icp/profile"
)

// channelSection shows the ICP by channel when the data have a channel
// column: which channels bring ICP accounts and which the anti-ICP, then
// for all deals, each segment and each tier, the share of deals, the win
// rate with its interval and the value won by channel.
func (p icpReport) channelSection(d *document) {
	c := p.Channels
	if c == nil {
		return
	}
	d.h2("The ICP by channel")
	d.para("Deals by `%s`, the channel they came from: %s. An ICP account is %s. Win rates carry their 95%% Wilson interval; channel values are grouped without regard to case and spacing, and beyond the 12 most common they count as %s.",
		c.Column, c.Scope, c.ICPDefinition, profile.OtherChannels)
	say := func(fs []profile.ChannelFinding, none string) {
		if len(fs) == 0 {
			d.para("%s", none)
			return
		}
		var items []string
		for _, f := range fs {
			items = append(items, f.Text)
		}
		d.list(items)
	}
	d.para("**Channels that bring ICP accounts:**")
	say(c.ICP, "No channel brings ICP accounts clearly more often than all deals do (with 20 deals or more, and the 95% interval above the overall share).")
	d.para("**Channels that bring the anti-ICP:**")
	say(c.Anti, "No channel brings anti-ICP accounts clearly more often than all deals do.")
	d.h3("All deals")
	d.table(channelHead(c), channelRows(c, c.All))
	d.h3("By segment")
	for _, g := range c.Segments {
		if g.Deals == 0 {
			continue
		}
		d.para("**%s** (%d deals):", g.Name, g.Deals)
		d.table(channelHead(c), channelRows(c, g))
	}
	d.h3("By tier")
	for _, g := range c.Tiers {
		if g.Deals == 0 {
			continue
		}
		d.para("**%s** (%d deals):", g.Name, g.Deals)
		d.table(channelHead(c), channelRows(c, g))
	}
}

func channelHead(c *profile.Channels) []string {
	h := []string{"channel", "deals", "share of deals", "won", "win rate (95% interval)"}
	if c.HasValue {
		h = append(h, "median value of won", "value won")
	}
	return h
}

func channelRows(c *profile.Channels, g profile.ChannelGroup) [][]string {
	var rows [][]string
	for _, s := range g.Channels {
		r := []string{s.Channel, fmt.Sprint(s.Deals), pct(s.Share), fmt.Sprint(s.Won),
			fmt.Sprintf("%s (%s–%s)", pct(s.WinRate), pct(s.WinLow), pct(s.WinHigh))}
		if c.HasValue {
			med := "–"
			if s.Won > 0 && s.Value > 0 {
				med = num(s.MedianValue)
			}
			r = append(r, med, num(s.Value))
		}
		rows = append(rows, r)
	}
	return rows
}

// writeChannelSummary prints the channel lines of the trainer's summary.
func writeChannelSummary(w io.Writer, p *profile.Profile) {
	c := p.Channels
	if c == nil {
		return
	}
	fmt.Fprintf(w, "channels (%s): %d bring ICP accounts, %d the anti-ICP\n", c.Column, len(c.ICP), len(c.Anti))
	for _, f := range c.ICP {
		fmt.Fprintf(w, "  %s\n", f.Text)
	}
	for _, f := range c.Anti {
		fmt.Fprintf(w, "  %s\n", f.Text)
	}
}
