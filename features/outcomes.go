package features

import (
	"cmp"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
)

// AppendOutcomes returns a new table holding the rows of t followed by one
// row per recorded outcome, so that a retrain learns from outcomes recorded
// by serve. t keeps its columns and kinds; t itself is not modified.
//
// An outcome's account fields are parsed with the same parsers as
// Schema.Table (fields the schema does not know are errors, named
// "outcomes[3].employees"). The outcome columns named by s.Outcomes take
// the outcome's values: Won as "won"/"lost" in a string column (1/0
// otherwise), CloseDate, LTVUSD (in the LTV column, and in the value
// column when it is another), CycleDays and Churned (nil values are
// missing). The id column takes the outcome's AccountID when the account
// does not carry one. Excluded and leakage columns are missing in the new
// rows, whose source line (Table.Line) is 0.
func (s *Schema) AppendOutcomes(t *datasets.Table, outs []icp.Outcome) (*datasets.Table, error) {
	accs := make([]icp.Account, len(outs))
	for i, o := range outs {
		accs[i] = o.Account
	}
	var verr icp.ValidationError
	var parsed *datasets.Table
	if len(outs) > 0 {
		var err error
		parsed, err = s.tableEach(accs)
		if err != nil {
			return nil, fmt.Errorf("append outcomes: %w", err)
		}
	}
	for i, o := range outs {
		if o.CloseDate.IsZero() {
			verr.Add(fmt.Sprintf("outcomes[%d].close_date", i), "is required")
		}
	}
	if err := verr.Err(); err != nil {
		return nil, fmt.Errorf("append outcomes: %w", err)
	}
	n, m := t.Rows(), len(outs)
	out := &datasets.Table{Source: t.Source, Columns: make([]*datasets.Column, len(t.Columns))}
	if t.Lines != nil {
		// Recorded outcomes come from no line of the file: line 0.
		out.Lines = append(append(make([]int, 0, n+m), t.Lines...), make([]int, m)...)
	}
	for k, c := range t.Columns {
		nc := &datasets.Column{Name: c.Name, Kind: c.Kind}
		if c.Kind == datasets.String {
			nc.Str = append(make([]string, 0, n+m), c.Str...)
		} else {
			nc.Num = append(make([]float64, 0, n+m), c.Num...)
		}
		for i, o := range outs {
			v := s.outcomeCell(c.Name, o, parsed, i)
			if c.Name == s.Outcomes.Churned && c.Kind == datasets.Date {
				// A churn date: filled (with the close date) means churned.
				v = missingCell()
				if o.Churned != nil && *o.Churned {
					v = s.outcomeCell(s.Outcomes.CloseDate, o, parsed, i)
					if s.Outcomes.CloseDate == "" {
						d := o.CloseDate.UTC()
						v = cell{num: float64(d.Unix()) / 86400, str: d.Format(time.DateOnly), isText: true}
					}
				}
			}
			appendCell(nc, v)
		}
		out.Columns[k] = nc
	}
	return out, nil
}

// tableEach parses each account on its own so that field errors carry the
// outcome's index ("outcomes[3].employees"), then joins the rows.
func (s *Schema) tableEach(accs []icp.Account) (*datasets.Table, error) {
	var verr icp.ValidationError
	tabs := make([]*datasets.Table, len(accs))
	for i, acc := range accs {
		t, err := s.Table([]icp.Account{acc})
		if err != nil {
			if v, ok := err.(*icp.ValidationError); ok {
				for _, f := range v.Fields {
					verr.Add(fmt.Sprintf("outcomes[%d].%s", i, f.Field), f.Message)
				}
				continue
			}
			return nil, fmt.Errorf("outcomes[%d]: %w", i, err)
		}
		tabs[i] = t
	}
	if err := verr.Err(); err != nil {
		return nil, err
	}
	joined := &datasets.Table{Source: "outcomes", Columns: make([]*datasets.Column, len(tabs[0].Columns))}
	for k, c := range tabs[0].Columns {
		nc := &datasets.Column{Name: c.Name, Kind: c.Kind}
		for _, t := range tabs {
			if c.Kind == datasets.String {
				nc.Str = append(nc.Str, t.Columns[k].Str[0])
			} else {
				nc.Num = append(nc.Num, t.Columns[k].Num[0])
			}
		}
		joined.Columns[k] = nc
	}
	return joined, nil
}

// cell is one value on its way into a column: a number (NaN when missing)
// or a text, whichever the source holds.
type cell struct {
	num    float64
	str    string
	isText bool
}

func missingCell() cell { return cell{num: math.NaN()} }

