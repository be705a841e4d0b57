package features

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
)

func readCSV(t testing.TB, csv string) *datasets.Table {
	t.Helper()
	tab, err := datasets.Read(strings.NewReader(csv), "t.csv", nil)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return tab
}

// csvOf writes rows built by row(i, r) under header, seeded.
func csvOf(header string, n int, seed uint64, row func(i int, r *rand.Rand) string) string {
	r := rand.New(rand.NewPCG(seed, 1))
	var b strings.Builder
	b.WriteString(header + "\n")
	for i := 0; i < n; i++ {
		b.WriteString(row(i, r) + "\n")
	}
	return b.String()
}

func pick(r *rand.Rand, vs ...string) string { return vs[r.IntN(len(vs))] }

func TestDetectOutcome(t *testing.T) {
	tests := []struct {
		name      string
		give      string
		wantWon   string
		wantRoles map[string]Role
		wantValue map[string]string // raw value -> meaning, in Outcomes.Values
		wantWhy   string            // in the won column's reason
	}{
		{
			name: "salesforce stage beats a flag",
			give: csvOf("Industry,Stage,Is Won", 60, 1, func(i int, r *rand.Rand) string {
				st := []string{"Closed Won", "Closed Lost", "Prospecting", "Negotiation/Review"}[i%4]
				return fmt.Sprintf("%s,%s,%v", pick(r, "SaaS", "Retail"), st, st == "Closed Won")
			}),
			wantWon:   "Stage",
			wantRoles: map[string]Role{"Is Won": RoleOutcome, "Industry": RoleCategorical},
			wantValue: map[string]string{"Closed Won": MeaningWon, "Closed Lost": MeaningLost, "Prospecting": MeaningOpen, "Negotiation/Review": MeaningOpen},
			wantWhy:   `chosen over "Is Won"`,
		},
		{
			name: "converted 0/1",
			give: csvOf("Lead Origin,Converted,TotalVisits", 40, 2, func(i int, r *rand.Rand) string {
				return fmt.Sprintf("%s,%d,%d", pick(r, "API", "Landing Page"), i%2, r.IntN(20))
			}),
			wantWon:   "Converted",
			wantRoles: map[string]Role{"TotalVisits": RoleNumeric},
			wantWhy:   "0/1 values named like an outcome",
		},
		{
			name: "y yes/no beats poutcome",
			give: csvOf("job;poutcome;y", 40, 3, func(i int, r *rand.Rand) string {
				return fmt.Sprintf("%s;%s;%s", pick(r, "admin.", "retired"), pick(r, "success", "failure", "nonexistent"), []string{"yes", "no"}[i%2])
			}),
			wantWon:   "y",
			wantRoles: map[string]Role{"poutcome": RoleCategorical, "job": RoleCategorical},
			wantWhy:   `its name says outcome`,
		},
		{
			name: "status with terminal values",
			give: csvOf("category_code,status", 40, 4, func(i int, r *rand.Rand) string {
				return fmt.Sprintf("%s,%s", pick(r, "web", "biotech"), []string{"operating", "acquired", "closed", "ipo"}[i%4])
			}),
			wantWon:   "status",
			wantValue: map[string]string{"operating": MeaningOpen, "acquired": MeaningWon, "closed": MeaningLost, "ipo": MeaningWon},
		},
		{
			name: "spaced header and HubSpot internal stages",
			give: csvOf("Deal Stage,Amount Band", 30, 5, func(i int, r *rand.Rand) string {
				return fmt.Sprintf("%s,%s", []string{"closedwon", "closedlost", "appointmentscheduled"}[i%3], pick(r, "small", "large"))
			}),
			wantWon:   "Deal Stage",
			wantValue: map[string]string{"closedwon": MeaningWon, "closedlost": MeaningLost, "appointmentscheduled": MeaningOpen},
		},
		{
			name: "yes/no/other is a feature, not an outcome",
			give: csvOf("MultipleLines,Churn", 40, 6, func(i int, r *rand.Rand) string {
				return fmt.Sprintf("%s,%s", pick(r, "Yes", "No", "No phone service"), pick(r, "Yes", "No"))
			}),
			wantWon:   "",
			wantRoles: map[string]Role{"MultipleLines": RoleCategorical, "Churn": RoleOutcome},
		},
		{
			name: "HubSpot lifecycle stage: Other is lost",
			give: csvOf("Lifecycle Stage,Lead Status,Industry", 80, 8, func(i int, r *rand.Rand) string {
				st := []string{"Customer", "Evangelist", "Other", "Other", "Lead", "Marketing Qualified Lead", "Sales Qualified Lead", "Opportunity"}[i%8]
				return fmt.Sprintf("%s,%s,%s", st, pick(r, "New", "Open", "Unqualified", "Bad Timing"), pick(r, "RETAIL", "INTERNET"))
			}),
			wantWon: "Lifecycle Stage",
			wantValue: map[string]string{"Customer": MeaningWon, "Evangelist": MeaningWon, "Other": MeaningLost,
				"Lead": MeaningOpen, "Marketing Qualified Lead": MeaningOpen, "Sales Qualified Lead": MeaningOpen, "Opportunity": MeaningOpen},
			wantWhy: "lifecycle stages",
		},
		{
			name: "lifecycle stages by their internal names, under another header",
			give: csvOf("Company stage,Employees", 60, 9, func(i int, r *rand.Rand) string {
				return fmt.Sprintf("%s,%d", []string{"customer", "other", "subscriber", "marketingqualifiedlead", "salesqualifiedlead", "opportunity"}[i%6], r.IntN(500))
			}),
			wantWon:   "Company stage",
			wantValue: map[string]string{"customer": MeaningWon, "other": MeaningLost, "subscriber": MeaningOpen},
			wantWhy:   "lifecycle stages",
		},
		{
			// "Other" beside customers but without funnel stages is a
			// category (an account type), not a lost outcome.
			name: "customer and other without a funnel is no outcome",
			give: csvOf("Type,Industry,Converted", 40, 10, func(i int, r *rand.Rand) string {
				return fmt.Sprintf("%s,%s,%d", pick(r, "Customer", "Partner", "Other"), pick(r, "SaaS", "Retail"), i%2)
			}),
			wantWon:   "Converted",
			wantRoles: map[string]Role{"Type": RoleCategorical},
			wantWhy:   "0/1 values named like an outcome",
		},
		{
			name: "Salesforce lead statuses",
			give: csvOf("Lead Status,Rating", 40, 11, func(i int, r *rand.Rand) string {
				return fmt.Sprintf("%s,%s", []string{"Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"}[i%4], pick(r, "Hot", "Cold"))
			}),
			wantWon: "Lead Status",
			wantValue: map[string]string{"Closed - Converted": MeaningWon, "Closed - Not Converted": MeaningLost,
				"Open - Not Contacted": MeaningOpen, "Working - Contacted": MeaningOpen},
		},
		{
			name:      "an outcome column of open deals only",
			give:      "industry,outcome\nSaaS,open\nRetail,engaging\n",
			wantWon:   "outcome",
			wantRoles: map[string]Role{"industry": RoleCategorical},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Infer(readCSV(t, tt.give), InferConfig{})
			if s.Outcomes.Won != tt.wantWon {
				t.Fatalf("Outcomes.Won = %q, want %q\n%s", s.Outcomes.Won, tt.wantWon, table(s))
			}
			for col, want := range tt.wantRoles {
				if got := s.Column(col).Role; got != want {
					t.Errorf("role of %q = %s (%s), want %s", col, got, s.Column(col).Reason, want)
				}
			}
			for v, want := range tt.wantValue {
				if got := s.Outcomes.Values[v]; got != want {
					t.Errorf("Outcomes.Values[%q] = %q, want %q (%v)", v, got, want, s.Outcomes.Values)
				}
			}
			if tt.wantWon != "" && !strings.Contains(s.Column(tt.wantWon).Reason, tt.wantWhy) {
				t.Errorf("reason of %q = %q, want it to contain %q", tt.wantWon, s.Column(tt.wantWon).Reason, tt.wantWhy)
			}
			if (tt.wantWon == "") != (s.OutcomeHint() != "" || s.Outcomes.Churned != "") {
				t.Errorf("OutcomeHint() = %q with Won %q", s.OutcomeHint(), s.Outcomes.Won)
			}
		})
	}
}

