package features

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"sort"
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
}

// Outcomes names the outcome columns; an empty name means absent.
type Outcomes struct {
	// Won holds won/lost (or another deal stage; open stages are unlabeled).
	Won       string `json:"won,omitempty"`
	CloseDate string `json:"close_date,omitempty"`
	CycleDays string `json:"cycle_days,omitempty"`
	LTV       string `json:"ltv,omitempty"`
	Churned   string `json:"churned,omitempty"`
}

// Schema is the role of every column of the training table.
type Schema struct {
	Columns  []Column `json:"columns"`
	Outcomes Outcomes `json:"outcomes"`
	// ID names the account id column, "" when there is none.
	ID string `json:"id,omitempty"`
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

// InferConfig tunes schema inference. The zero value is ready to use.
type InferConfig struct {
	// MaxLevels is the most distinct values a categorical column may have;
	// a string column with more is free text and excluded. Zero means 200.
	MaxLevels int
}

var (
	idName      = regexp.MustCompile(`^(id|uuid|key|permalink|object_id)$|_id$|^id_`)
	camelID     = regexp.MustCompile(`[a-z](Id|ID)$`)
	nameName    = regexp.MustCompile(`(?i)(^name$|_name$|^title$|^url$|^email$|^homepage|^website|^domain$|^phone)`)
	wonName     = regexp.MustCompile(`(?i)^(outcome|won|is_won|deal_outcome|deal_stage|stage|status|result|deal_status|opportunity_stage)$`)
	closeName   = regexp.MustCompile(`(?i)^(close_date|closed_at|closed_date|close_at|date_closed|closedate)$`)
	cycleName   = regexp.MustCompile(`(?i)(sales_cycle|cycle_days|days_to_close)`)
	ltvName     = regexp.MustCompile(`(?i)(^ltv|_ltv|^cltv$|lifetime_value)`)
	churnName   = regexp.MustCompile(`(?i)^(churn|churned|is_churned|churn_flag|churn_value|churn_label)$`)
	leakName    = regexp.MustCompile(`(?i)(churn|^closed?_|_closed?_|close_value|closed_at|reason|cltv|^ltv|_ltv|lifetime|cycle|refund|won_|lost_)`)
	nonNegName  = regexp.MustCompile(`(?i)(employee|revenue|count|visits|users|tickets|seats|amount|arr$|mrr$|ltv|funding_total|headcount)`)
	tagsName    = regexp.MustCompile(`(?i)(tech_stack|technologies|techstack|tags|tools|stack)`)
	tagSepOrder = []string{";", "|"}
)

// Infer classifies every column of t by name and content. Each column's
// Reason says why.
func Infer(t *datasets.Table, cfg InferConfig) *Schema {
	if cfg.MaxLevels == 0 {
		cfg.MaxLevels = 200
	}
	s := &Schema{}
	rows := t.Rows()
	for _, c := range t.Columns {
		col := Column{Name: c.Name, Kind: c.Kind.String()}
		col.Role, col.Reason = inferRole(c, rows, cfg)
		if col.Role == RoleTags {
			col.Separator = tagSeparator(c.Str)
		}
		if col.Role == RoleNumeric && nonNegName.MatchString(normName(c.Name)) {
			col.NonNegative = true
		}
		s.Columns = append(s.Columns, col)
	}
	s.assignOutcomes()
	return s
}

// normName lower-cases a column name and turns spaces and hyphens into
// underscores, so that "Churn Label" matches the patterns like "churn_label".
func normName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '.' {
			return '_'
		}
		return r
	}, strings.ToLower(strings.TrimSpace(s)))
}

func inferRole(c *datasets.Column, rows int, cfg InferConfig) (Role, string) {
	present := rows - missingCount(c)
	name := normName(c.Name)
	switch {
	case present == 0:
		return RoleExcluded, "every value is missing"
	case wonName.MatchString(name) && c.Kind != datasets.Number && c.Kind != datasets.Date:
		return RoleOutcome, "outcome by name"
	case closeName.MatchString(name) && c.Kind == datasets.Date:
		return RoleOutcome, "close date by name"
	case cycleName.MatchString(name) && c.Kind == datasets.Number:
		return RoleOutcome, "sales cycle by name"
	case ltvName.MatchString(name) && c.Kind == datasets.Number:
		return RoleOutcome, "lifetime value by name"
	case churnName.MatchString(name) && (c.Kind == datasets.Bool || c.Kind == datasets.Number && isBinary(c.Num) || c.Kind == datasets.String && distinct(c.Str) <= 3):
		return RoleOutcome, "churn flag by name"
	case leakName.MatchString(name):
		return RoleLeakage, "known only after the outcome, by name"
	case idName.MatchString(name) || camelID.MatchString(c.Name):
		return RoleID, "identifier by name"
	}
	switch c.Kind {
	case datasets.Bool:
		return RoleBoolean, "true/false values"
	case datasets.Date:
		return RoleDate, "date values"
	case datasets.Number:
		if isBinary(c.Num) {
			return RoleBoolean, "only 0 and 1"
		}
		return RoleNumeric, "numeric values"
	}
	// String columns.
	n := distinct(c.Str)
	if tagsName.MatchString(name) || looksLikeTags(c.Str) {
		return RoleTags, "lists of tags in one cell"
	}
	if nameName.MatchString(name) {
		return RoleExcluded, "free text by name"
	}
	if n == present && present > 20 {
		return RoleExcluded, "every value is different (identifier or free text)"
	}
	if n > cfg.MaxLevels {
		return RoleExcluded, fmt.Sprintf("%d distinct values: too many for a category (free text?)", n)
	}
	if n == 1 {
		return RoleExcluded, "a single value"
	}
	return RoleCategorical, fmt.Sprintf("%d distinct values", n)
}

