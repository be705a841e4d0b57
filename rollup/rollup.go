// Package rollup turns a CRM's two-table export, a table of accounts and
// a one-to-many table of their deals (Salesforce Accounts and
// Opportunities, HubSpot companies and deals), into one table of accounts
// with an account-level outcome, ready for schema inference and training.
// A third table of churn events may add when each account churned.
//
// It finds what it needs by the names and the content of the columns: the
// key by the overlap of values (the names may differ: "Account ID" and
// "AccountId"); the deal stage and close date with the outcome detection
// of package features; the amount and the creation date by name. Every
// choice can be told (Config) and is reported (Report). The mechanics of
// the join are datasets.RollupDeals and datasets.RollupEvents.
//
// Deal columns become outcomes, never features: an account is won when
// any deal closed won, lost when all its closed deals were lost, open
// otherwise (scored, not trained on); the close date and cycle of the
// deciding deal and the sum of won amounts are outcome columns. No deal
// column is aggregated into a feature: counts of deals or products grow
// after a win (renewals, upsells), and a column known before the sale
// cannot be told apart from one filled after it by the data alone.
package rollup

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/features"
)

// Config tells what detection would otherwise find. The zero value
// detects everything.
type Config struct {
	// AccountKey and DealKey name the key in the accounts and in the deals
	// (and in the churn events); one of them empty means the same name in
	// both, both empty means detect.
	AccountKey, DealKey string
	// Stage, CloseDate, Created and Amount name deal columns.
	Stage, CloseDate, Created, Amount string
}

// The columns Join adds to the accounts (a suffix is added when the
// accounts have a column of the name).
const (
	OutcomeColumn   = "deal_outcome"
	CloseDateColumn = "deal_close_date"
	CycleColumn     = "deal_cycle_days"
	ValueColumn     = "won_amount"
	ChurnDateColumn = "churn_date"
)

// Report says what Join found and did.
type Report struct {
	AccountKey, DealKey string
	// KeyOverlap is the share of the deals' distinct keys found among the
	// accounts' keys.
	KeyOverlap float64
	// Stage is the deal column read as won/lost/open ("" when every deal
	// counts as won), with the meaning of each of its values.
	Stage                      string
	StageValues                map[string]string
	CloseDate, Created, Amount string
	Stats                      datasets.RollupStats
	// LeftOut lists the deal columns that are not used.
	LeftOut []string
	// Churn events: the key, the date column and the churned accounts.
	EventKey, EventDate string
	Churned             int
	// Override names the derived outcome columns for schema inference.
	Override *features.Override
}

// Join rolls deals (and churn events, either may be nil) up onto the
// accounts. The returned override names the derived outcome columns;
// merge it under the user's own (see Merge).
func Join(accounts, deals, churn *datasets.Table, cfg Config) (*datasets.Table, *Report, error) {
	if deals == nil && churn == nil {
		return nil, nil, errors.New("join: neither deals nor churn events")
	}
	rep := &Report{Override: &features.Override{Outcomes: &features.Outcomes{}}}
	out := accounts
	if deals != nil {
		var err error
		if out, err = joinDeals(out, deals, cfg, rep); err != nil {
			return nil, nil, err
		}
	}
	if churn != nil {
		var err error
		if out, err = joinChurn(out, churn, cfg, rep); err != nil {
			return nil, nil, err
		}
	}
	return out, rep, nil
}

