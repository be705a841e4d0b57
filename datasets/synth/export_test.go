package synth

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/icpengine/icp/datasets"
)

// exportFiles generates a dialect and returns its files by the names
// cmd/gen gives them (NAME.csv, NAME_SHEET.csv, NAME_truth.csv).
func exportFiles(t *testing.T, dialect string, cfg Config) (*Export, map[string][]byte) {
	t.Helper()
	e, err := GenerateExport(dialect, cfg)
	if err != nil {
		t.Fatalf("GenerateExport(%s) error %v", dialect, err)
	}
	files := make(map[string][]byte)
	for k, s := range e.Sheets {
		var buf bytes.Buffer
		if err := s.WriteCSV(&buf); err != nil {
			t.Fatal(err)
		}
		name := dialect + ".csv"
		if k > 0 {
			name = dialect + "_" + s.Name + ".csv"
		}
		files[name] = buf.Bytes()
	}
	var buf bytes.Buffer
	if dialect == DialectDefault { // cmd/gen writes Generate's truth, as before dialects
		_, tr := Generate(cfg)
		err = WriteTruthCSV(&buf, tr)
	} else {
		err = WriteExportTruthCSV(&buf, e.Truth)
	}
	if err != nil {
		t.Fatal(err)
	}
	files[dialect+"_truth.csv"] = buf.Bytes()
	return e, files
}

func TestExportDeterministic(t *testing.T) {
	for _, d := range Dialects() {
		t.Run(d, func(t *testing.T) {
			_, a := exportFiles(t, d, Config{Rows: 700, Seed: 3})
			_, b := exportFiles(t, d, Config{Rows: 700, Seed: 3})
			_, c := exportFiles(t, d, Config{Rows: 700, Seed: 4})
			_, short := exportFiles(t, d, Config{Rows: 300, Seed: 3})
			for name, data := range short {
				if !bytes.HasPrefix(a[name], data) {
					t.Errorf("%s of 300 rows is not a prefix of the one of 700 rows", name)
				}
			}
			for name, data := range a {
				if !bytes.Equal(data, b[name]) {
					t.Errorf("%s differs between two runs with the same seed", name)
				}
				if bytes.Equal(data, c[name]) {
					t.Errorf("%s is the same for seeds 3 and 4", name)
				}
			}
		})
	}
	if _, err := GenerateExport("oracle", Config{Rows: 1}); err == nil || !strings.Contains(err.Error(), "salesforce") {
		t.Errorf("GenerateExport(oracle) error %v, want one listing the dialects", err)
	}
}

// TestReferenceFiles checks that the generator still writes the files whose
// sha256 sums scripts/reference-fixtures.py recorded beside its figures;
// if it fails after a deliberate change to a dialect, run that script again.
func TestReferenceFiles(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Dialects map[string]struct {
			Rows   int               `json:"rows"`
			Seed   uint64            `json:"seed"`
			SHA256 map[string]string `json:"sha256"`
		} `json:"dialects"`
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Dialects) != len(Dialects()) {
		t.Errorf("reference.json has %d dialects, want %d", len(ref.Dialects), len(Dialects()))
	}
	for name, want := range ref.Dialects {
		t.Run(name, func(t *testing.T) {
			_, files := exportFiles(t, name, Config{Rows: want.Rows, Seed: want.Seed})
			if len(files) != len(want.SHA256) {
				t.Errorf("generated %d files, reference has %d", len(files), len(want.SHA256))
			}
			for file, sum := range want.SHA256 {
				got := sha256.Sum256(files[file])
				if hex.EncodeToString(got[:]) != sum {
					t.Errorf("sha256(%s) = %x, want %s; rerun scripts/reference-fixtures.py after a deliberate change", file, got, sum)
				}
			}
		})
	}
}

// readSheets reads every file of an export with the engine's reader.
func readSheets(t *testing.T, dialect string, rows int) (*Export, []*datasets.Table) {
	t.Helper()
	e, files := exportFiles(t, dialect, Config{Rows: rows, Seed: 11})
	var tabs []*datasets.Table
	for k, s := range e.Sheets {
		name := dialect + ".csv"
		if k > 0 {
			name = dialect + "_" + s.Name + ".csv"
		}
		tab, err := datasets.Read(bytes.NewReader(files[name]), name, nil)
		if err != nil {
			t.Fatalf("Read(%s) error %v", name, err)
		}
		tabs = append(tabs, tab)
	}
	return e, tabs
}

