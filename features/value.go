package features

import (
	"fmt"
	"math"
	"regexp"

	"github.com/icpengine/icp/datasets"
)

// valueNames are the names of value outcomes, strongest first: what a won
// deal or a customer is worth. A firmographic size ("annual_revenue") is
// none of them; a pipeline estimate ("expected_revenue") neither.
var valueNames = []*regexp.Regexp{
	ltvName,
	regexp.MustCompile(`^(won|closed?|booked)_?(amount|value|revenue)$|^(contract|deal|opportunity|opp)_?(value|amount|size)$|^(total_?)?contract_?value$|^(acv|tcv)(_usd)?$|^amount(_usd)?$`),
	regexp.MustCompile(`^(total_?revenue|revenue_?won|lifetime_?revenue|bookings?)(_usd)?$`),
	regexp.MustCompile(`^(arr|mrr)(_?amount|_usd)?$`),
}

// minValueFill is the least share of won deals (of customers, in a churn
// table) whose value a column named like a value must hold, above zero.
const minValueFill = 0.5

// detectValue names the value outcome (Outcomes.Value): the override's, or
// the LTV column, or else the first column named like a value (see
// valueNames) that is no feature, holds numbers that are not negative, and
// is filled above zero for at least half of the won deals. The column keeps
// its role (an outcome, or leakage: an amount filled only for won deals is
// both what a deal was worth and a leak); its reason says it is the value.
func (s *Schema) detectValue(t *datasets.Table, o *Override) []error {
	if o != nil && o.Outcomes != nil && o.Outcomes.Value != "" {
		return s.setValue(o.Outcomes.Value, t)
	}
	if s.Outcomes.LTV != "" {
		s.Outcomes.Value = s.Outcomes.LTV
		return nil
	}
	won := s.wonRows(t)
	for _, re := range valueNames {
		for k := range s.Columns {
			sc, c := &s.Columns[k], t.Columns[k]
			if sc.Role.IsFeature() || sc.Role == RoleID || sc.Overridden || c.Kind != datasets.Number || !re.MatchString(normName(sc.Name)) {
				continue
			}
			fill, neg := valueFill(c, won)
			if fill < minValueFill || neg {
				continue
			}
			s.Outcomes.Value = sc.Name
			sc.Reason += fmt.Sprintf("; the value outcome by name, filled for %.0f%% of won deals: what a won deal is worth, the value model's target", 100*fill)
			return nil
		}
	}
	return nil
}

// setValue makes the named column the value outcome, as the override asks:
// it must hold numbers; a feature becomes an outcome.
func (s *Schema) setValue(name string, t *datasets.Table) []error {
	sc := s.Column(name)
	switch {
	case sc == nil:
		return []error{fmt.Errorf("value column %q: not in the table", name)}
	case sc.Kind != datasets.Number.String():
		return []error{fmt.Errorf("value column %q: needs numbers, the column holds %ss", name, sc.Kind)}
	}
	if t != nil {
		if c := t.Column(name); c != nil {
			if _, neg := valueFill(c, nil); neg {
				return []error{fmt.Errorf("value column %q: holds negative values", name)}
			}
		}
	}
	if sc.Role.IsFeature() {
		sc.Role, sc.Separator = RoleOutcome, ""
	}
	sc.Reason += "; the value outcome, set by the schema override"
	sc.Overridden = true
	s.Outcomes.Value = name
	return nil
}

// wonRows returns the won rows (every row in a table of customers with a
// churn column and no won column), nil when there is no outcome.
func (s *Schema) wonRows(t *datasets.Table) []int {
	var rows []int
	if c := t.Column(s.Outcomes.Won); c != nil && s.Outcomes.Won != "" {
		for i := 0; i < t.Rows(); i++ {
			if s.Outcomes.Meaning(c, i) == MeaningWon {
				rows = append(rows, i)
			}
		}
		return rows
	}
	if s.Outcomes.Churned == "" {
		return nil
	}
	for i := 0; i < t.Rows(); i++ {
		rows = append(rows, i)
	}
	return rows
}

// valueFill returns the share of rows (nil: none, and fill is 0) where c
// holds a value above zero, and whether more than 1% of c's filled cells
// are negative.
func valueFill(c *datasets.Column, rows []int) (fill float64, neg bool) {
	filled, negative := 0, 0
	for _, v := range c.Num {
		if !math.IsNaN(v) {
			filled++
			if v < 0 {
				negative++
			}
		}
	}
	above := 0
	for _, i := range rows {
		if v := c.Num[i]; v > 0 {
			above++
		}
	}
	if len(rows) > 0 {
		fill = float64(above) / float64(len(rows))
	}
	return fill, negative > filled/100
}

// applyValueChannel applies the value column and the channel an override
// names, without the table (see Apply).
func (s *Schema) applyValueChannel(o *Override) []error {
	var errs []error
	if c := s.Column(s.Outcomes.Value); s.Outcomes.Value != "" && (c == nil || c.Role.IsFeature()) {
		s.Outcomes.Value = ""
	}
	if o.Outcomes != nil && o.Outcomes.Value != "" {
		errs = append(errs, s.setValue(o.Outcomes.Value, nil)...)
	}
	if c := s.Column(s.Channel); s.Channel != "" && c == nil {
		s.Channel = ""
	}
	if o.Channel != nil {
		errs = append(errs, s.setChannel(*o.Channel)...)
	}
	return errs
}