func joinDeals(accounts, deals *datasets.Table, cfg Config, rep *Report) (*datasets.Table, error) {
	ak, dk, share, err := findKey(accounts, deals, cfg, "deals")
	if err != nil {
		return nil, err
	}
	rep.AccountKey, rep.DealKey, rep.KeyOverlap = ak, dk, share
	s := features.Infer(deals, features.InferConfig{})
	spec := datasets.DealRollup{AccountKey: ak, DealKey: dk}
	stage := cfg.Stage
	if stage == "" {
		stage = s.Outcomes.Won
	}
	if stage != "" {
		sc, c := s.Column(stage), deals.Column(stage)
		if sc == nil || c == nil {
			return nil, fmt.Errorf("join: stage column %q not in the deals: %w", stage, icp.ErrInvalid)
		}
		o := s.Outcomes
		if stage != s.Outcomes.Won {
			o = features.Outcomes{}
		}
		rep.Stage = stage
		rep.StageValues = stageValues(c, &o)
		spec.Outcome = func(i int) datasets.DealOutcome {
			switch o.Meaning(c, i) {
			case features.MeaningWon:
				return datasets.DealWon
			case features.MeaningLost:
				return datasets.DealLost
			}
			return datasets.DealOpen
		}
	}
	used := map[string]bool{dk: true, stage: true}
	pick := func(told string, kind datasets.Kind, name *regexp.Regexp, prefer string) string {
		if told != "" {
			return told
		}
		if prefer != "" && deals.Column(prefer) != nil && deals.Column(prefer).Kind == kind && !used[prefer] {
			return prefer
		}
		for _, c := range deals.Columns {
			if c.Kind == kind && !used[c.Name] && name.MatchString(key(c.Name)) {
				if sc := s.Column(c.Name); sc != nil && sc.Role == features.RoleID {
					continue
				}
				return c.Name
			}
		}
		return ""
	}
	spec.CloseDate = pick(cfg.CloseDate, datasets.Date, closeName, s.Outcomes.CloseDate)
	used[spec.CloseDate] = true
	spec.Created = pick(cfg.Created, datasets.Date, createdName, "")
	used[spec.Created] = true
	if stage == "" && spec.CloseDate == "" && cfg.Created == "" {
		// Every row is a sale: it closed when it started.
		spec.CloseDate, spec.Created = spec.Created, ""
	}
	spec.Amount = cfg.Amount
	if spec.Amount == "" {
		best := 0
		for _, c := range deals.Columns {
			if r := amountRank(key(c.Name)); c.Kind == datasets.Number && !used[c.Name] && r > best {
				spec.Amount, best = c.Name, r
			}
		}
	}
	used[spec.Amount] = true
	rep.CloseDate, rep.Created, rep.Amount = spec.CloseDate, spec.Created, spec.Amount
	for _, c := range deals.Columns {
		if !used[c.Name] {
			rep.LeftOut = append(rep.LeftOut, c.Name)
		}
	}
	spec.OutcomeName = freeName(accounts, OutcomeColumn)
	spec.CloseName = freeName(accounts, CloseDateColumn)
	spec.CycleName = freeName(accounts, CycleColumn)
	spec.ValueName = freeName(accounts, ValueColumn)
	out, st, err := datasets.RollupDeals(accounts, deals, spec)
	if err != nil {
		return nil, fmt.Errorf("join: %w", err)
	}
	rep.Stats = st
	o := rep.Override.Outcomes
	o.Won, o.Values = spec.OutcomeName, map[string]string{"won": features.MeaningWon, "lost": features.MeaningLost, "open": features.MeaningOpen}
	if spec.CloseDate != "" {
		o.CloseDate = spec.CloseName
	}
	if spec.CloseDate != "" && spec.Created != "" {
		o.CycleDays = spec.CycleName
	}
	if spec.Amount != "" {
		o.LTV = spec.ValueName
	}
	// Unused derived columns are left out rather than read as features.
	rep.Override.Columns = map[string]features.ColumnOverride{}
	for _, n := range []string{spec.CloseName, spec.CycleName, spec.ValueName} {
		if n != o.CloseDate && n != o.CycleDays && n != o.LTV {
			rep.Override.Columns[n] = features.ColumnOverride{Role: features.RoleExcluded}
		}
	}
	return out, nil
}

func joinChurn(accounts, events *datasets.Table, cfg Config, rep *Report) (*datasets.Table, error) {
	ak, ek, _, err := findKey(accounts, events, cfg, "churn events")
	if err != nil {
		return nil, err
	}
	s := features.Infer(events, features.InferConfig{})
	date := ""
	if c := events.Column(s.Outcomes.Churned); c != nil && c.Kind == datasets.Date {
		date = c.Name
	}
	for pass := 0; pass < 2 && date == ""; pass++ {
		for _, c := range events.Columns {
			if c.Kind == datasets.Date && (pass == 1 || churnName.MatchString(key(c.Name))) {
				date = c.Name
				break
			}
		}
	}
	if date == "" {
		return nil, fmt.Errorf("join: the churn events have no date column: %w", icp.ErrInvalid)
	}
	name := freeName(accounts, ChurnDateColumn)
	out, n, err := datasets.RollupEvents(accounts, events, datasets.EventRollup{AccountKey: ak, EventKey: ek, Date: date, DateName: name})
	if err != nil {
		return nil, fmt.Errorf("join: %w", err)
	}
	rep.EventKey, rep.EventDate, rep.Churned = ek, date, n
	rep.Override.Outcomes.Churned = name
	return out, nil
}

// Name patterns, on names lower-cased with everything but letters and
// digits removed.
var (
	closeName   = regexp.MustCompile(`(close|closed|won|decision)(date|at|on|time)?$`)
	createdName = regexp.MustCompile(`(created|createdate|createddate|opened|opendate|engage|engaged|engagedate|startdate|start)`)
	churnName   = regexp.MustCompile(`(churn|cancel|terminat|end)`)
)

// amountRank ranks a column name as the deal's amount: 0 when it is not
// one; a deal's own amount or a yearly value above a plain "value" or
// "revenue", and a monthly one last.
func amountRank(k string) int {
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(k, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has("probability", "percent", "pct", "discount", "quantity", "count"):
		return 0
	case has("mrr", "monthly"):
		return 1
	case k == "amount" || k == "closevalue" || k == "dealvalue" || k == "arr" || k == "acv" || k == "tcv":
		return 4
	case has("amount", "closevalue", "dealvalue", "dealsize", "bookings", "arr", "acv", "tcv"):
		return 3
	case has("value", "revenue", "price"):
		return 2
	}
	return 0
}

