package report

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/profile"
)

// Changes compares a profile with the previous one on the same table.
type Changes struct {
	PreviousVersion string `json:"previous_version"`
	// Segments lists what happened to each segment: "appeared",
	// "vanished" or "kept" (a current segment that kept a previous one's
	// ID or holds mostly the same accounts; see Compare).
	Segments []SegmentChange `json:"segments"`
	// Tiers are the previous and current thresholds.
	PreviousTiers profile.Tiers `json:"previous_tiers"`
	Tiers         profile.Tiers `json:"tiers"`
	// Moves counts accounts of the table by previous and current tier,
	// Moves[from][to] with tiers in icp.Tiers order; Moved is how many
	// changed tier.
	Moves [4][4]int `json:"moves"`
	Moved int       `json:"moved"`
	Rows  int       `json:"rows"`
	// Examples lists up to 20 accounts whose tier changed most.
	Examples []TierMove `json:"examples"`
}

// SegmentChange is what happened to one segment.
type SegmentChange struct {
	Change   string  `json:"change"`
	Previous string  `json:"previous,omitempty"`
	Current  string  `json:"current,omitempty"`
	Rule     string  `json:"rule,omitempty"`
	OldRule  string  `json:"old_rule,omitempty"`
	Overlap  float64 `json:"overlap"`
	Lift     float64 `json:"lift"`
	OldLift  float64 `json:"old_lift"`
	// WinRate and PositiveRate are the current segment's rates over the
	// closed accounts its rule matches (Evidence), OldWinRate and
	// OldPositiveRate the previous segment's, each on its own model's
	// training table.
	WinRate         float64 `json:"win_rate,omitempty"`
	OldWinRate      float64 `json:"old_win_rate,omitempty"`
	PositiveRate    float64 `json:"positive_rate,omitempty"`
	OldPositiveRate float64 `json:"old_positive_rate,omitempty"`
}

// TierMove is one account whose tier changed.
type TierMove struct {
	AccountID string   `json:"account_id"`
	From      icp.Tier `json:"from"`
	To        icp.Tier `json:"to"`
	OldScore  float64  `json:"old_score"`
	Score     float64  `json:"score"`
}

// Compare scores t with the previous profile prev and with p, and reports the
// segments that appeared, vanished or were kept, the threshold changes and
// the accounts whose tier changed.
//
// Segments are compared by the accounts of t each holds as served (the
// first segment whose rule an account matches): a segment of p keeps the
// previous segment of the same ID (train --previous gives a segment the
// ID of the previous one whose accounts it shares), and otherwise the
// previous segment it shares the most accounts with, at a Jaccard index
// of at least 0.5, one to one; Overlap is that index.
func Compare(p, prev *profile.Profile, t *datasets.Table) (*Changes, error) {
	c := &Changes{PreviousVersion: prev.Version, PreviousTiers: prev.Tiers, Tiers: p.Tiers, Rows: t.Rows()}
	now, was := membership(p.Segments, t), membership(prev.Segments, t)
	inter := make([][]float64, len(p.Segments))
	size, oldSize := make([]float64, len(p.Segments)), make([]float64, len(prev.Segments))
	for k := range inter {
		inter[k] = make([]float64, len(prev.Segments))
	}
	for i := range now {
		if now[i] >= 0 {
			size[now[i]]++
		}
		if was[i] >= 0 {
			oldSize[was[i]]++
		}
		if now[i] >= 0 && was[i] >= 0 {
			inter[now[i]][was[i]]++
		}
	}
	jac := func(k, o int) float64 {
		if u := size[k] + oldSize[o] - inter[k][o]; u > 0 {
			return inter[k][o] / u
		}
		return 0
	}
	match := make([]int, len(p.Segments))
	used := make([]bool, len(prev.Segments))
	for k := range match {
		match[k] = -1
		for o, ps := range prev.Segments {
			if !used[o] && ps.ID == p.Segments[k].ID {
				match[k], used[o] = o, true
			}
		}
	}
	type pair struct {
		k, o int
		j    float64
	}
	var pairs []pair
	for k := range p.Segments {
		for o := range prev.Segments {
			if j := jac(k, o); j >= 0.5 && match[k] < 0 && !used[o] {
				pairs = append(pairs, pair{k, o, j})
			}
		}
	}
	sort.SliceStable(pairs, func(a, b int) bool { return pairs[a].j > pairs[b].j })
	for _, pr := range pairs {
		if match[pr.k] < 0 && !used[pr.o] {
			match[pr.k], used[pr.o] = pr.o, true
		}
	}
	for k, s := range p.Segments {
		sc := SegmentChange{Current: s.ID + ": " + s.Name, Rule: s.RuleText, Lift: s.Lift, Change: "appeared",
			WinRate: s.Evidence.WinRate, PositiveRate: s.Evidence.PositiveRate}
		if o := match[k]; o >= 0 {
			ps := prev.Segments[o]
			sc.Change, sc.Previous, sc.OldRule, sc.OldLift, sc.Overlap = "kept", ps.ID+": "+ps.Name, ps.RuleText, ps.Lift, jac(k, o)
			sc.OldWinRate, sc.OldPositiveRate = ps.Evidence.WinRate, ps.Evidence.PositiveRate
		} else {
			for o := range prev.Segments {
				sc.Overlap = math.Max(sc.Overlap, jac(k, o))
			}
		}
		c.Segments = append(c.Segments, sc)
	}
	for o, ps := range prev.Segments {
		if !used[o] {
			c.Segments = append(c.Segments, SegmentChange{Change: "vanished", Previous: ps.ID + ": " + ps.Name, OldRule: ps.RuleText, OldLift: ps.Lift,
				OldWinRate: ps.Evidence.WinRate, OldPositiveRate: ps.Evidence.PositiveRate})
		}
	}
	old, err := prev.ScoreTable(t, nil, false)
	if err != nil {
		return nil, fmt.Errorf("compare: previous model: %w", err)
	}
	cur, err := p.ScoreTable(t, nil, false)
	if err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	rank := map[icp.Tier]int{icp.Tier1: 0, icp.Tier2: 1, icp.Tier3: 2, icp.NonFit: 3}
	noIDs := t.Column(p.Schema.ID) == nil
	var moves []TierMove
	for i, s := range cur {
		from, to := old[i].Tier, s.Tier
		c.Moves[rank[from]][rank[to]]++
		if from != to {
			c.Moved++
			m := TierMove{AccountID: s.AccountID, From: from, To: to, OldScore: old[i].Score, Score: s.Score}
			if noIDs {
				m.AccountID = "row " + strconv.Itoa(i+1)
			}
			moves = append(moves, m)
		}
	}
	sort.SliceStable(moves, func(a, b int) bool {
		fa, ta := rank[moves[a].From], rank[moves[a].To]
		fb, tb := rank[moves[b].From], rank[moves[b].To]
		da, db := max(fa-ta, ta-fa), max(fb-tb, tb-fb)
		if da != db {
			return da > db
		}
		return math.Abs(moves[a].Score-moves[a].OldScore) > math.Abs(moves[b].Score-moves[b].OldScore)
	})
	if len(moves) > 20 {
		moves = moves[:20]
	}
	c.Examples = moves
	return c, nil
}

