package datasets

import (
	"fmt"
	"math"
	"strings"

	"github.com/icpengine/icp"
)

// DealOutcome is what one deal says about its account.
type DealOutcome uint8

// The deal outcomes.
const (
	DealOpen DealOutcome = iota
	DealWon
	DealLost
)

// DealRollup says how a one-to-many table of deals rolls up onto a table
// of accounts (see RollupDeals).
type DealRollup struct {
	// AccountKey and DealKey name the key in each table; the key is
	// compared as trimmed text (a Number key as Column.Text writes it).
	AccountKey, DealKey string
	// Outcome reads deal row i; nil reads every deal as won (a table of
	// sales or subscriptions, with no stage).
	Outcome func(i int) DealOutcome
	// CloseDate, Created and Amount name deal columns (Date, Date and
	// Number); "" when the table has none.
	CloseDate, Created, Amount string
	// The names of the columns added to the accounts: the outcome ("won",
	// "lost" or "open"; missing for an account without deals), the close
	// date and the cycle in days of the deciding deal, and the sum of the
	// won amounts.
	OutcomeName, CloseName, CycleName, ValueName string
}

// RollupStats counts what RollupDeals joined.
type RollupStats struct {
	Deals, Matched, Orphans  int // deals; with a known account; without
	Won, Lost, Open, NoDeals int // accounts
	DuplicateKeys            int // accounts whose key repeats an earlier one
	MissingKeys              int // accounts without a key
}

// RollupDeals returns the accounts with four columns derived from their
// deals (named by r): an account is won when any of its deals closed won,
// lost when it has closed deals and all were lost, open otherwise (open
// deals only); the deciding deal is the first won deal (by close date) of
// a won account and the last lost deal of a lost one, and gives the close
// date and the cycle (close minus created, in days); the value is the sum
// of the amounts of the won deals. An account without deals has every
// derived value missing. Deals whose key matches no account are counted
// as orphans and left out; an account key that repeats gets the deals of
// the key on its first row only. accounts is not modified.
func RollupDeals(accounts, deals *Table, r DealRollup) (*Table, RollupStats, error) {
	var st RollupStats
	ak, dk := accounts.Column(r.AccountKey), deals.Column(r.DealKey)
	if ak == nil || dk == nil {
		return nil, st, fmt.Errorf("roll up deals: key %q or %q not found: %w", r.AccountKey, r.DealKey, icp.ErrInvalid)
	}
	col := func(name string, kinds ...Kind) (*Column, error) {
		if name == "" {
			return nil, nil
		}
		c := deals.Column(name)
		if c == nil {
			return nil, fmt.Errorf("roll up deals: column %q not in the deals: %w", name, icp.ErrInvalid)
		}
		for _, k := range kinds {
			if c.Kind == k {
				return c, nil
			}
		}
		return nil, fmt.Errorf("roll up deals: column %q holds %ss: %w", name, c.Kind, icp.ErrInvalid)
	}
	closeCol, err := col(r.CloseDate, Date)
	if err != nil {
		return nil, st, err
	}
	created, err := col(r.Created, Date)
	if err != nil {
		return nil, st, err
	}
	amount, err := col(r.Amount, Number)
	if err != nil {
		return nil, st, err
	}
	for _, n := range []string{r.OutcomeName, r.CloseName, r.CycleName, r.ValueName} {
		if n == "" || accounts.Column(n) != nil {
			return nil, st, fmt.Errorf("roll up deals: derived column %q is empty or already in the accounts: %w", n, icp.ErrInvalid)
		}
	}
	n := accounts.Rows()
	at := make(map[string]int, n)
	for i := range n {
		k := strings.TrimSpace(ak.Text(i))
		if k == "" {
			st.MissingKeys++
			continue
		}
		if _, dup := at[k]; dup {
			st.DuplicateKeys++
			continue
		}
		at[k] = i
	}
	// Per account: the deciding deal so far.
	type acc struct {
		deals              int
		won, lost          bool
		firstWon, lastLost int // deal rows, -1 when none
		value              float64
		hasValue           bool
	}
	accs := make([]acc, n)
	for i := range accs {
		accs[i].firstWon, accs[i].lastLost = -1, -1
	}
	day := func(c *Column, i int) float64 {
		if c == nil {
			return math.NaN()
		}
		return c.Num[i]
	}
	// earlier reports whether deal a closed before deal b (a missing date
	// counts as later than any date; ties keep the first in the file).
	earlier := func(a, b int) bool {
		da, db := day(closeCol, a), day(closeCol, b)
		switch {
		case math.IsNaN(da):
			return false
		case math.IsNaN(db):
			return true
		}
		return da < db
	}
	st.Deals = deals.Rows()
	for i := range deals.Rows() {
		k := strings.TrimSpace(dk.Text(i))
		a, ok := at[k]
		if !ok || k == "" {
			st.Orphans++
			continue
		}
		st.Matched++
		o := DealWon
		if r.Outcome != nil {
			o = r.Outcome(i)
		}
		s := &accs[a]
		s.deals++
		switch o {
		case DealWon:
			s.won = true
			if s.firstWon < 0 || earlier(i, s.firstWon) {
				s.firstWon = i
			}
			if amount != nil && !amount.IsMissing(i) {
				s.value += amount.Num[i]
				s.hasValue = true
			}
		case DealLost:
			s.lost = true
			if s.lastLost < 0 || earlier(s.lastLost, i) {
				s.lastLost = i
			}
		}
	}
	outc := &Column{Name: r.OutcomeName, Kind: String, Str: make([]string, n)}
	closeOut := &Column{Name: r.CloseName, Kind: Date, Num: make([]float64, n)}
	cycle := &Column{Name: r.CycleName, Kind: Number, Num: make([]float64, n)}
	value := &Column{Name: r.ValueName, Kind: Number, Num: make([]float64, n)}
	for i := range n {
		s := accs[i]
		closeOut.Num[i], cycle.Num[i], value.Num[i] = math.NaN(), math.NaN(), math.NaN()
		deciding := -1
		switch {
		case s.deals == 0:
			st.NoDeals++
			continue
		case s.won:
			outc.Str[i], deciding = "won", s.firstWon
			st.Won++
			value.Num[i] = 0
			if s.hasValue {
				value.Num[i] = s.value
			}
		case s.lost:
			outc.Str[i], deciding = "lost", s.lastLost
			st.Lost++
			if amount != nil {
				value.Num[i] = 0
			}
		default:
			outc.Str[i] = "open"
			st.Open++
			continue
		}
		if amount == nil {
			value.Num[i] = math.NaN()
		}
		closeOut.Num[i] = day(closeCol, deciding)
		if c := day(created, deciding); !math.IsNaN(c) && !math.IsNaN(closeOut.Num[i]) {
			cycle.Num[i] = math.Round(closeOut.Num[i] - c)
		}
	}
	out := &Table{Source: accounts.Source, Lines: accounts.Lines,
		Columns: append(append([]*Column(nil), accounts.Columns...), outc, closeOut, cycle, value)}
	return out, st, nil
}