func table(s *Schema) string {
	var b bytes.Buffer
	s.WriteTable(&b)
	return b.String()
}

func TestOutcomeHint(t *testing.T) {
	tests := []struct {
		name string
		give string
		want []string
	}{
		{
			name: "a result of good and bad",
			give: "industry,result\nSaaS,good\nRetail,bad\nSaaS,good\n",
			want: []string{`"result" (values good 2, bad 1)`, `{"outcomes": {"won": "result", "values": {"good": "won", "bad": "lost"}}}`},
		},
		{
			name: "a flag",
			give: "industry,Active Customer\nSaaS,yes\nRetail,no\n",
			want: []string{`"Active Customer" (0/1 values)`, `{"outcomes": {"won": "Active Customer"}}`},
		},
		{
			name: "nothing like an outcome",
			give: "industry,employees\nSaaS,10\nRetail,20\nHealth,30\nGov,40\n",
			want: []string{"no column looks like an outcome"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Infer(readCSV(t, tt.give), InferConfig{})
			if s.Outcomes.Won != "" {
				t.Fatalf("Outcomes.Won = %q, want none", s.Outcomes.Won)
			}
			for _, w := range tt.want {
				if !strings.Contains(s.OutcomeHint(), w) {
					t.Errorf("OutcomeHint() = %q, want it to contain %q", s.OutcomeHint(), w)
				}
			}
		})
	}
}

