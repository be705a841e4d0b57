package features

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/icpengine/icp/datasets"
)

// wonCandidate is a column that may hold the won/lost outcome.
type wonCandidate struct {
	col   int    // index in the schema and the table
	kind  string // what makes it a candidate, for reasons
	score int
	named bool // named like an outcome
	// values is the meaning of each text value (most common spelling).
	values           map[string]string
	won, lost, open  int // rows
	wonV, lostV, opV []valueCount
	missing          int
}

type valueCount struct {
	v string
	n int
}

// describe lists the values of a candidate with their counts, for reasons.
func (w *wonCandidate) describe() string {
	if w.values == nil {
		return fmt.Sprintf("%d won (1), %d lost (0)", w.won, w.lost)
	}
	part := func(label string, vs []valueCount) string {
		if len(vs) == 0 {
			return ""
		}
		var b []string
		for k, v := range vs {
			if k == 4 {
				b = append(b, fmt.Sprintf("%d more", len(vs)-4))
				break
			}
			b = append(b, fmt.Sprintf("%s %d", v.v, v.n))
		}
		return label + " " + strings.Join(b, ", ")
	}
	var parts []string
	for _, p := range []string{part("won:", w.wonV), part("lost:", w.lostV), part("open:", w.opV)} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "; ")
}

// readWonCandidate returns column c as a candidate for the won outcome, or
// nil. A text column qualifies when its values include won and lost words
// (stage names, statuses with terminal values); a yes/no, true/false or 0/1
// column when it is named like an outcome.
func readWonCandidate(k int, c *datasets.Column, name string, ph placeholders) *wonCandidate {
	named := outcomeName.MatchString(name)
	w := &wonCandidate{col: k}
	switch c.Kind {
	case datasets.Bool, datasets.Number:
		if !isBinary(c.Num) || !named {
			return nil
		}
		for _, v := range c.Num {
			switch v {
			case 1:
				w.won++
			case 0:
				w.lost++
			default:
				w.missing++
			}
		}
		w.kind = "0/1 values named like an outcome"
		w.score, w.named = 6, true
		if single(c.Num) {
			w.kind, w.score = "0/1 values named like an outcome, a single class", 1
		}
		return w
	case datasets.String:
	default:
		return nil
	}
	st := statText(c.Str, ph)
	if len(st.distinct) == 0 || len(st.distinct) > 60 {
		return nil
	}
	sp := make(spellings)
	counts := make(map[string]int)
	for v, n := range st.distinct {
		key := valueKey(v)
		counts[key] += n
		sp.addN(key, v, n)
	}
	w.values = make(map[string]string, len(counts))
	// Words that say won or lost on their own (stages, terminal statuses)
	// against yes/no words, which do only under an outcome's name: a
	// "Multiple Lines" of Yes, No and "No phone service" is no outcome.
	var wonWords, lostWords, yes, no, unknown int
	lifecycle := lifecycleLost(counts)
	for key, n := range counts {
		shown := sp.best(key)
		m, gen, known := wordMeaning(shown)
		if lifecycle && catchAllStage(key) {
			m, gen, known = MeaningLost, false, true
		}
		if !known {
			unknown++
		}
		w.values[shown] = m
		switch m {
		case MeaningWon:
			w.won += n
			w.wonV = append(w.wonV, valueCount{shown, n})
			if gen {
				yes++
			} else {
				wonWords++
			}
		case MeaningLost:
			w.lost += n
			w.lostV = append(w.lostV, valueCount{shown, n})
			if gen {
				no++
			} else {
				lostWords++
			}
		default:
			w.open += n
			w.opV = append(w.opV, valueCount{shown, n})
		}
	}
	w.missing = c.Len() - st.present
	for _, vs := range [][]valueCount{w.wonV, w.lostV, w.opV} {
		sort.Slice(vs, func(a, b int) bool {
			if vs[a].n != vs[b].n {
				return vs[a].n > vs[b].n
			}
			return vs[a].v < vs[b].v
		})
	}
	// The name weighs most: "y" of yes/no beats a "poutcome" of success
	// and failure (the previous campaign's result, a feature). Among named
	// columns, stage names beat a flag, and open stages beat none: they
	// also say which deals are still open.
	switch {
	case wonWords+yes == 0 || lostWords+no == 0:
		if !named || unknown > 0 {
			return nil
		}
		// Named like an outcome, every value an outcome word, but one
		// class only (every deal open, or won): it is the outcome, and
		// training will say that it cannot learn from it.
		w.kind = "outcome words named like an outcome, a single class"
		w.score, w.named = 1, true
	case wonWords == 0 || lostWords == 0:
		if !named {
			return nil
		}
		w.kind = "yes/no values named like an outcome"
		w.score, w.named = 6, true
	case lifecycle:
		w.kind = "lifecycle stages: customer stages won, the catch-all stage lost, funnel stages open"
		w.score = 4
		if named {
			w.score += 4
			w.named = true
		}
	default:
		w.kind = "won and lost values"
		w.score = 3
		if w.open > 0 {
			w.kind = "won, lost and open values"
			w.score = 4
		}
		if named {
			w.score += 4
			w.named = true
		}
	}
	return w
}

