package synth

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The export dialects of GenerateExport. DialectDefault is the table of
// Generate.
const (
	DialectDefault      = "default"
	DialectSalesforce   = "salesforce"
	DialectHubSpot      = "hubspot"
	DialectLeads        = "leads"
	DialectSubscription = "subscription"
	DialectTwoTable     = "twotable"
	DialectChannels     = "channels"
)

// Dialects lists the dialect names GenerateExport knows, DialectDefault
// first.
func Dialects() []string {
	return []string{DialectDefault, DialectSalesforce, DialectHubSpot, DialectLeads,
		DialectSubscription, DialectTwoTable, DialectChannels}
}

// NoSegment is the true segment of an account that belongs to none.
const NoSegment = "none"

// Sheet is one generated file of an export: a header and rows of cells
// written as the exporting system writes them.
type Sheet struct {
	// Name is a short name for the file, such as "opportunities".
	Name   string
	Header []string
	Rows   [][]string
}

// WriteCSV writes the sheet as comma-separated values, quoting only the
// cells that need it, with LF line endings.
func (s *Sheet) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(s.Header); err != nil {
		return fmt.Errorf("write %s: %w", s.Name, err)
	}
	if err := cw.WriteAll(s.Rows); err != nil {
		return fmt.Errorf("write %s: %w", s.Name, err)
	}
	return nil
}

// AccountTruth is the hidden ground truth of one account of an export.
type AccountTruth struct {
	// AccountID is the account's id as the export writes it.
	AccountID string
	// Segment is the id of the true ICP segment whose recipe the account's
	// true values satisfy, or NoSegment.
	Segment string
	// AntiICP reports whether the account satisfies the true anti-ICP
	// recipe (such accounts belong to no segment).
	AntiICP bool
	// WinProb is the probability with which the account's deals were won
	// (for the subscription dialect, the probability that it stays).
	WinProb float64
	// Channel is the account's true lead source and Value the mean value
	// of its deal if won, for the dialects that draw them (channels); ""
	// and 0 otherwise.
	Channel string
	Value   float64
}

// Export is a generated CRM export: its files and the truth of every
// account.
type Export struct {
	Dialect string
	// Sheets holds the files, the account-level one first. Only
	// DialectTwoTable has two.
	Sheets []Sheet
	Truth  []AccountTruth
}