// outcomeCell returns the value of column name in the row of outcome o.
func (s *Schema) outcomeCell(name string, o icp.Outcome, parsed *datasets.Table, i int) cell {
	oc := s.Outcomes
	switch name {
	case "":
	case oc.Won:
		if o.Won {
			return cell{num: 1, str: oc.spelling(MeaningWon), isText: true}
		}
		return cell{num: 0, str: oc.spelling(MeaningLost), isText: true}
	case oc.CloseDate:
		d := o.CloseDate.UTC()
		return cell{num: float64(d.Unix()) / 86400, str: d.Format(time.DateOnly), isText: true}
	case oc.LTV, oc.Value:
		// An outcome's value (ltv_usd) fills the value column too when it
		// is not the LTV column.
		return floatCell(o.LTVUSD)
	case oc.CycleDays:
		return floatCell(o.CycleDays)
	case oc.Churned:
		if o.Churned == nil {
			return missingCell()
		}
		return cell{num: b2f(*o.Churned), str: strconv.FormatBool(*o.Churned), isText: true}
	}
	pc := parsed.Column(name)
	if pc == nil {
		return missingCell()
	}
	if pc.Kind == datasets.String {
		v := pc.Str[i]
		if name == s.ID && v == "" {
			v = o.AccountID
		}
		if v == "" {
			return missingCell()
		}
		return cell{str: v, isText: true, num: parseOr(v)}
	}
	return cell{num: pc.Num[i]}
}

func floatCell(f *float64) cell {
	if f == nil {
		return missingCell()
	}
	return cell{num: *f, str: strconv.FormatFloat(*f, 'f', -1, 64), isText: true}
}

// parseOr parses a text as a number, NaN when it is not one.
func parseOr(s string) float64 {
	f, err := datasets.ParseNumber(s)
	if err != nil {
		return math.NaN()
	}
	return f
}

// appendCell appends v to col, converting between text and number as the
// column's kind asks.
func appendCell(col *datasets.Column, v cell) {
	if col.Kind == datasets.String {
		switch {
		case v.isText:
			col.Str = append(col.Str, v.str)
		case math.IsNaN(v.num):
			col.Str = append(col.Str, "")
		default:
			col.Str = append(col.Str, strconv.FormatFloat(v.num, 'f', -1, 64))
		}
		return
	}
	col.Num = append(col.Num, v.num)
}

// TableOutcomes is the inverse of AppendOutcomes: it turns the rows of a
// training table into outcomes whose Account holds the feature and id
// columns as a client would send them (numbers as float64, booleans as
// bool, dates as "2006-01-02", tag lists as their text). Rows whose won
// column does not mean won or lost (Outcomes.Meaning), or whose close date
// is missing, are open deals and are skipped. It returns
// an error wrapping icp.ErrInvalid when the schema names no won or close
// date column present in t.
func (s *Schema) TableOutcomes(t *datasets.Table) ([]icp.Outcome, error) {
	wonCol, closeCol := t.Column(s.Outcomes.Won), t.Column(s.Outcomes.CloseDate)
	if s.Outcomes.Won == "" || wonCol == nil || s.Outcomes.CloseDate == "" || closeCol == nil {
		return nil, fmt.Errorf("table outcomes: %s: no won and close date columns: %w", t.Source, icp.ErrInvalid)
	}
	num := func(name string, i int) *float64 {
		c := t.Column(name)
		if name == "" || c == nil || c.Kind == datasets.String || c.IsMissing(i) {
			return nil
		}
		v := c.Num[i]
		return &v
	}
	var out []icp.Outcome
	for i := 0; i < t.Rows(); i++ {
		var won bool
		switch s.Outcomes.Meaning(wonCol, i) {
		case MeaningWon:
			won = true
		case MeaningLost:
		default:
			continue
		}
		closeDay := num(s.Outcomes.CloseDate, i)
		if closeDay == nil {
			continue
		}
		o := icp.Outcome{
			Won:       won,
			CloseDate: time.Unix(int64(math.Round(*closeDay*86400)), 0).UTC(),
			LTVUSD:    cmp.Or(num(s.Outcomes.LTV, i), num(s.Outcomes.Value, i)),
			CycleDays: num(s.Outcomes.CycleDays, i),
			Account:   icp.Account{},
		}
		if c := t.Column(s.Outcomes.Churned); s.Outcomes.Churned != "" && c != nil && (c.Kind == datasets.Date && won || c.Kind != datasets.Date && !c.IsMissing(i)) {
			b := IsChurned(c, i)
			o.Churned = &b
		}
		for _, sc := range s.Columns {
			if !sc.Role.IsFeature() && sc.Name != s.ID {
				continue
			}
			c := t.Column(sc.Name)
			if c == nil || c.IsMissing(i) {
				continue
			}
			var v any
			switch c.Kind {
			case datasets.String:
				v = c.Str[i]
			case datasets.Bool:
				v = c.Num[i] == 1
			case datasets.Date:
				v = time.Unix(int64(math.Round(c.Num[i]*86400)), 0).UTC().Format(time.DateOnly)
			default:
				v = c.Num[i]
			}
			o.Account[sc.Name] = v
			if sc.Name == s.ID {
				o.AccountID = fmt.Sprint(v)
			}
		}
		if o.AccountID == "" {
			o.AccountID = fmt.Sprintf("row-%d", i+1)
		}
		out = append(out, o)
	}
	return out, nil
}