// membership returns the segment each row of t falls in as served (the
// first whose rule it matches), -1 for none.
func membership(segs []profile.Segment, t *datasets.Table) []int {
	out := make([]int, t.Rows())
	for i := range out {
		out[i] = profile.SegmentOf(segs, t, i)
	}
	return out
}

// section writes the changes into the report.
func (c *Changes) section(d *document) {
	d.h2("What changed since the previous model")
	d.para("Compared with model `%s`, both applied to this model's training table. A segment is kept when it kept the previous segment's ID (training with `--previous` keeps the ID of a segment whose accounts it shares) or holds mostly the same accounts (Jaccard index at least 0.5); the overlap is the Jaccard index of the accounts each holds as served.", c.PreviousVersion)
	var rows [][]string
	for _, s := range c.Segments {
		rows = append(rows, []string{s.Change, dash(s.Previous), dash(s.Current), ruleCell(s.OldRule), ruleCell(s.Rule), pct(s.Overlap), times(s.OldLift), times(s.Lift)})
	}
	if len(rows) > 0 {
		d.table([]string{"change", "previous", "current", "previous rule", "current rule", "overlap", "previous lift", "lift"}, rows)
	} else {
		d.para("Neither model has segments.")
	}
	d.table([]string{"threshold", "previous", "current"}, [][]string{
		{"tier1", fmt3(c.PreviousTiers.Tier1), fmt3(c.Tiers.Tier1)},
		{"tier2", fmt3(c.PreviousTiers.Tier2), fmt3(c.Tiers.Tier2)},
		{"tier3", fmt3(c.PreviousTiers.Tier3), fmt3(c.Tiers.Tier3)},
	})
	d.para("%d of %d accounts (%s) changed tier. Accounts by previous tier (rows) and current tier (columns):", c.Moved, c.Rows, pct(float64(c.Moved)/float64(max(1, c.Rows))))
	tiers := icp.Tiers()
	rows = nil
	for f, from := range tiers {
		r := []string{string(from)}
		for t := range tiers {
			r = append(r, fmt.Sprint(c.Moves[f][t]))
		}
		rows = append(rows, r)
	}
	d.table([]string{"previous \\ current", "tier1", "tier2", "tier3", "non_fit"}, rows)
	if len(c.Examples) > 0 {
		rows = nil
		for _, m := range c.Examples {
			rows = append(rows, []string{m.AccountID, string(m.From), string(m.To), fmt3(m.OldScore), fmt3(m.Score)})
		}
		d.para("The accounts that moved most:")
		d.table([]string{"account", "previous tier", "tier", "previous score", "score"}, rows)
	}
}

func ruleCell(r string) string {
	if r == "" {
		return "–"
	}
	return "`" + r + "`"
}
