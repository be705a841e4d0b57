package features

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
)

// Role is what a column means to the engine.
type Role string

// The column roles.
const (
	// RoleID identifies an account; echoed, never a feature.
	RoleID Role = "id"
	// RoleNumeric is a number used as a feature.
	RoleNumeric Role = "numeric"
	// RoleCategorical is a label from a small set, one-hot encoded.
	RoleCategorical Role = "categorical"
	// RoleTags is a list of tags in one cell (a tech stack), multi-hot encoded.
	RoleTags Role = "tags"
	// RoleBoolean is a yes/no feature.
	RoleBoolean Role = "boolean"
	// RoleDate is a date used as a feature, in years since 1970.
	RoleDate Role = "date"
	// RoleOutcome is an outcome column (won/lost, close date, cycle days,
	// LTV, churn). Outcomes define labels and are never features.
	RoleOutcome Role = "outcome"
	// RoleExcluded is ignored.
	RoleExcluded Role = "excluded"
	// RoleLeakage is known only after the outcome; ignored, and reported as
	// such so that nobody adds it back by mistake.
	RoleLeakage Role = "leakage"
)

// IsFeature reports whether columns of role r feed the models.
func (r Role) IsFeature() bool {
	switch r {
	case RoleNumeric, RoleCategorical, RoleTags, RoleBoolean, RoleDate:
		return true
	}
	return false
}

func (r Role) valid() bool {
	switch r {
	case RoleID, RoleNumeric, RoleCategorical, RoleTags, RoleBoolean, RoleDate,
		RoleOutcome, RoleExcluded, RoleLeakage:
		return true
	}
	return false
}

// Column describes one column of the training table.
type Column struct {
	Name string `json:"name"`
	Role Role   `json:"role"`
	// Kind is the storage kind the column was read with: "string",
	// "number", "bool" or "date". Serving parses request values to it.
	Kind string `json:"kind"`
	// Separator splits a tags cell; set only for RoleTags.
	Separator string `json:"separator,omitempty"`
	// NonNegative rejects negative values (counts and amounts).
	NonNegative bool `json:"non_negative,omitempty"`
	// Reason says why the role was chosen, for people reading the schema.
	Reason string `json:"reason"`
	// Leakage is the leakage guard's evidence, for a column it flagged
	// and for one leaking by name.
	Leakage *Leakage `json:"leakage,omitempty"`
	// Overridden marks a role set by the schema override: inference and
	// the leakage guard leave the column alone.
	Overridden bool `json:"overridden,omitempty"`
}

// Outcomes names the outcome columns; an empty name means absent.
type Outcomes struct {
	// Won holds won/lost (or another deal stage; open stages are unlabeled).
	Won       string `json:"won,omitempty"`
	CloseDate string `json:"close_date,omitempty"`
	CycleDays string `json:"cycle_days,omitempty"`
	LTV       string `json:"ltv,omitempty"`
	// Value holds what a won deal is worth (LTV, contract value, won
	// amount, ARR or MRR), the target of the value model: the LTV column
	// when there is one, else a column named like a value that is no
	// feature (see detectValue). It keeps its role.
	Value string `json:"value,omitempty"`
	// Churned holds a churn flag, or a churn date (filled means churned).
	Churned string `json:"churned,omitempty"`
	// Values gives the meaning of each value of a text Won column:
	// MeaningWon, MeaningLost or MeaningOpen. Inference records it from the
	// built-in words; an override may set it. See ValueMeaning.
	Values map[string]string `json:"values,omitempty"`
}

// Schema is the role of every column of the training table.
type Schema struct {
	Columns  []Column `json:"columns"`
	Outcomes Outcomes `json:"outcomes"`
	// ID names the account id column, "" when there is none.
	ID string `json:"id,omitempty"`
	// Channel names the lead source or channel column (see
	// detectChannel), "" when there is none.
	Channel string `json:"channel,omitempty"`
	// Placeholders are the text values read as missing in categorical and
	// tag columns ("Select", "Unknown"), compared without case and
	// surrounding space.
	Placeholders []string `json:"placeholders,omitempty"`

	// hint names the likeliest outcome columns when none was found.
	hint string
}

// Column returns the named column, or nil.
func (s *Schema) Column(name string) *Column {
	for i := range s.Columns {
		if s.Columns[i].Name == name {
			return &s.Columns[i]
		}
	}
	return nil
}