// lifecycleLost reports whether a column's values (counts by value key)
// are the stages of a lifecycle: two or more funnel stages before the sale
// (Lead, Marketing Qualified Lead, Opportunity...), a customer stage
// (Customer, Evangelist), and a catch-all stage ("Other"). In a lifecycle
// a record only moves forward, so a lost prospect either stays at the
// stage it reached, where it reads as open, or is moved to the catch-all
// stage, the only stage that is neither a step of the funnel nor a
// customer: that is how HubSpot's lifecycle stage marks records that left
// the funnel (its Other: "doesn't fit any of the other stages"). The
// catch-all stage then reads as lost, the customer stages as won and the
// funnel stages as open.
func lifecycleLost(counts map[string]int) bool {
	var funnel, customer, catchAll int
	for key := range counts {
		m, _, _ := wordMeaning(key)
		switch {
		case funnelStage(key):
			funnel++
		case catchAllStage(key):
			catchAll++
		case m == MeaningWon && (key == "customer" || key == "evangelist"):
			customer++
		}
	}
	return funnel >= 2 && customer > 0 && catchAll > 0
}

// addN counts n rows of spelling raw under key.
func (s spellings) addN(key, raw string, n int) {
	m := s[key]
	if m == nil {
		m = make(map[string]int, 1)
		s[key] = m
	}
	m[strings.Join(strings.Fields(raw), " ")] += n
}

// detectWon picks the won column among the candidates: the highest score,
// then the fewest missing cells, then the first column. It sets its role,
// the value map and the reasons of every candidate.
func (s *Schema) detectWon(t *datasets.Table, ph placeholders) {
	var cands []*wonCandidate
	for k := range s.Columns {
		sc := &s.Columns[k]
		forced := sc.Overridden && sc.Role == RoleOutcome
		if sc.Overridden && !forced || sc.Role == RoleID {
			continue
		}
		w := readWonCandidate(k, t.Columns[k], normName(sc.Name), ph)
		if forced {
			if w == nil {
				// Set as an outcome by the override: read it with the
				// built-in words even without both won and lost values.
				w = readWonCandidate(k, t.Columns[k], "outcome", ph)
			}
			if w == nil {
				continue
			}
			w.score += 100
			w.kind += ", set as an outcome by the schema override"
		}
		if w != nil {
			cands = append(cands, w)
		}
	}
	if len(cands) == 0 {
		s.markNamedOutcomes(t, ph)
		return
	}
	sort.SliceStable(cands, func(a, b int) bool {
		if cands[a].score != cands[b].score {
			return cands[a].score > cands[b].score
		}
		return cands[a].missing < cands[b].missing
	})
	best := cands[0]
	bc := &s.Columns[best.col]
	s.Outcomes.Won = bc.Name
	s.Outcomes.Values = best.values
	bc.Role = RoleOutcome
	if !bc.Overridden {
		bc.Reason = "won/lost outcome: " + best.kind + " (" + best.describe() + ")"
	}
	if len(cands) > 1 {
		var others []string
		for _, w := range cands[1:] {
			others = append(others, fmt.Sprintf("%q (%s)", s.Columns[w.col].Name, w.kind))
		}
		bc.Reason += "; chosen over " + strings.Join(others, ", ") + ": " + preference(best, cands[1])
	}
	for _, w := range cands[1:] {
		c := &s.Columns[w.col]
		if c.Overridden {
			continue
		}
		if w.named {
			// A second column named like an outcome is a copy of it or
			// of a step towards it: never a feature.
			c.Role = RoleOutcome
			c.Reason = fmt.Sprintf("another outcome candidate (%s: %s), never a feature; %q is the outcome", w.kind, w.describe(), bc.Name)
			continue
		}
		// Not named like an outcome (the result of an earlier campaign):
		// it stays what it is, and the leakage guard judges it.
		c.Reason += fmt.Sprintf("; its values look like an outcome (%s), but %q is the outcome", w.kind, bc.Name)
	}
}