func TestExportKinds(t *testing.T) {
	tests := []struct {
		dialect string
		sheet   int
		want    map[string]datasets.Kind
	}{
		{DialectSalesforce, 0, map[string]datasets.Kind{"column_1": datasets.Number, "Close Date": datasets.Date,
			"Amount": datasets.Number, "Annual Revenue": datasets.Number, "Employees": datasets.Number,
			"Contract Signed": datasets.Bool, "Tech Stack": datasets.String, "Stage": datasets.String,
			"Customer Since": datasets.Date, "Description": datasets.String}},
		{DialectHubSpot, 0, map[string]datasets.Kind{"Record ID": datasets.Number, "Close Date": datasets.Date,
			"Create Date": datasets.Date, "Is Public": datasets.Bool, "Became a Customer Date": datasets.Date,
			"Technologies": datasets.String, "Number of Employees": datasets.Number}},
		{DialectLeads, 0, map[string]datasets.Kind{"Converted": datasets.Number, "Lead Number": datasets.Number,
			"Do Not Email": datasets.Bool, "Specialization": datasets.String, "Asymmetrique Activity Score": datasets.Number}},
		{DialectSubscription, 0, map[string]datasets.Kind{"churned": datasets.Bool, "churn_date": datasets.Date,
			"signup_date": datasets.Date, "mrr": datasets.Number, "has_sso": datasets.Bool, "integrations": datasets.String}},
		{DialectTwoTable, 0, map[string]datasets.Kind{"Account ID": datasets.String, "Employees": datasets.Number}},
		{DialectTwoTable, 1, map[string]datasets.Kind{"AccountId": datasets.String, "Close Date": datasets.Date,
			"Amount": datasets.Number, "Stage": datasets.String}},
	}
	for _, tt := range tests {
		t.Run(tt.dialect, func(t *testing.T) {
			_, tabs := readSheets(t, tt.dialect, 600)
			for name, want := range tt.want {
				c := tabs[tt.sheet].Column(name)
				if c == nil {
					t.Fatalf("no column %q", name)
				}
				if c.Kind != want {
					t.Errorf("column %q kind = %v, want %v", name, c.Kind, want)
				}
			}
		})
	}
}

// TestExportLeaks checks that the post-sale columns are filled exactly for
// the outcome the package documentation says.
func TestExportLeaks(t *testing.T) {
	tests := []struct {
		dialect string
		outcome string
		wins    func(v string) bool
		filled  []string
	}{
		{DialectSalesforce, "Stage", func(v string) bool { return v == "Closed Won" },
			[]string{"Amount", "Contract Signed", "Customer Since", "Lifetime Value"}},
		{DialectHubSpot, "Lifecycle Stage", func(v string) bool { return v == "Customer" || v == "Evangelist" },
			[]string{"Became a Customer Date", "Total Revenue", "Days to Close"}},
		{DialectSubscription, "churned", func(v string) bool { return v == "true" },
			[]string{"churn_date", "cancellation_reason"}},
	}
	for _, tt := range tests {
		t.Run(tt.dialect, func(t *testing.T) {
			_, tabs := readSheets(t, tt.dialect, 800)
			tab := tabs[0]
			out := tab.Column(tt.outcome)
			wins := 0
			for i := range tab.Rows() {
				win := tt.wins(out.Text(i))
				if win {
					wins++
				}
				for _, name := range tt.filled {
					if filled := !tab.Column(name).IsMissing(i); filled != win {
						t.Fatalf("row %d: %s = %q with %s %q", i, name, tab.Column(name).Text(i), tt.outcome, out.Text(i))
					}
				}
			}
			if wins < 80 || wins > 720 {
				t.Errorf("%d of 800 rows have the filled outcome", wins)
			}
		})
	}
}

// cells reads row i of a table by column name, as text.
type cells struct {
	t *datasets.Table
	i int
}

func (c cells) s(name string) string { return c.t.Column(name).Text(c.i) }

func (c cells) f(name string) float64 {
	col := c.t.Column(name)
	if col.Kind == datasets.String {
		return math.NaN()
	}
	return col.Num[c.i]
}

func (c cells) missing(names ...string) bool {
	for _, n := range names {
		if c.t.Column(n).IsMissing(c.i) {
			return true
		}
	}
	return false
}

// tagSet splits a tag cell on sep, lower-cased and trimmed.
func tagSet(s, sep string) map[string]bool {
	out := map[string]bool{}
	for p := range strings.SplitSeq(s, sep) {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
			out[p] = true
		}
	}
	return out
}

func oneOf(s string, set ...string) bool {
	for _, x := range set {
		if s == x {
			return true
		}
	}
	return false
}