// EventRollup says how a table of events (churn events) rolls up onto a
// table of accounts (see RollupEvents).
type EventRollup struct {
	AccountKey, EventKey string
	// Date names the event's date column (Date).
	Date string
	// DateName names the column added to the accounts: the date of the
	// account's first event, missing when it has none.
	DateName string
}

// RollupEvents returns the accounts with the date of each one's first
// event (a churn date: filled means churned), and how many accounts have
// one. Events without a date count, on the close of the table's dates:
// their account gets the latest date of the table. accounts is not
// modified.
func RollupEvents(accounts, events *Table, r EventRollup) (*Table, int, error) {
	ak, ek, dc := accounts.Column(r.AccountKey), events.Column(r.EventKey), events.Column(r.Date)
	if ak == nil || ek == nil || dc == nil || dc.Kind != Date {
		return nil, 0, fmt.Errorf("roll up events: key %q, %q or date %q not found or not a date: %w", r.AccountKey, r.EventKey, r.Date, icp.ErrInvalid)
	}
	if r.DateName == "" || accounts.Column(r.DateName) != nil {
		return nil, 0, fmt.Errorf("roll up events: derived column %q is empty or already in the accounts: %w", r.DateName, icp.ErrInvalid)
	}
	latest := math.Inf(-1)
	for _, v := range dc.Num {
		if !math.IsNaN(v) {
			latest = max(latest, v)
		}
	}
	first := make(map[string]float64)
	for i := range events.Rows() {
		k := strings.TrimSpace(ek.Text(i))
		if k == "" {
			continue
		}
		d := dc.Num[i]
		if math.IsNaN(d) {
			d = latest
		}
		if cur, ok := first[k]; !ok || d < cur {
			first[k] = d
		}
	}
	n := accounts.Rows()
	out := &Column{Name: r.DateName, Kind: Date, Num: make([]float64, n)}
	count := 0
	for i := range n {
		out.Num[i] = math.NaN()
		if d, ok := first[strings.TrimSpace(ak.Text(i))]; ok && !math.IsInf(d, 0) {
			out.Num[i] = d
			count++
		}
	}
	return &Table{Source: accounts.Source, Lines: accounts.Lines,
		Columns: append(append([]*Column(nil), accounts.Columns...), out)}, count, nil
}

// KeyOverlap returns the share of the distinct non-empty values of b (as
// trimmed text) that are values of a, and how many distinct values b has.
// It looks at most at limit distinct values of b (0: all).
func KeyOverlap(a, b *Column, limit int) (share float64, distinct int) {
	set := make(map[string]struct{}, a.Len())
	for i := range a.Len() {
		if k := strings.TrimSpace(a.Text(i)); k != "" {
			set[k] = struct{}{}
		}
	}
	seen := make(map[string]struct{})
	hit := 0
	for i := range b.Len() {
		k := strings.TrimSpace(b.Text(i))
		if k == "" {
			continue
		}
		if _, dup := seen[k]; dup {
			continue
		}
		if limit > 0 && len(seen) == limit {
			break
		}
		seen[k] = struct{}{}
		if _, ok := set[k]; ok {
			hit++
		}
	}
	if len(seen) == 0 {
		return 0, 0
	}
	return float64(hit) / float64(len(seen)), len(seen)
}