// WriteExportTruthCSV writes the truth of an export as CSV with the header
// account_id,true_segment,true_anti_icp,true_win_prob, probabilities
// rounded to six decimals; when the accounts have a true channel (the
// channels dialect) the columns true_channel and true_value (rounded to
// cents) follow.
func WriteExportTruthCSV(w io.Writer, truth []AccountTruth) error {
	cw := csv.NewWriter(w)
	head := []string{"account_id", "true_segment", "true_anti_icp", "true_win_prob"}
	withValue := slices.ContainsFunc(truth, func(t AccountTruth) bool { return t.Channel != "" })
	if withValue {
		head = append(head, "true_channel", "true_value")
	}
	if err := cw.Write(head); err != nil {
		return fmt.Errorf("write truth: %w", err)
	}
	for _, t := range truth {
		rec := []string{t.AccountID, t.Segment, strconv.FormatBool(t.AntiICP),
			strconv.FormatFloat(math.Round(t.WinProb*1e6)/1e6, 'f', -1, 64)}
		if withValue {
			rec = append(rec, t.Channel, strconv.FormatFloat(math.Round(t.Value*100)/100, 'f', -1, 64))
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write truth: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write truth: %w", err)
	}
	return nil
}

// GenerateExport draws the export of the named dialect with cfg.Rows
// accounts from cfg.Seed (Start, Days and Emerging are ignored except by
// DialectDefault, whose one sheet is Generate's table as WriteCSV writes
// it and whose truth maps Generate's segments: anti_icp to AntiICP,
// other to NoSegment). The same name and configuration always give the
// same bytes. See the package documentation for each dialect's columns,
// recipes and leaks.
func GenerateExport(dialect string, cfg Config) (*Export, error) {
	if cfg.Rows < 0 {
		return nil, fmt.Errorf("generate %s: negative rows %d", dialect, cfg.Rows)
	}
	var gen func(cfg Config) *Export
	switch dialect {
	case DialectDefault:
		gen = defaultExport
	case DialectSalesforce:
		gen = salesforceExport
	case DialectHubSpot:
		gen = hubspotExport
	case DialectLeads:
		gen = leadsExport
	case DialectSubscription:
		gen = subscriptionExport
	case DialectTwoTable:
		gen = twoTableExport
	case DialectChannels:
		gen = channelsExport
	default:
		return nil, fmt.Errorf("generate: unknown dialect %q (want one of %s)", dialect, strings.Join(Dialects(), ", "))
	}
	e := gen(cfg)
	e.Dialect = dialect
	return e, nil
}

// defaultExport is Generate's table as an export.
func defaultExport(cfg Config) *Export {
	t, tr := Generate(cfg)
	s := Sheet{Name: "accounts", Header: AccountColumns(), Rows: make([][]string, t.Rows())}
	for i := range s.Rows {
		row := make([]string, len(t.Columns))
		for j, c := range t.Columns {
			row[j] = c.Text(i)
		}
		s.Rows[i] = row
	}
	truth := make([]AccountTruth, len(tr))
	for i, x := range tr {
		seg := x.Segment
		if seg == SegmentOther || seg == SegmentAntiICP {
			seg = NoSegment
		}
		truth[i] = AccountTruth{AccountID: x.AccountID, Segment: seg, AntiICP: x.Segment == SegmentAntiICP, WinProb: x.WinProb}
	}
	return &Export{Sheets: []Sheet{s}, Truth: truth}
}

// Salts that give each dialect its own random streams from one seed.
const (
	saltSalesforce   = 0x5a1e5f0c
	saltHubSpot      = 0x4b5b0752
	saltLeads        = 0x1ead5c0e
	saltSubscription = 0x5b5c71be
	saltTwoTable     = 0x2ab1e5ac
	saltChannels     = 0xc4a22e15
)

// xrand is a row's random stream with the draws the dialects share.
type xrand struct{ *rand.Rand }

// newRow returns the random stream of row i of a dialect.
func newRow(seed uint64, salt uint64, i int) xrand {
	return xrand{rand.New(rand.NewPCG(seed^salt, rowSeed(i)))}
}

func (r xrand) bern(p float64) bool { return r.Float64() < p }

// pick draws an index from unnormalised weights.
func (r xrand) pick(w ...float64) int {
	total := 0.0
	for _, v := range w {
		total += v
	}
	u := r.Float64() * total
	for k, v := range w {
		if u < v {
			return k
		}
		u -= v
	}
	return len(w) - 1
}

// logNormal draws around median with log-scale spread sigma.
func (r xrand) logNormal(median, sigma float64) float64 {
	return math.Exp(math.Log(median) + sigma*r.NormFloat64())
}

// between draws log-uniformly in [lo, hi].
func (r xrand) between(lo, hi float64) float64 {
	return math.Exp(math.Log(lo) + r.Float64()*(math.Log(hi)-math.Log(lo)))
}

// tags draws each tag with its probability.
func (r xrand) tags(p []float64) []bool {
	on := make([]bool, len(p))
	for k, q := range p {
		on[k] = r.bern(q)
	}
	return on
}

// companyName draws a plausible company name.
func (r xrand) companyName() string {
	first := [...]string{"Acme", "Blue", "North", "Bright", "Iron", "Silver", "Nova", "Peak", "Clear",
		"Swift", "Red", "Green", "Stone", "River", "Summit", "Atlas", "Core", "Zen", "Pioneer", "Vertex",
		"Harbor", "Maple", "Cedar", "Orbit", "Quantum", "Lumen", "Falcon", "Delta", "Sierra", "Union"}
	second := [...]string{"field", "wave", "point", "line", "bridge", "works", "labs", "path", "gate",
		"view", "craft", "forge", "logic", "scale", "stack", "base", "mark", "ware", "shift", "light"}
	suffix := [...]string{" Inc.", " LLC", " Ltd", " Group", " Corp", " Systems", " Partners", "", " Co.", " GmbH"}
	return first[r.IntN(len(first))] + second[r.IntN(len(second))] + suffix[r.IntN(len(suffix))]
}

// sigmoid is the logistic function.
func sigmoidx(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// logit is the inverse of sigmoidx.
func logit(p float64) float64 { return math.Log(p / (1 - p)) }

// windowStart is the first close date of the dialects: 2022-01-01.
func windowStart() time.Time { return time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC) }

// windowDays is the length of the dialects' close-date window.
const windowDays = 1096

// usDate writes a date as a US spreadsheet does: 3/1/2024.
func usDate(t time.Time) string {
	return strconv.Itoa(int(t.Month())) + "/" + strconv.Itoa(t.Day()) + "/" + strconv.Itoa(t.Year())
}

// dollars writes an amount as "$1,200,000.00".
func dollars(v float64) string {
	cents := int64(math.Round(v * 100))
	neg := cents < 0
	if neg {
		cents = -cents
	}
	whole := strconv.FormatInt(cents/100, 10)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	b.WriteByte('$')
	for k, c := range whole {
		if k > 0 && (len(whole)-k)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	fmt.Fprintf(&b, ".%02d", cents%100)
	return b.String()
}

// num writes a number the shortest way.
func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// joinTags writes the tags that are on, in the given spellings, joined by
// sep.
func joinTags(on []bool, names []string, sep string) string {
	var parts []string
	for k, x := range on {
		if x {
			parts = append(parts, names[k])
		}
	}
	return strings.Join(parts, sep)
}

// messyCase spells a tag as people type it: mostly as given, sometimes
// lower or upper case.
func (r xrand) messyCase(s string) string {
	switch r.pick(0.7, 0.2, 0.1) {
	case 1:
		return strings.ToLower(s)
	case 2:
		return strings.ToUpper(s)
	}
	return s
}

// clampf bounds x to [lo, hi].
func clampf(x, lo, hi float64) float64 { return math.Min(math.Max(x, lo), hi) }

// inSet reports whether k is one of set.
func inSet(k int, set ...int) bool { return slices.Contains(set, k) }

// outcomeDay draws a close-date offset in the window.
func (r xrand) outcomeDay() int { return r.IntN(windowDays) }