// ColumnFrom is Column searching from index from onwards, then from the
// start, and returns the index after the column found (from when there is
// none): callers that look up columns in the schema's order, passing back
// that index, find each at once (see ColumnFrom of a table).
func (s *Schema) ColumnFrom(name string, from int) (*Column, int) {
	n := len(s.Columns)
	for k := range n {
		j := (from + k) % n
		if c := &s.Columns[j]; c.Name == name {
			return c, j + 1
		}
	}
	return nil, from
}

// Features returns the feature columns in table order.
func (s *Schema) Features() []Column {
	var out []Column
	for _, c := range s.Columns {
		if c.Role.IsFeature() {
			out = append(out, c)
		}
	}
	return out
}

// OutcomeHint explains a schema without a won or churn column: it names
// the likeliest outcome columns and the override line that names one. It
// is "" when the schema has an outcome, or was not inferred from a table.
func (s *Schema) OutcomeHint() string {
	if s.Outcomes.Won != "" || s.Outcomes.Churned != "" {
		return ""
	}
	return s.hint
}

// InferConfig tunes schema inference. The zero value is ready to use.
type InferConfig struct {
	// MaxLevels is the most distinct values a categorical column may have;
	// a text column with more is free text and excluded, unless it is an
	// identifier whose values repeat (see Infer). Zero means 200.
	MaxLevels int
}

// Infer classifies every column of t by name and content, finds the
// outcome and runs the leakage guard. Each column's Reason says why. It is
// InferWith without an override.
func Infer(t *datasets.Table, cfg InferConfig) *Schema {
	s, _ := InferWith(t, cfg, nil)
	return s
}

// InferWith infers the schema of t as Infer does, with the override o
// (nil: none) applied where it belongs: its placeholders before anything
// is read, its column roles before the outcome is detected, its outcome
// columns and value meanings before the leakage guard, which leaves every
// column the override names alone. An override always wins over
// inference and the guard. The error reports every problem of o; the
// schema is usable even then, without the faulty parts.
//
// The steps, each recorded in a column's Reason:
//
//  1. roles by name and content: ids and row numbers, numbers, dates,
//     booleans, categories, tag lists (separator sniffed among ";", "|"
//     and ","), free text, placeholders read as missing;
//  2. the won/lost outcome: stage names (Closed Won, Closed Lost and open
//     stages), statuses with terminal values (acquired, closed, ipo), and
//     yes/no, true/false or 0/1 columns named like an outcome (converted,
//     y, target, is_won); the churn flag or churn date; close date, sales
//     cycle and lifetime value by name;
//  3. the close date, kept only when it is filled for both outcomes;
//  4. the leakage guard (see Leakage), on every remaining feature.
func InferWith(t *datasets.Table, cfg InferConfig, o *Override) (*Schema, error) {
	if cfg.MaxLevels == 0 {
		cfg.MaxLevels = 200
	}
	s := &Schema{Placeholders: DefaultPlaceholders()}
	if o != nil && o.Placeholders != nil {
		s.Placeholders = append([]string{}, (*o.Placeholders)...)
	}
	ph := placeholders(s.Placeholders)
	for _, c := range t.Columns {
		col := Column{Name: c.Name, Kind: c.Kind.String()}
		col.Role, col.Reason, col.Separator = inferRole(t, c, cfg, ph)
		if col.Role == RoleNumeric && nonNegName.MatchString(normName(c.Name)) {
			col.NonNegative = true
		}
		s.Columns = append(s.Columns, col)
	}
	var errs []error
	if o != nil {
		errs = append(errs, s.applyColumns(o)...)
	}
	s.detectWon(t, ph)
	s.detectChurn(t)
	s.assignNamed()
	if o != nil {
		errs = append(errs, s.applyOutcomes(o, t)...)
	}
	g := newGuard(t, s, ph)
	if g != nil {
		s.checkCloseDate(t, g, o)
		g.setClose(t.Column(s.Outcomes.CloseDate))
		s.guardColumns(t, g)
	}
	errs = append(errs, s.detectValue(t, o)...)
	errs = append(errs, s.detectChannel(t, ph, o)...)
	if s.Outcomes.Won == "" && s.Outcomes.Churned == "" {
		s.hint = s.outcomeHint(t, ph)
	}
	if err := errors.Join(errs...); err != nil {
		return s, fmt.Errorf("apply schema override: %w: %w", icp.ErrInvalid, err)
	}
	return s, nil
}