func TestValueMeaning(t *testing.T) {
	tests := []struct {
		give string
		want string
	}{
		{"Closed Won", MeaningWon},
		{"closed-won", MeaningWon},
		{"CLOSED_LOST", MeaningLost},
		{"6 - Closed Won", MeaningWon},
		{"Won - Expansion", MeaningWon},
		{"Lost to competitor", MeaningLost},
		{"acquired", MeaningWon},
		{"ipo", MeaningWon},
		{"closed", MeaningLost},
		{"operating", MeaningOpen},
		{"Prospecting", MeaningOpen},
		{"yes", MeaningWon},
		{"0", MeaningLost},
		{"Something else", MeaningOpen},
		{"Evangelist", MeaningWon},
		{"Marketing Qualified Lead", MeaningOpen},
		{"Closed - Converted", MeaningWon},
		{"Closed - Not Converted", MeaningLost},
		// "Other" is lost only in a column of lifecycle stages.
		{"Other", MeaningOpen},
	}
	var o Outcomes
	for _, tt := range tests {
		if got := o.ValueMeaning(tt.give); got != tt.want {
			t.Errorf("ValueMeaning(%q) = %q, want %q", tt.give, got, tt.want)
		}
	}
	o.Values = map[string]string{"Signed": MeaningWon, "Dropped": MeaningLost, "closed": MeaningOpen}
	for give, want := range map[string]string{"signed": MeaningWon, " DROPPED": MeaningLost, "Closed": MeaningOpen, "lost": MeaningLost} {
		if got := o.ValueMeaning(give); got != want {
			t.Errorf("with Values, ValueMeaning(%q) = %q, want %q", give, got, want)
		}
	}
}

func TestIsChurned(t *testing.T) {
	tests := []struct {
		name string
		give *datasets.Column
		want []bool
	}{
		{"date", &datasets.Column{Kind: datasets.Date, Num: []float64{19000, math.NaN()}}, []bool{true, false}},
		{"flag", &datasets.Column{Kind: datasets.Bool, Num: []float64{1, 0, math.NaN()}}, []bool{true, false, false}},
		{"words", &datasets.Column{Kind: datasets.String, Str: []string{"Churned", "active", "", "Yes"}}, []bool{true, false, false, true}},
	}
	for _, tt := range tests {
		for i, want := range tt.want {
			if got := IsChurned(tt.give, i); got != want {
				t.Errorf("%s: IsChurned(row %d) = %v, want %v", tt.name, i, got, want)
			}
		}
	}
}

// dealsCSV is a Salesforce-style report: stage, US dates, an amount filled
// only for won deals, a "contract signed" flag true only for won deals, a
// last activity after the close, and honest pre-sale columns (industry,
// employees, a lead score that ranks well but not perfectly).
func dealsCSV(n int, seed uint64) string {
	start := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	return csvOf("Industry,Employees,Lead Score,Created Date,Stage,Close Date,Amount,Contract Signed,Last Activity", n, seed, func(i int, r *rand.Rand) string {
		ind := pick(r, "Software", "Retail", "Government")
		emp := 10 + r.IntN(5000)
		score := r.NormFloat64()
		p := 0.45
		if ind == "Government" {
			p = 0.2
		}
		won := r.Float64() < p+0.25*math.Tanh(score)
		stage := "Closed Lost"
		if won {
			stage = "Closed Won"
		}
		created := start.AddDate(0, 0, r.IntN(500))
		closed := created.AddDate(0, 0, 5+r.IntN(90))
		closeText := closed.Format("01/02/2006")
		if r.IntN(10) == 0 {
			stage, closeText = "Prospecting", ""
		}
		amount, signed := "", pick(r, "No", "")
		if stage == "Closed Won" {
			amount = fmt.Sprintf("\"$%d,000\"", 5+r.IntN(200))
			if r.IntN(20) > 0 {
				signed = "Yes"
			}
		}
		last := closed.AddDate(0, 0, r.IntN(30)).Format("01/02/2006")
		return fmt.Sprintf("%s,%d,%.2f,%s,%s,%s,%s,%s,%s", ind, emp, score+0.3*r.NormFloat64(), created.Format("01/02/2006"),
			stage, closeText, amount, signed, last)
	})
}