// TestExportTruthMatchesRecipes recomputes each dialect's documented
// recipes from the cells as written and compares them with the truth, on
// the rows where no cell a recipe reads is missing.
func TestExportTruthMatchesRecipes(t *testing.T) {
	tests := []struct {
		dialect string
		needs   []string
		recipe  func(c cells) (string, bool)
	}{
		{DialectSalesforce, []string{"Industry", "Employees", "Annual Revenue", "Tech Stack", "Billing Country"},
			func(c cells) (string, bool) {
				tags := tagSet(c.s("Tech Stack"), ",")
				switch {
				case oneOf(c.s("Industry"), "Government", "Nonprofit") || c.f("Employees") < 15:
					return NoSegment, true
				case c.s("Industry") == "Healthcare" && c.s("Ownership") == "Public" && c.f("Annual Revenue") >= 50e6 &&
					c.f("Annual Revenue") <= 2e9 && tags["aws"] && tags["snowflake"]:
					return SegSFHealthPublic, false
				case oneOf(c.s("Industry"), "Technology", "Financial Services") && c.f("Employees") >= 100 &&
					c.f("Employees") <= 2000 && (tags["salesforce"] || tags["hubspot"]) &&
					oneOf(c.s("Billing Country"), "United States", "Canada", "United Kingdom"):
					return SegSFFinServMidmarket, false
				}
				return NoSegment, false
			}},
		{DialectHubSpot, []string{"Industry", "Number of Employees", "Annual Revenue", "Technologies", "Original Source"},
			func(c cells) (string, bool) {
				tags := tagSet(c.s("Technologies"), ";")
				switch {
				case oneOf(c.s("Industry"), "GOVERNMENT_ADMINISTRATION", "NON_PROFIT_ORGANIZATION_MANAGEMENT") ||
					c.f("Number of Employees") < 5:
					return NoSegment, true
				case oneOf(c.s("Industry"), "RETAIL", "CONSUMER_GOODS") && c.s("Is Public") == "true" &&
					tags["shopify"] && tags["google_analytics"] && c.f("Annual Revenue") >= 20e6 && c.f("Annual Revenue") <= 5e9:
					return SegHSRetailPublic, false
				case oneOf(c.s("Industry"), "COMPUTER_SOFTWARE", "INTERNET") && c.f("Number of Employees") >= 20 &&
					c.f("Number of Employees") <= 200 && (tags["stripe"] || tags["segment"]) &&
					oneOf(c.s("Original Source"), "ORGANIC_SEARCH", "REFERRALS"):
					return SegHSSoftwareSMB, false
				}
				return NoSegment, false
			}},
		{DialectLeads, []string{"Lead Source", "Course Interests", "What is your current occupation"},
			func(c cells) (string, bool) {
				tags := tagSet(c.s("Course Interests"), "|")
				secs := c.f("Total Time Spent on Website")
				switch {
				case c.s("Do Not Email") == "true" || c.s("Lead Source") == "Olark Chat" && secs < 100:
					return NoSegment, true
				case c.s("Lead Origin") == "Lead Add Form" && oneOf(c.s("Lead Source"), "Reference", "Welingak Website") &&
					(tags["mba"] || tags["data science"]):
					return SegLDReferenceForm, false
				case oneOf(c.s("What is your current occupation"), "Working Professional", "Businessman") &&
					secs >= 600 && secs <= 2000:
					return SegLDWorkingPro, false
				}
				return NoSegment, false
			}},
		{DialectSubscription, []string{"industry"},
			func(c cells) (string, bool) {
				tags := tagSet(c.s("integrations"), ",")
				seats := c.f("seats")
				switch {
				case c.s("plan") == "Starter" && c.s("billing_cycle") == "monthly" && seats <= 2:
					return NoSegment, true
				case c.s("has_sso") == "true" && c.s("plan") == "Enterprise" &&
					oneOf(c.s("industry"), "finance", "healthcare", "saas") && tags["slack"] && tags["jira"]:
					return SegSubSSOEnterprise, false
				case c.s("billing_cycle") == "annual" && seats >= 10 && seats <= 200 &&
					(tags["salesforce"] || tags["hubspot"]) && oneOf(c.s("plan"), "Growth", "Pro"):
					return SegSubAnnualCRM, false
				}
				return NoSegment, false
			}},
		{DialectTwoTable, []string{"Industry", "Employees", "Annual Revenue", "Tech Stack"},
			func(c cells) (string, bool) {
				tags := tagSet(c.s("Tech Stack"), ";")
				switch {
				case c.s("Industry") == "Government" || c.f("Employees") < 10:
					return NoSegment, true
				case c.s("Industry") == "Technology" && c.f("Annual Revenue") >= 10e6 && c.f("Annual Revenue") <= 500e6 &&
					tags["aws"] && tags["jira"]:
					return SegTTTechGrowth, false
				case oneOf(c.s("Industry"), "Manufacturing", "Energy") && c.f("Employees") >= 500 &&
					c.f("Employees") <= 10000 && (tags["sap"] || tags["snowflake"]) && c.s("Ownership") == "Public":
					return SegTTIndustrialPublic, false
				}
				return NoSegment, false
			}},
	}
	for _, tt := range tests {
		t.Run(tt.dialect, func(t *testing.T) {
			const n = 4000
			e, tabs := readSheets(t, tt.dialect, n)
			tab := tabs[0]
			checked := 0
			segs := map[string]int{}
			for i, truth := range e.Truth {
				c := cells{tab, i}
				if c.missing(tt.needs...) {
					continue
				}
				seg, anti := tt.recipe(c)
				if seg != truth.Segment || anti != truth.AntiICP {
					t.Fatalf("row %d: recipe gives %s anti=%v, truth %s anti=%v", i, seg, anti, truth.Segment, truth.AntiICP)
				}
				if !(truth.WinProb > 0 && truth.WinProb < 1) {
					t.Fatalf("row %d: win probability %v", i, truth.WinProb)
				}
				segs[seg]++
				checked++
			}
			if checked < n*45/100 {
				t.Errorf("checked %d complete rows of %d", checked, n)
			}
			for seg, k := range segs {
				if k < n/40 {
					t.Errorf("segment %s holds %d of %d rows, too few to learn", seg, k, checked)
				}
			}
			if len(segs) != 3 {
				t.Errorf("segments seen %v, want two segments and none", segs)
			}
		})
	}
}

