package train

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/gonum/stat"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/profile"
)

// LabelConfig says which accounts count as positives. The zero value asks
// for ideal customers at the 0.25 LTV quantile.
type LabelConfig struct {
	// Target is TargetIdeal (default) or TargetWon.
	Target string
	// LTVQuantile is the quantile of won accounts' LTV an ideal customer
	// must reach. Zero means 0.25; a negative value drops the LTV condition.
	LTVQuantile float64
}

// labels holds per-row outcomes: y is 1, 0, or NaN for open accounts; won
// marks won deals.
type labels struct {
	y   []float64
	won []bool
	def profile.Label
}

// makeLabels derives labels from the schema's outcome columns.
func makeLabels(t *datasets.Table, s *features.Schema, cfg LabelConfig) (*labels, error) {
	n := t.Rows()
	l := &labels{y: make([]float64, n), won: make([]bool, n)}
	o := s.Outcomes
	churn := outcomeColumn(t, o.Churned)
	ltv := outcomeColumn(t, o.LTV)
	wonCol := outcomeColumn(t, o.Won)
	switch {
	case wonCol != nil:
		if err := l.fromWonColumn(t, wonCol, &s.Outcomes); err != nil {
			return nil, err
		}
	case churn != nil:
		// Every row is a customer; the question becomes who stays.
		for i := range l.y {
			l.y[i], l.won[i] = 1, true
		}
		l.def.Target = TargetRetained
	default:
		hint := s.OutcomeHint()
		if hint == "" {
			hint = `name the won/lost column (or a churn column) with a schema override, for example {"outcomes": {"won": "deal_stage"}}`
		}
		return nil, fmt.Errorf("make labels: %s: no outcome column: %s: %w", t.Source, hint, icp.ErrInvalid)
	}
	target := cfg.Target
	if target == "" {
		target = TargetIdeal
	}
	if l.def.Target == TargetRetained {
		target = TargetRetained
	} else if target != TargetIdeal && target != TargetWon {
		return nil, fmt.Errorf("make labels: unknown target %q (want %q or %q): %w", target, TargetIdeal, TargetWon, icp.ErrInvalid)
	}
	l.def.Target = target
	q := cfg.LTVQuantile
	if q == 0 {
		q = 0.25
	}
	if q > 1 {
		return nil, fmt.Errorf("make labels: LTV quantile %g is above 1: %w", q, icp.ErrInvalid)
	}
	if target != TargetWon {
		if churn != nil {
			l.def.ChurnColumn = churn.Name
		}
		if ltv != nil && q > 0 && target == TargetIdeal {
			var vals []float64
			for i, v := range ltv.Num {
				if l.won[i] && !math.IsNaN(v) {
					vals = append(vals, v)
				}
			}
			if len(vals) > 0 {
				sort.Float64s(vals)
				l.def.LTVColumn, l.def.LTVQuantile = ltv.Name, q
				l.def.LTVThreshold = stat.Quantile(q, stat.Empirical, vals, nil)
			}
		}
	}
	for i := range l.y {
		if math.IsNaN(l.y[i]) || !l.won[i] {
			continue
		}
		if l.def.ChurnColumn != "" && features.IsChurned(churn, i) {
			l.y[i] = 0
		}
		if l.def.LTVColumn != "" && ltv.Num[i] < l.def.LTVThreshold {
			// A won account with unknown LTV keeps its label: NaN < x is false.
			l.y[i] = 0
		}
	}
	l.def.Definition = l.definition()
	for _, v := range l.y {
		switch {
		case math.IsNaN(v):
			l.def.Open++
		case v == 1:
			l.def.Positives++
		default:
			l.def.Negatives++
		}
	}
	labeled := l.def.Positives + l.def.Negatives
	switch {
	case labeled == 0:
		return nil, fmt.Errorf("make labels: %s: no closed deals: every row of %q is open (values: %s): %w",
			t.Source, o.Won, l.valueList(), icp.ErrInvalid)
	case l.def.Positives == 0 || l.def.Negatives == 0:
		return nil, fmt.Errorf("make labels: %s: a single outcome class: all %d labeled rows are %s under the label %q: %w",
			t.Source, labeled, map[bool]string{true: "positive", false: "negative"}[l.def.Positives > 0], l.def.Definition, icp.ErrInvalid)
	}
	return l, nil
}

func (l *labels) fromWonColumn(t *datasets.Table, c *datasets.Column, o *features.Outcomes) error {
	l.def.WonColumn = c.Name
	counts := make(map[string]int)
	meanings := make(map[string]string)
	for i := range l.y {
		var v, meaning string
		switch {
		case c.IsMissing(i):
			v, meaning = "", "open"
		case c.Kind == datasets.String:
			v = c.Str[i]
			meaning = o.ValueMeaning(v)
		case c.Kind == datasets.Bool || c.Kind == datasets.Number && (c.Num[i] == 0 || c.Num[i] == 1):
			v = map[bool]string{true: "1", false: "0"}[c.Num[i] == 1]
			meaning = map[bool]string{true: "won", false: "lost"}[c.Num[i] == 1]
		default:
			return &datasets.ParseError{Source: t.Source, Line: t.Line(i), Field: c.Name,
				Err: fmt.Errorf("outcome %g is neither 0 nor 1: %w", c.Num[i], icp.ErrInvalid)}
		}
		counts[v]++
		meanings[v] = meaning
		switch meaning {
		case "won":
			l.y[i], l.won[i] = 1, true
		case "lost":
			l.y[i] = 0
		default:
			l.y[i] = math.NaN()
		}
	}
	for v, n := range counts {
		l.def.Values = append(l.def.Values, profile.LabelValue{Value: v, Meaning: meanings[v], Count: n})
	}
	sort.Slice(l.def.Values, func(a, b int) bool { return l.def.Values[a].Value < l.def.Values[b].Value })
	return nil
}

func (l *labels) valueList() string {
	var parts []string
	for _, v := range l.def.Values {
		parts = append(parts, fmt.Sprintf("%q×%d", v.Value, v.Count))
	}
	return strings.Join(parts, ", ")
}

func (l *labels) definition() string {
	d := l.def
	var b strings.Builder
	switch d.Target {
	case TargetWon:
		fmt.Fprintf(&b, "won deals (%s)", d.WonColumn)
	case TargetRetained:
		fmt.Fprintf(&b, "customers who did not churn (%s); there is no won/lost column, so every row counts as a customer", d.ChurnColumn)
		return b.String()
	default:
		fmt.Fprintf(&b, "ideal customers: won deals (%s)", d.WonColumn)
		if d.ChurnColumn != "" {
			fmt.Fprintf(&b, " that did not churn (%s)", d.ChurnColumn)
		}
		if d.LTVColumn != "" {
			fmt.Fprintf(&b, " with %s at or above %s, the %.0fth percentile of won accounts", d.LTVColumn, profile.FormatNumber(d.LTVThreshold), 100*d.LTVQuantile)
		}
	}
	return b.String()
}

func outcomeColumn(t *datasets.Table, name string) *datasets.Column {
	if name == "" {
		return nil
	}
	return t.Column(name)
}