// preference says why candidate a was chosen over b.
func preference(a, b *wonCandidate) string {
	switch {
	case a.score == b.score:
		return "fewer missing values, or first in the table"
	case a.named && !b.named:
		return "its name says outcome, the other's does not"
	case a.open > 0 && b.open == 0:
		return "its values also mark the deals still open"
	case a.values != nil && b.values == nil:
		return "named values (stages, statuses) say more than a 0/1 flag"
	}
	return "its name and values are the stronger outcome"
}

// markNamedOutcomes keeps out of the features a column named like an
// outcome whose values are not won/lost words (a "result" of "good" and
// "bad"): it is most likely the outcome, and the error naming no outcome
// points to it.
func (s *Schema) markNamedOutcomes(t *datasets.Table, ph placeholders) {
	for k := range s.Columns {
		sc := &s.Columns[k]
		name := normName(sc.Name)
		if sc.Overridden || !sc.Role.IsFeature() || !outcomeName.MatchString(name) || name == "status" || name == "stage" {
			continue
		}
		c := t.Columns[k]
		if c.Kind == datasets.Date || c.Kind == datasets.Number && !isBinary(c.Num) {
			continue
		}
		if c.Kind == datasets.String && len(statText(c.Str, ph).distinct) > 10 {
			continue
		}
		sc.Role = RoleOutcome
		sc.Reason = "outcome by name, but its values are not won/lost words; name their meaning in the schema file"
	}
}