// TestExportSegmentsWin checks that accounts of the true segments win more
// often than the rest, and anti-ICP accounts less.
func TestExportSegmentsWin(t *testing.T) {
	for _, d := range Dialects()[1:] {
		t.Run(d, func(t *testing.T) {
			e, err := GenerateExport(d, Config{Rows: 6000, Seed: 5})
			if err != nil {
				t.Fatal(err)
			}
			sum := map[string][2]float64{}
			for _, x := range e.Truth {
				k := x.Segment
				if x.AntiICP {
					k = "anti"
				}
				s := sum[k]
				sum[k] = [2]float64{s[0] + x.WinProb, s[1] + 1}
			}
			mean := func(k string) float64 { return sum[k][0] / sum[k][1] }
			for k := range sum {
				if k == "anti" || k == NoSegment {
					continue
				}
				if mean(k) < mean(NoSegment)+0.2 {
					t.Errorf("segment %s mean win probability %.3f, none %.3f", k, mean(k), mean(NoSegment))
				}
			}
			if mean("anti") > mean(NoSegment)-0.1 {
				t.Errorf("anti-ICP mean win probability %.3f, none %.3f", mean("anti"), mean(NoSegment))
			}
		})
	}
}

func TestTwoTableKeys(t *testing.T) {
	e, tabs := readSheets(t, DialectTwoTable, 1500)
	accounts := map[string]bool{}
	for _, id := range tabs[0].Column("Account ID").Str {
		accounts[id] = true
	}
	deals := map[string]int{}
	for i, id := range tabs[1].Column("AccountId").Str {
		if !accounts[id] {
			t.Fatalf("deal row %d refers to unknown account %q", i, id)
		}
		deals[id]++
	}
	multi := 0
	for _, k := range deals {
		if k > 1 {
			multi++
		}
	}
	if len(deals) != len(e.Truth) || multi < len(deals)/5 {
		t.Errorf("%d accounts have deals (%d several), want all %d and a fifth with several", len(deals), multi, len(e.Truth))
	}
}

func TestWriteExportTruthCSV(t *testing.T) {
	var buf bytes.Buffer
	err := WriteExportTruthCSV(&buf, []AccountTruth{
		{AccountID: "A,1", Segment: "seg", WinProb: 0.1234567},
		{AccountID: "B", Segment: NoSegment, AntiICP: true, WinProb: 0.02},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "account_id,true_segment,true_anti_icp,true_win_prob\n\"A,1\",seg,false,0.123457\nB,none,true,0.02\n"
	if buf.String() != want {
		t.Errorf("WriteExportTruthCSV =\n%s\nwant\n%s", buf.String(), want)
	}
}