// key is a column name lower-cased with only its letters and digits:
// "Account ID" and "AccountId" are both "accountid".
func key(name string) string {
	var b strings.Builder
	for _, r := range name {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// freeName returns name, or name with a numeric suffix when the accounts
// have a column of that name.
func freeName(t *datasets.Table, name string) string {
	if t.Column(name) == nil {
		return name
	}
	for k := 2; ; k++ {
		if n := fmt.Sprintf("%s_%d", name, k); t.Column(n) == nil {
			return n
		}
	}
}

// stageValues is the meaning of each value of the stage column.
func stageValues(c *datasets.Column, o *features.Outcomes) map[string]string {
	out := make(map[string]string)
	if c.Kind != datasets.String {
		return out
	}
	for i, v := range c.Str {
		if _, ok := out[v]; !ok && v != "" {
			out[v] = o.Meaning(c, i)
		}
	}
	return out
}

// findKey finds the column pair that joins the other table to the
// accounts: among the accounts' columns whose values are (nearly) unique,
// and every column of the other table, the pair whose values overlap most
// (the share of the other table's distinct keys that are account keys),
// names breaking ties; the key must cover half of them at least.
func findKey(accounts, other *datasets.Table, cfg Config, what string) (ak, ok string, share float64, err error) {
	if cfg.AccountKey != "" || cfg.DealKey != "" {
		ak, ok = cfg.AccountKey, cfg.DealKey
		if ak == "" {
			ak = ok
		}
		if ok == "" {
			ok = ak
		}
		a, o := accounts.Column(ak), other.Column(ok)
		if a == nil || o == nil {
			return "", "", 0, fmt.Errorf("join: key %q of the accounts or %q of the %s not found: %w", ak, ok, what, icp.ErrInvalid)
		}
		share, _ = datasets.KeyOverlap(a, o, 0)
		return ak, ok, share, nil
	}
	type cand struct {
		a, o    string
		share   float64
		sameKey bool
	}
	var cands []cand
	for _, a := range accounts.Columns {
		if a.Kind == datasets.Date || a.Kind == datasets.Bool || !unique(a) {
			continue
		}
		for _, o := range other.Columns {
			if o.Kind == datasets.Date || o.Kind == datasets.Bool {
				continue
			}
			s, n := datasets.KeyOverlap(a, o, 50_000)
			if n == 0 || s == 0 {
				continue
			}
			cands = append(cands, cand{a.Name, o.Name, s, key(a.Name) == key(o.Name)})
		}
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if math.Abs(cands[i].share-cands[j].share) > 1e-9 {
			return cands[i].share > cands[j].share
		}
		return cands[i].sameKey && !cands[j].sameKey
	})
	if len(cands) == 0 || cands[0].share < 0.5 {
		hint := "no column of the " + what + " shares values with a unique column of the accounts"
		if len(cands) > 0 {
			hint = fmt.Sprintf("the best pair, %q and %q, shares only %.0f%% of the keys", cands[0].a, cands[0].o, 100*cands[0].share)
		}
		return "", "", 0, fmt.Errorf("join: no key found: %s; name it with --join-key: %w", hint, icp.ErrInvalid)
	}
	return cands[0].a, cands[0].o, cands[0].share, nil
}

// unique reports whether the column's present values are nearly all
// distinct (at most 1% repeats), and there are two or more.
func unique(c *datasets.Column) bool {
	seen := make(map[string]struct{}, c.Len())
	present := 0
	for i := range c.Len() {
		k := strings.TrimSpace(c.Text(i))
		if k == "" {
			continue
		}
		present++
		seen[k] = struct{}{}
	}
	return len(seen) >= 2 && float64(len(seen)) >= 0.99*float64(present)
}

// Merge returns the override of the user (nil: none) over the one Join
// made: the user's columns, outcomes and placeholders win.
func Merge(user, join *features.Override) *features.Override {
	if user == nil {
		return join
	}
	if join == nil {
		return user
	}
	out := &features.Override{Columns: map[string]features.ColumnOverride{}, Placeholders: user.Placeholders}
	for k, v := range join.Columns {
		out.Columns[k] = v
	}
	for k, v := range user.Columns {
		out.Columns[k] = v
	}
	o := *join.Outcomes
	if u := user.Outcomes; u != nil {
		for _, p := range []struct{ dst, src *string }{{&o.Won, &u.Won}, {&o.CloseDate, &u.CloseDate},
			{&o.CycleDays, &u.CycleDays}, {&o.LTV, &u.LTV}, {&o.Churned, &u.Churned}} {
			if *p.src != "" {
				*p.dst = *p.src
			}
		}
		if u.Won != "" {
			o.Values = u.Values
		}
	}
	out.Outcomes = &o
	return out
}