// outcomeHint names the likeliest outcome columns when none was found, and
// the override line that names one.
func (s *Schema) outcomeHint(t *datasets.Table, ph placeholders) string {
	type cand struct {
		k     int
		score int
		desc  string
		line  string
	}
	var cands []cand
	for k := range s.Columns {
		sc := &s.Columns[k]
		if sc.Role == RoleID || sc.Role == RoleExcluded && !sc.Overridden {
			continue
		}
		c := t.Columns[k]
		name := normName(sc.Name)
		score := 0
		if sc.Role == RoleOutcome {
			score += 4
		}
		if outcomeName.MatchString(name) || strings.Contains(name, "status") || strings.Contains(name, "stage") || strings.Contains(name, "result") {
			score += 2
		}
		var desc, line string
		switch {
		case c.Kind == datasets.Bool || c.Kind == datasets.Number && isBinary(c.Num) && !single(c.Num):
			score += 2
			desc = "0/1 values"
			line = fmt.Sprintf(`{"outcomes": {"won": %s}}`, strconv.Quote(sc.Name))
		case c.Kind == datasets.String:
			st := statText(c.Str, ph)
			n := len(st.distinct)
			if n < 2 || n > 12 {
				continue
			}
			if n <= 3 {
				score++
			}
			vals := make([]valueCount, 0, n)
			for v, c := range st.distinct {
				vals = append(vals, valueCount{v, c})
			}
			sort.Slice(vals, func(a, b int) bool {
				if vals[a].n != vals[b].n {
					return vals[a].n > vals[b].n
				}
				return vals[a].v < vals[b].v
			})
			var parts []string
			for j, v := range vals {
				if j == 4 {
					parts = append(parts, "…")
					break
				}
				parts = append(parts, fmt.Sprintf("%s %d", v.v, v.n))
			}
			desc = "values " + strings.Join(parts, ", ")
			wonV, lostV := exampleValues(vals)
			line = fmt.Sprintf(`{"outcomes": {"won": %s, "values": {%s: "won", %s: "lost"}}}`,
				strconv.Quote(sc.Name), strconv.Quote(wonV), strconv.Quote(lostV))
		default:
			continue
		}
		if score < 2 {
			continue // neither two-valued nor named like an outcome
		}
		cands = append(cands, cand{k: k, score: score, desc: desc, line: line})
	}
	sort.SliceStable(cands, func(a, b int) bool { return cands[a].score > cands[b].score })
	if len(cands) == 0 {
		return `no column looks like an outcome (none holds won/lost stages, none is a yes/no or 0/1 column, none is named like one); ` +
			`if the table has one, name it in the schema file (--schema), for example {"outcomes": {"won": "deal_stage"}}`
	}
	if len(cands) > 3 {
		cands = cands[:3]
	}
	var names []string
	for _, c := range cands {
		names = append(names, fmt.Sprintf("%q (%s)", s.Columns[c.k].Name, c.desc))
	}
	return "the likeliest are " + strings.Join(names, ", ") + "; name the outcome in the schema file (--schema), for example " + cands[0].line
}

// detectChurn picks the churn column: a flag by name first, else a churn
// date (filled means churned).
func (s *Schema) detectChurn(t *datasets.Table) {
	if s.Outcomes.Churned != "" {
		return
	}
	for pass := 0; pass < 2; pass++ {
		for k, sc := range s.Columns {
			if sc.Role != RoleOutcome {
				continue
			}
			name := normName(sc.Name)
			date := t.Columns[k].Kind == datasets.Date
			if pass == 0 && !date && churnName.MatchString(name) || pass == 1 && date && churnDate.MatchString(name) {
				s.Outcomes.Churned = sc.Name
				return
			}
		}
	}
}

// assignNamed fills the close date, cycle and LTV outcomes from columns
// whose role is outcome by name, and the account id: the first id column
// named like one, else the first id column (a row number).
func (s *Schema) assignNamed() {
	o := &s.Outcomes
	for _, c := range s.Columns {
		if c.Role == RoleID && s.ID == "" && (idName.MatchString(normName(c.Name)) || camelID.MatchString(c.Name)) {
			s.ID = c.Name
		}
	}
	for _, c := range s.Columns {
		name := normName(c.Name)
		switch {
		case c.Role == RoleID && s.ID == "":
			s.ID = c.Name
		case c.Role != RoleOutcome:
		case closeName.MatchString(name) && c.Kind == "date" && o.CloseDate == "":
			o.CloseDate = c.Name
		case cycleName.MatchString(name) && o.CycleDays == "":
			o.CycleDays = c.Name
		case ltvName.MatchString(name) && o.LTV == "":
			o.LTV = c.Name
		}
	}
}

// exampleValues picks the values an override example calls won and lost:
// the commonest that read as won and as lost, else the commonest two
// (vals is sorted by count, at least two long).
func exampleValues(vals []valueCount) (won, lost string) {
	pick := func(want, not string) string {
		for _, v := range vals {
			if m, _, known := wordMeaning(v.v); known && m == want && v.v != not {
				return v.v
			}
		}
		for _, v := range vals {
			if v.v != not {
				return v.v
			}
		}
		return ""
	}
	won = pick(MeaningWon, "")
	return won, pick(MeaningLost, won)
}