func TestLeakageGuard(t *testing.T) {
	tab := readCSV(t, dealsCSV(600, 7))
	s := Infer(tab, InferConfig{})
	if s.Outcomes.Won != "Stage" || s.Outcomes.CloseDate != "Close Date" {
		t.Fatalf("Outcomes = %+v, want Stage and Close Date\n%s", s.Outcomes, table(s))
	}
	tests := []struct {
		col   string
		want  Role
		check func(ev *Leakage) bool
		what  string
	}{
		{"Amount", RoleLeakage, func(ev *Leakage) bool {
			return ev.FilledPositive == 1 && ev.FilledNegative == 0 && ev.AUC >= 0.99 && ev.Level == "an empty cell" && ev.LevelOutcome == "lost"
		}, "filled for all won and no lost deal, AUC ~1, empty cells lost"},
		{"Contract Signed", RoleLeakage, func(ev *Leakage) bool {
			return ev.FilledPositive > 0.9 && ev.FilledNegative == 0 && ev.AUC >= leakAUC
		}, "true for won deals only"},
		{"Last Activity", RoleLeakage, func(ev *Leakage) bool { return ev.AfterClose == 1 }, "always on or after the close date"},
		{"Industry", RoleCategorical, nil, ""},
		{"Employees", RoleNumeric, nil, ""},
		{"Lead Score", RoleNumeric, nil, ""},
		{"Created Date", RoleDate, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.col, func(t *testing.T) {
			c := s.Column(tt.col)
			if c.Role != tt.want {
				t.Fatalf("role of %q = %s (%s), want %s", tt.col, c.Role, c.Reason, tt.want)
			}
			if tt.check == nil {
				if c.Leakage != nil {
					t.Errorf("%q has leakage evidence %+v, want none", tt.col, c.Leakage)
				}
				return
			}
			if c.Leakage == nil || !tt.check(c.Leakage) {
				t.Errorf("evidence of %q = %+v, want %s", tt.col, c.Leakage, tt.what)
			}
			if !strings.Contains(c.Reason, "put it back with") {
				t.Errorf("reason of %q = %q, want the override that puts it back", tt.col, c.Reason)
			}
		})
	}
	// The evidence goes into the artifact: it must encode.
	if _, err := json.Marshal(s); err != nil {
		t.Errorf("json.Marshal(schema): %v", err)
	}
	// Leakage columns are listed first.
	lines := strings.Split(table(s), "\n")
	for k, want := range []string{"Amount", "Contract Signed", "Last Activity"} {
		if !strings.HasPrefix(lines[k+1], want+" ") {
			t.Errorf("WriteTable line %d = %q, want the leakage column %q", k+1, lines[k+1], want)
		}
	}
}

func TestLeakageOverrideWins(t *testing.T) {
	tab := readCSV(t, dealsCSV(400, 8))
	o := &Override{Columns: map[string]ColumnOverride{"Amount": {Role: RoleNumeric}, "Industry": {Role: RoleExcluded}}}
	s, err := InferWith(tab, InferConfig{}, o)
	if err != nil {
		t.Fatal(err)
	}
	if c := s.Column("Amount"); c.Role != RoleNumeric || c.Leakage != nil || !c.Overridden {
		t.Errorf("Amount = %+v, want numeric by the override, without evidence", c)
	}
	if c := s.Column("Industry"); c.Role != RoleExcluded {
		t.Errorf("Industry role = %s, want excluded", c.Role)
	}
	if c := s.Column("Contract Signed"); c.Role != RoleLeakage {
		t.Errorf("Contract Signed role = %s, want leakage (not named by the override)", c.Role)
	}
	// Naming the outcome with value meanings reruns the guard on it.
	o = &Override{Outcomes: &Outcomes{Won: "Stage", Values: map[string]string{"Prospecting": MeaningLost}}}
	s, err = InferWith(tab, InferConfig{}, o)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Outcomes.ValueMeaning("Prospecting"); got != MeaningLost {
		t.Errorf("ValueMeaning(Prospecting) = %q, want lost by the override", got)
	}
	if got := s.Outcomes.ValueMeaning("Closed Won"); got != MeaningWon {
		t.Errorf("ValueMeaning(Closed Won) = %q, want won", got)
	}
	bad := &Override{Outcomes: &Outcomes{Values: map[string]string{"x": "maybe"}}}
	if _, err := InferWith(tab, InferConfig{}, bad); err == nil || !strings.Contains(err.Error(), `"maybe" is not won, lost or open`) {
		t.Errorf("InferWith(bad meaning) error = %v", err)
	}
}