// checkCloseDate keeps the close date only when it is filled for most
// closed deals of both outcomes; a date filled for one outcome only (the
// closing date of failed companies) is not when deals closed but a sign of
// how they ended, and becomes leakage.
func (s *Schema) checkCloseDate(t *datasets.Table, g *guard, o *Override) {
	name := s.Outcomes.CloseDate
	if name == "" || g.posName != "won" || o != nil && o.Outcomes != nil && o.Outcomes.CloseDate != "" {
		return
	}
	sc, c := s.Column(name), t.Column(name)
	fp, fn := g.fillRates(c)
	if fp >= 0.5 && fn >= 0.5 {
		return
	}
	s.Outcomes.CloseDate = ""
	sc.Role = RoleLeakage
	sc.Leakage, _ = g.check(c, sc)
	sc.Reason = fmt.Sprintf("not the close date: filled for %.0f%% of won and %.0f%% of lost deals, so it tells how a deal ended rather than when; left out as leakage",
		100*fp, 100*fn)
}

// Override changes inferred roles. It is read from a JSON file such as
//
//	{"columns": {"subsidiary_of": {"role": "excluded"},
//	             "Amount": {"role": "numeric"}},
//	 "outcomes": {"won": "Stage", "values": {"Signed": "won", "Dropped": "lost"}},
//	 "placeholders": ["Select", "Unknown", "n/a"]}
//
// A column set here keeps its role whatever inference and the leakage
// guard find; "placeholders" replaces the list of values read as missing.
type Override struct {
	Columns      map[string]ColumnOverride `json:"columns"`
	Outcomes     *Outcomes                 `json:"outcomes,omitempty"`
	Placeholders *[]string                 `json:"placeholders,omitempty"`
	// Channel names the lead source or channel column; "" says there is
	// none.
	Channel *string `json:"channel,omitempty"`
}

// ColumnOverride sets a column's role and, for tags, its separator.
type ColumnOverride struct {
	Role        Role   `json:"role"`
	Separator   string `json:"separator,omitempty"`
	NonNegative *bool  `json:"non_negative,omitempty"`
}

// ReadOverride reads an override file. Unknown keys are errors, so a typo
// does not pass silently.
func ReadOverride(path string) (*Override, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read schema override: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	var o Override
	if err := dec.Decode(&o); err != nil {
		return nil, fmt.Errorf("read schema override %s: %w: %w", path, icp.ErrInvalid, err)
	}
	return &o, nil
}

// Apply applies o to an inferred schema. Every column it names must exist
// and every role must be known. Without the table it cannot detect the
// outcome again nor rerun the leakage guard; InferWith can, and is what
// train uses.
func (s *Schema) Apply(o *Override) error {
	if o == nil {
		return nil
	}
	errs := s.applyColumns(o)
	s.dropStaleOutcomes()
	if o.Placeholders != nil {
		s.Placeholders = append([]string{}, (*o.Placeholders)...)
	}
	s.ID = ""
	s.assignNamed()
	errs = append(errs, s.applyOutcomes(o, nil)...)
	errs = append(errs, s.applyValueChannel(o)...)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("apply schema override: %w: %w", icp.ErrInvalid, err)
	}
	return nil
}

// applyColumns sets the roles o names.
func (s *Schema) applyColumns(o *Override) []error {
	var errs []error
	names := make([]string, 0, len(o.Columns))
	for name := range o.Columns {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		co := o.Columns[name]
		c := s.Column(name)
		switch {
		case c == nil:
			errs = append(errs, fmt.Errorf("column %q: not in the table", name))
			continue
		case !co.Role.valid():
			errs = append(errs, fmt.Errorf("column %q: unknown role %q", name, co.Role))
			continue
		case co.Role == RoleNumeric && c.Kind != "number" && c.Kind != "bool":
			errs = append(errs, fmt.Errorf("column %q: role numeric needs numbers, the column holds %ss", name, c.Kind))
			continue
		case co.Role == RoleDate && c.Kind != "date":
			errs = append(errs, fmt.Errorf("column %q: role date needs dates, the column holds %ss", name, c.Kind))
			continue
		case co.Role == RoleTags && c.Kind != "string":
			errs = append(errs, fmt.Errorf("column %q: role tags needs text, the column holds %ss", name, c.Kind))
			continue
		case co.Role == RoleTags && co.Separator != "" && strings.TrimSpace(co.Separator) == "":
			errs = append(errs, fmt.Errorf("column %q: separator %q is only white space", name, co.Separator))
			continue
		}
		c.Role, c.Reason, c.Overridden = co.Role, "set by the schema override", true
		if co.Role == RoleTags {
			if co.Separator != "" {
				c.Separator = co.Separator
			} else if c.Separator == "" {
				c.Separator = ";"
			}
		} else {
			c.Separator = ""
		}
		if co.NonNegative != nil {
			c.NonNegative = *co.NonNegative
		}
	}
	return errs
}