// assignOutcomes picks the outcome columns from those with role outcome,
// choosing by name.
func (s *Schema) assignOutcomes() {
	o := &s.Outcomes
	for _, c := range s.Columns {
		switch {
		case c.Role == RoleID && s.ID == "":
			s.ID = c.Name
		case c.Role != RoleOutcome:
		case wonName.MatchString(normName(c.Name)) && o.Won == "":
			o.Won = c.Name
		case closeName.MatchString(normName(c.Name)) && o.CloseDate == "":
			o.CloseDate = c.Name
		case cycleName.MatchString(normName(c.Name)) && o.CycleDays == "":
			o.CycleDays = c.Name
		case ltvName.MatchString(normName(c.Name)) && o.LTV == "":
			o.LTV = c.Name
		case churnName.MatchString(normName(c.Name)) && o.Churned == "":
			o.Churned = c.Name
		}
	}
}

func missingCount(c *datasets.Column) int {
	n := 0
	for i := 0; i < c.Len(); i++ {
		if c.IsMissing(i) {
			n++
		}
	}
	return n
}

func isBinary(v []float64) bool {
	seen := false
	for _, x := range v {
		if math.IsNaN(x) {
			continue
		}
		if x != 0 && x != 1 {
			return false
		}
		seen = true
	}
	return seen
}

func distinct(v []string) int {
	m := make(map[string]struct{})
	for _, s := range v {
		if s != "" {
			m[s] = struct{}{}
		}
	}
	return len(m)
}

// looksLikeTags reports whether at least a fifth of the cells hold a list
// separated by ";" or "|" and the tags repeat across rows.
func looksLikeTags(v []string) bool {
	sep := tagSeparator(v)
	if sep == "" {
		return false
	}
	withSep, present := 0, 0
	tags := make(map[string]struct{})
	for _, s := range v {
		if s == "" {
			continue
		}
		present++
		if strings.Contains(s, sep) {
			withSep++
		}
		for _, t := range splitTags(s, sep) {
			tags[t] = struct{}{}
		}
	}
	return withSep*5 >= present && len(tags)*2 <= present
}

// tagSeparator returns the first of ";" and "|" found in the column's
// cells, defaulting to ";".
func tagSeparator(v []string) string {
	for _, sep := range tagSepOrder {
		for _, s := range v {
			if strings.Contains(s, sep) {
				return sep
			}
		}
	}
	return ";"
}

// splitTags splits a tags cell, trimming and dropping empty tags.
func splitTags(s, sep string) []string {
	parts := strings.Split(s, sep)
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Override changes inferred roles. It is read from a JSON file such as
//
//	{"columns": {"subsidiary_of": {"role": "excluded"},
//	             "close_value": {"role": "leakage"}},
//	 "outcomes": {"won": "deal_stage"}}
type Override struct {
	Columns  map[string]ColumnOverride `json:"columns"`
	Outcomes *Outcomes                 `json:"outcomes,omitempty"`
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

// Apply applies o to s. Every column it names must exist and every role
// must be known.
func (s *Schema) Apply(o *Override) error {
	if o == nil {
		return nil
	}
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
		}
		c.Role, c.Reason = co.Role, "set by the schema override"
		if co.Role == RoleTags {
			c.Separator = co.Separator
			if c.Separator == "" {
				c.Separator = ";"
			}
		} else {
			c.Separator = ""
		}
		if co.NonNegative != nil {
			c.NonNegative = *co.NonNegative
		}
	}
	if o.Outcomes != nil {
		for _, n := range []string{o.Outcomes.Won, o.Outcomes.CloseDate, o.Outcomes.CycleDays, o.Outcomes.LTV, o.Outcomes.Churned} {
			if n == "" {
				continue
			}
			c := s.Column(n)
			if c == nil {
				errs = append(errs, fmt.Errorf("outcome column %q: not in the table", n))
				continue
			}
			c.Role, c.Reason = RoleOutcome, "outcome set by the schema override"
		}
	}
	s.ID, s.Outcomes = "", Outcomes{}
	s.assignOutcomes()
	if o.Outcomes != nil {
		set := func(dst *string, v string) {
			if v != "" {
				*dst = v
			}
		}
		set(&s.Outcomes.Won, o.Outcomes.Won)
		set(&s.Outcomes.CloseDate, o.Outcomes.CloseDate)
		set(&s.Outcomes.CycleDays, o.Outcomes.CycleDays)
		set(&s.Outcomes.LTV, o.Outcomes.LTV)
		set(&s.Outcomes.Churned, o.Outcomes.Churned)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("apply schema override: %w: %w", icp.ErrInvalid, err)
	}
	return nil
}

// WriteTable prints the schema as an aligned table: column, role, kind and
// the reason for the role.
func (s *Schema) WriteTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "column\trole\tkind\twhy")
	for _, c := range s.Columns {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Name, c.Role, c.Kind, c.Reason)
	}
	tw.Flush()
}