func TestCloseDateFilledForOneOutcome(t *testing.T) {
	// closed_at is filled only for failed companies: it says how a company
	// ended, not when, so it is no close date.
	csv := csvOf("category,funding,status,closed_at", 300, 9, func(i int, r *rand.Rand) string {
		st, closed := "acquired", ""
		if r.IntN(3) == 0 {
			st, closed = "closed", fmt.Sprintf("2012-%02d-01", 1+r.IntN(12))
		}
		return fmt.Sprintf("%s,%d,%s,%s", pick(r, "web", "mobile"), r.IntN(1e6), st, closed)
	})
	s := Infer(readCSV(t, csv), InferConfig{})
	if s.Outcomes.CloseDate != "" {
		t.Errorf("Outcomes.CloseDate = %q, want none", s.Outcomes.CloseDate)
	}
	c := s.Column("closed_at")
	if c.Role != RoleLeakage || c.Leakage == nil || c.Leakage.FilledPositive != 0 || c.Leakage.FilledNegative != 1 {
		t.Errorf("closed_at = %+v (%+v), want leakage filled for lost only", c, c.Leakage)
	}
}

func TestLeakageChurnTable(t *testing.T) {
	// A contract type that never churns is a rule of the business, not a
	// leak, nor is a billing cycle (a "cycle" by name, but no sales
	// cycle); an exit survey filled for churned customers only is.
	csv := csvOf("customerID,Contract,billing_cycle,Tenure,Exit Survey,Churn", 400, 10, func(i int, r *rand.Rand) string {
		contract, churn := "Month-to-month", r.IntN(2) == 0
		if i%3 == 0 {
			contract, churn = "Two year", false
		}
		survey := ""
		if churn && r.IntN(10) > 0 {
			survey = pick(r, "price", "support", "moved")
		}
		cycle := pick(r, "annual", "monthly")
		if churn {
			cycle = pick(r, "monthly", "monthly", "monthly", "annual")
		}
		return fmt.Sprintf("C-%04d,%s,%s,%d,%s,%v", i, contract, cycle, r.IntN(70), survey, churn)
	})
	s := Infer(readCSV(t, csv), InferConfig{})
	if s.Outcomes.Churned != "Churn" {
		t.Fatalf("Outcomes.Churned = %q, want Churn", s.Outcomes.Churned)
	}
	for _, name := range []string{"Contract", "billing_cycle"} {
		if c := s.Column(name); c.Role != RoleCategorical {
			t.Errorf("%s role = %s (%s), want categorical", name, c.Role, c.Reason)
		}
	}
	c := s.Column("Exit Survey")
	if c.Role != RoleLeakage || c.Leakage == nil || c.Leakage.Positive != "retained" || c.Leakage.FilledPositive != 0 {
		t.Errorf("Exit Survey = %+v (%+v), want leakage filled for churned customers only", c, c.Leakage)
	}
}

func TestChurnDate(t *testing.T) {
	csv := "industry,outcome,churn_date\nSaaS,won,2024-03-01\nSaaS,won,\nRetail,lost,\nRetail,won,\n"
	tab := readCSV(t, csv)
	s := Infer(tab, InferConfig{})
	if s.Outcomes.Churned != "churn_date" || s.Column("churn_date").Role != RoleOutcome {
		t.Fatalf("Outcomes = %+v, want churn_date as the churn outcome", s.Outcomes)
	}
	clean := s.Clean(tab)
	c := clean.Column("churn_date")
	if c.Kind != datasets.Bool || c.Num[0] != 1 || c.Num[1] != 0 {
		t.Errorf("cleaned churn_date = %v %v, want a 1/0 flag", c.Kind, c.Num)
	}
	if tab.Column("churn_date").Kind != datasets.Date {
		t.Errorf("Clean modified its input")
	}
}

func TestTagColumns(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		col     string
		want    Role
		wantSep string
	}{
		{
			name: "comma tags in quoted cells",
			give: csvOf("Apps,x", 60, 11, func(i int, r *rand.Rand) string {
				tags := r.Perm(5)[:1+r.IntN(3)]
				var parts []string
				for _, k := range tags {
					parts = append(parts, []string{"Slack", "AWS", "aws", "Zoom", "Jira"}[k])
				}
				return fmt.Sprintf("%q,%d", strings.Join(parts, ", "), i)
			}),
			col: "Apps", want: RoleTags, wantSep: ",",
		},
		{
			name: "city and state are no tags",
			give: csvOf("Billing City,x", 60, 12, func(i int, r *rand.Rand) string {
				return fmt.Sprintf("%q,%d", pick(r, "Boston, MA", "Austin, TX", "Denver, CO", "Seattle, WA", "Cambridge, MA"), i)
			}),
			col: "Billing City", want: RoleCategorical,
		},
		{
			name: "pipe tags",
			give: csvOf("interests,x", 60, 13, func(i int, r *rand.Rand) string {
				return fmt.Sprintf("%s|%s,%d", pick(r, "golf", "tennis", "chess"), pick(r, "chess", "golf", "wine"), i)
			}),
			col: "interests", want: RoleTags, wantSep: "|",
		},
		{
			name: "tags by name with one tag per cell",
			give: "Tags,x\nRinging,1\nWill revert after reading the email,2\n,3\n",
			col:  "Tags", want: RoleTags, wantSep: ";",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Infer(readCSV(t, tt.give), InferConfig{}).Column(tt.col)
			if c.Role != tt.want || c.Separator != tt.wantSep {
				t.Errorf("%q = %s %q (%s), want %s %q", tt.col, c.Role, c.Separator, c.Reason, tt.want, tt.wantSep)
			}
		})
	}
}