// applyOutcomes sets the outcome columns and value meanings o names. With
// the table t (nil: none) a won column named here gets its value map read
// from its content.
func (s *Schema) applyOutcomes(o *Override, t *datasets.Table) []error {
	if o.Outcomes == nil {
		return nil
	}
	var errs []error
	oo := o.Outcomes
	set := func(dst *string, v string) {
		if v == "" {
			return
		}
		c := s.Column(v)
		if c == nil {
			errs = append(errs, fmt.Errorf("outcome column %q: not in the table", v))
			return
		}
		if *dst != "" && *dst != v {
			if old := s.Column(*dst); old != nil && !old.Overridden {
				old.Reason += fmt.Sprintf("; %q is the outcome by the schema override", v)
			}
		}
		c.Role, c.Reason, c.Overridden, c.Separator = RoleOutcome, "outcome set by the schema override", true, ""
		*dst = v
	}
	if oo.Won != "" && oo.Won != s.Outcomes.Won {
		s.Outcomes.Values = nil
		if t != nil {
			if c := t.Column(oo.Won); c != nil && c.Kind == datasets.String {
				s.Outcomes.Values = make(map[string]string)
				sp := make(spellings)
				for _, v := range c.Str {
					if v != "" {
						sp.add(valueKey(v), v)
					}
				}
				for k := range sp {
					v := sp.best(k)
					s.Outcomes.Values[v], _, _ = wordMeaning(v)
				}
			}
		}
	}
	set(&s.Outcomes.Won, oo.Won)
	set(&s.Outcomes.CloseDate, oo.CloseDate)
	set(&s.Outcomes.CycleDays, oo.CycleDays)
	set(&s.Outcomes.LTV, oo.LTV)
	set(&s.Outcomes.Churned, oo.Churned)
	if len(oo.Values) > 0 {
		if s.Outcomes.Values == nil {
			s.Outcomes.Values = make(map[string]string, len(oo.Values))
		}
		keys := make([]string, 0, len(oo.Values))
		for v := range oo.Values {
			keys = append(keys, v)
		}
		sort.Strings(keys)
		for _, v := range keys {
			m := oo.Values[v]
			if m != MeaningWon && m != MeaningLost && m != MeaningOpen {
				errs = append(errs, fmt.Errorf("outcome value %q: meaning %q is not won, lost or open", v, m))
				continue
			}
			// The override's spelling replaces an inferred one.
			for raw := range s.Outcomes.Values {
				if valueKey(raw) == valueKey(v) {
					delete(s.Outcomes.Values, raw)
				}
			}
			s.Outcomes.Values[v] = m
		}
	}
	return errs
}

// dropStaleOutcomes forgets outcome columns whose role is no longer
// outcome.
func (s *Schema) dropStaleOutcomes() {
	o := &s.Outcomes
	for _, name := range []*string{&o.Won, &o.CloseDate, &o.CycleDays, &o.LTV, &o.Churned} {
		if c := s.Column(*name); *name != "" && (c == nil || c.Role != RoleOutcome) {
			if name == &o.Won {
				o.Values = nil
			}
			*name = ""
		}
	}
}

// WriteTable prints the schema as an aligned table: column, role, kind and
// the reason for the role. Leakage columns come first, so that nobody
// misses what was left out and why; the others follow in table order. A
// last line lists the placeholders read as missing.
func (s *Schema) WriteTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "column\trole\tkind\twhy")
	for pass := 0; pass < 2; pass++ {
		for _, c := range s.Columns {
			if (c.Role == RoleLeakage) == (pass == 0) {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Name, c.Role, c.Kind, c.Reason)
			}
		}
	}
	tw.Flush()
	if len(s.Placeholders) > 0 {
		q := make([]string, len(s.Placeholders))
		for k, p := range s.Placeholders {
			q[k] = strconv.Quote(p)
		}
		fmt.Fprintf(w, "\nread as missing in text columns, in any case: %s (\"placeholders\" in the schema file changes the list)\n", strings.Join(q, ", "))
	}
}