func TestTagNormalisation(t *testing.T) {
	csv := "stack,outcome\n" +
		"\"AWS, Slack\",won\n" + "\"aws,slack\",lost\n" + "\" Aws , ,Zoom\",won\n" + "\"AWS, Google  Cloud\",lost\n" +
		"\"google cloud, Zoom\",won\n" + "\"Slack, none\",lost\n"
	tab := readCSV(t, csv)
	s := Infer(tab, InferConfig{})
	if c := s.Column("stack"); c.Role != RoleTags || c.Separator != "," {
		t.Fatalf("stack = %+v, want tags separated by ,", c)
	}
	e, err := Fit(tab, s, nil, EncoderConfig{MinLevelCount: 2})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range e.Features() {
		names = append(names, f.Name)
	}
	// One column per tag whatever its case and spacing, named by its most
	// common spelling; "none" is a placeholder, not a tag.
	want := "stack has AWS|stack has Slack|stack has Google Cloud|stack has Zoom"
	if got := strings.Join(names, "|"); got != want {
		t.Errorf("Features() = %s, want %s", got, want)
	}
	x, err := e.Transform(tab, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < tab.Rows(); i++ {
		for j, f := range e.Features() {
			tag := strings.TrimPrefix(f.Name, "stack has ")
			if got, want := x.At(i, j) == 1, HasTag(tab.Column("stack").Str[i], ",", tag); got != want {
				t.Errorf("row %d %q: encoder %v, HasTag %v", i, f.Name, got, want)
			}
		}
	}
	// Serving reads a request the same way.
	one, err := s.Table([]icp.Account{{"stack": []any{"  google CLOUD", "slack"}}})
	if err != nil {
		t.Fatal(err)
	}
	row := make([]float64, e.Width)
	e.EncodeRow(one, 0, row)
	if got, want := fmt.Sprint(row), "[0 1 1 0]"; got != want {
		t.Errorf("encoded request = %s, want %s (Slack and Google Cloud)", got, want)
	}
	// Clean writes every tag in its shown spelling.
	got := s.Clean(tab).Column("stack").Str
	if got[1] != "AWS,Slack" || got[2] != "AWS,Zoom" || got[5] != "Slack" {
		t.Errorf("cleaned tags = %q", got)
	}
}

func TestTagHelpers(t *testing.T) {
	if got := TagKey("  Google \t Cloud "); got != "google cloud" {
		t.Errorf("TagKey = %q, want %q", got, "google cloud")
	}
	if got := SplitTags(" a ;; b ;", ";"); strings.Join(got, "|") != "a|b" {
		t.Errorf("SplitTags = %q, want [a b]", got)
	}
	tests := []struct {
		cell, sep, tag string
		want           bool
	}{
		{"Slack, AWS", ",", "aws", true},
		{"Slack, AWS", ",", "AWS ", true},
		{"Slack,AWSX", ",", "AWS", false},
		{"hubspot;aws", "", "HubSpot", true},
		{"", ";", "aws", false},
		{"a;;b", ";", "", false},
	}
	for _, tt := range tests {
		if got := HasTag(tt.cell, tt.sep, tt.tag); got != tt.want {
			t.Errorf("HasTag(%q, %q, %q) = %v, want %v", tt.cell, tt.sep, tt.tag, got, tt.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { HasTag("Slack, AWS, Google Cloud", ",", "google cloud") }); n != 0 {
		t.Errorf("HasTag allocates %v times, want 0", n)
	}
}

func TestContentRoles(t *testing.T) {
	notes := func(i int) string {
		return fmt.Sprintf("Called on day %d, left a voicemail about pricing and the security review", i)
	}
	tests := []struct {
		name string
		give string
		col  string
		want Role
		why  string
	}{
		{"lead number", csvOf("Lead Number,v", 50, 14, func(i int, r *rand.Rand) string {
			return fmt.Sprintf("%d,%d", 660737-i*3-r.IntN(3), r.IntN(9))
		}), "Lead Number", RoleID, "row number"},
		{"pandas index", csvOf("Unnamed: 0,v", 50, 15, func(i int, r *rand.Rand) string {
			return fmt.Sprintf("%d,%d", (i*37)%61, r.IntN(9))
		}), "Unnamed: 0", RoleID, "row number by name"},
		{"sequential integers", csvOf("seq,v", 50, 16, func(i int, r *rand.Rand) string {
			return fmt.Sprintf("%d,%d", 1000+i, r.IntN(9))
		}), "seq", RoleID, "steps of one size"},
		{"distinct counts stay numbers", csvOf("employees,v", 50, 17, func(i int, r *rand.Rand) string {
			return fmt.Sprintf("%d,%d", 10+i*97+r.IntN(50), r.IntN(9))
		}), "employees", RoleNumeric, ""},
		{"repeated identifier", csvOf("landing_page_id,v", 400, 18, func(i int, r *rand.Rand) string {
			return fmt.Sprintf("LP%d,%d", r.IntN(12), r.IntN(9))
		}), "landing_page_id", RoleCategorical, "repeated identifier"},
		{"unique identifier", csvOf("lead_id,v", 400, 19, func(i int, r *rand.Rand) string {
			return fmt.Sprintf("L%06d,%d", i, r.IntN(9))
		}), "lead_id", RoleID, "identifier"},
		{"free text", csvOf("Notes,v", 40, 20, func(i int, r *rand.Rand) string {
			return fmt.Sprintf("%q,%d", notes(i), r.IntN(9))
		}), "Notes", RoleExcluded, "free text"},
		{"placeholders are missing", "occupation,v\nSelect,1\nStudent,2\nselect,3\n", "occupation", RoleExcluded, `placeholders "Select"×1, "select"×1`},
		{"a stray text among numbers", "employees,v\n10,1\n20,2\n####,3\n30,4\n", "employees", RoleCategorical, `"####" on line 4`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Infer(readCSV(t, tt.give), InferConfig{}).Column(tt.col)
			if c.Role != tt.want || !strings.Contains(c.Reason, tt.why) {
				t.Errorf("%q = %s (%s), want %s with a reason containing %q", tt.col, c.Role, c.Reason, tt.want, tt.why)
			}
		})
	}
}

func TestPlaceholders(t *testing.T) {
	csv := "occupation,industry,outcome\n" + strings.Repeat("Select,SaaS,won\nStudent,Unknown,lost\nWorking,Retail,won\nSelect,Unknown,lost\n", 4)
	tab := readCSV(t, csv)
	s := Infer(tab, InferConfig{})
	e, err := Fit(tab, s, nil, EncoderConfig{MinLevelCount: 2})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range e.Features() {
		names = append(names, f.Name)
	}
	want := "occupation=Student|occupation=Working|occupation other|occupation missing|industry=Retail|industry=SaaS|industry other|industry missing"
	if got := strings.Join(names, "|"); got != want {
		t.Errorf("Features() = %s, want %s", got, want)
	}
	// A placeholder in a request is missing, as in training.
	one, err := s.Table([]icp.Account{{"occupation": "SELECT", "industry": "unknown"}})
	if err != nil {
		t.Fatal(err)
	}
	row := make([]float64, e.Width)
	e.EncodeRow(one, 0, row)
	if got, want := fmt.Sprint(row), "[0 0 0 1 0 0 0 1]"; got != want {
		t.Errorf("encoded request = %s, want %s (only the missing indicators)", got, want)
	}
	if s.Clean(tab).Column("occupation").Str[0] != "" {
		t.Errorf("Clean kept the placeholder %q", s.Clean(tab).Column("occupation").Str[0])
	}
	// The override replaces the list: "Select" becomes a level.
	list := []string{"Unknown"}
	s2, err := InferWith(tab, InferConfig{}, &Override{Placeholders: &list})
	if err != nil {
		t.Fatal(err)
	}
	e2, err := Fit(tab, s2, nil, EncoderConfig{MinLevelCount: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := e2.Features()[0].Name; got != "occupation=Select" {
		t.Errorf("with the override, first feature = %q, want occupation=Select", got)
	}
}

func TestTableIgnoresLeakage(t *testing.T) {
	tab := readCSV(t, dealsCSV(300, 21))
	s := Infer(tab, InferConfig{})
	if s.Column("Amount").Role != RoleLeakage {
		t.Fatalf("Amount role = %s, want leakage", s.Column("Amount").Role)
	}
	got, err := s.Table([]icp.Account{{"Industry": "Retail", "Amount": "$5,000", "Contract Signed": true, "Stage": "Closed Won"}})
	if err != nil {
		t.Fatalf("Table with leakage and outcome columns: %v", err)
	}
	if got.Column("Amount") != nil {
		t.Errorf("Table kept the leakage column Amount")
	}
}

// FuzzInferWith checks that schema inference, the leakage guard, the
// encoder and Clean never panic on a CSV export that reads, and that
// the schema encodes as JSON.
func FuzzInferWith(f *testing.F) {
	f.Add(fixture)
	f.Add(dealsCSV(40, 1))
	f.Add("Stage,Tags\nClosed Won,\"a, b\"\nClosed Lost,b|c\nProspecting,Select\n")
	f.Add("y;x\nyes;1e400\nno;2\n")
	f.Fuzz(func(t *testing.T, csv string) {
		tab, err := datasets.Read(strings.NewReader(csv), "fuzz.csv", nil)
		if err != nil {
			return
		}
		s := Infer(tab, InferConfig{})
		if _, err := json.Marshal(s); err != nil {
			t.Fatalf("json.Marshal(schema): %v", err)
		}
		clean := s.Clean(tab)
		if e, err := Fit(clean, s, nil, EncoderConfig{}); err == nil {
			if _, err := e.Transform(tab, nil); err != nil {
				t.Fatalf("Transform: %v", err)
			}
		}
	})
}

func TestAppendOutcomesStageAndChurnDate(t *testing.T) {
	csv := "Industry,Stage,Close Date,Churn Date\n" +
		"SaaS,Closed Won,2024-01-05,2024-06-01\nRetail,Closed Lost,2024-01-09,\nSaaS,Prospecting,,\nSaaS,Closed Won,2024-02-01,\n"
	tab := readCSV(t, csv)
	s := Infer(tab, InferConfig{})
	if s.Outcomes.Won != "Stage" || s.Outcomes.Churned != "Churn Date" {
		t.Fatalf("Outcomes = %+v, want Stage and Churn Date", s.Outcomes)
	}
	day := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	churned, stayed := true, false
	got, err := s.AppendOutcomes(tab, []icp.Outcome{
		{AccountID: "N1", Account: icp.Account{"Industry": "SaaS"}, Won: true, Churned: &churned, CloseDate: day},
		{AccountID: "N2", Account: icp.Account{"Industry": "Retail"}, Won: false, CloseDate: day},
		{AccountID: "N3", Account: icp.Account{"Industry": "Retail"}, Won: true, Churned: &stayed, CloseDate: day},
	})
	if err != nil {
		t.Fatal(err)
	}
	stage, churn := got.Column("Stage"), got.Column("Churn Date")
	for k, want := range []string{"Closed Won", "Closed Lost", "Closed Won"} {
		if v := stage.Str[4+k]; v != want {
			t.Errorf("appended Stage %d = %q, want %q (the table's own spelling)", k, v, want)
		}
	}
	for k, want := range []bool{true, false, false} {
		if v := IsChurned(churn, 4+k); v != want {
			t.Errorf("appended churn %d = %v, want %v", k, v, want)
		}
	}
	outs, err := s.TableOutcomes(got)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 6 || !outs[0].Won || outs[1].Won || outs[0].Churned == nil || !*outs[0].Churned || *outs[2].Churned {
		t.Errorf("TableOutcomes = %d outcomes %+v, want 6 closed deals with their churn", len(outs), outs)
	}
}

func TestLeakageValuesBothWays(t *testing.T) {
	// Sales write a tag once a lead is worked: "Closed by rep" goes with
	// converted leads, "Ringing" with lost ones. Only two leads in five
	// carry one, so the column alone ranks far below 0.90; its values still
	// name the outcome both ways. A source that converts one way only
	// (referrals always do) is an honest field.
	csv := csvOf("Lead Source,Tags,Converted", 1000, 22, func(i int, r *rand.Rand) string {
		source := pick(r, "Google", "Direct", "Referral", "Olark")
		conv := r.IntN(2) == 0
		if source == "Referral" {
			conv = true
		}
		tag := ""
		if r.IntN(5) < 2 {
			tag = "Ringing"
			if conv {
				tag = pick(r, "Closed by rep", "Will revert")
			}
		}
		return fmt.Sprintf("%s,%s,%d", source, tag, b2i(conv))
	})
	s := Infer(readCSV(t, csv), InferConfig{})
	c := s.Column("Tags")
	if c.Role != RoleLeakage || c.Leakage == nil || c.Leakage.AUC >= leakAUC || !strings.Contains(c.Reason, "both ways") {
		t.Errorf("Tags = %s (%s), evidence %+v, want leakage by values naming the outcome both ways", c.Role, c.Reason, c.Leakage)
	}
	if c := s.Column("Lead Source"); c.Role != RoleCategorical {
		t.Errorf("Lead Source = %s (%s), want categorical", c.Role, c.Reason)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
