package features_test

import (
	"fmt"
	"strings"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/features"
)

func Example() {
	csv := `account_id,industry,employees,tech_stack,outcome
A1,SaaS,120,hubspot;aws,won
A2,SaaS,80,hubspot,lost
A3,Retail,2000,shopify;aws,won
A4,Retail,,aws,lost
`
	t, err := datasets.Read(strings.NewReader(csv), "accounts.csv", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	s := features.Infer(t, features.InferConfig{})
	for _, c := range s.Columns {
		fmt.Printf("%s: %s\n", c.Name, c.Role)
	}
	e, err := features.Fit(t, s, nil, features.EncoderConfig{MinLevelCount: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range e.Features() {
		fmt.Println(" ", f.Name)
	}
	// Output:
	// account_id: id
	// industry: categorical
	// employees: numeric
	// tech_stack: tags
	// outcome: outcome
	//   industry=Retail
	//   industry=SaaS
	//   industry other
	//   employees
	//   employees missing
	//   tech_stack has aws
	//   tech_stack has hubspot
}

// InferWith finds the outcome in a Salesforce-style report, and its leakage
// guard leaves out what is known only once a deal is won: Amount is filled
// for won deals only. An override puts a column back.
func ExampleInferWith() {
	var b strings.Builder
	b.WriteString("Industry,Stage,Close Date,Amount\n")
	for i := 0; i < 60; i++ {
		industry := []string{"Software", "Retail", "Health"}[i%3]
		stage, amount := "Closed Lost", ""
		switch {
		case i%10 == 9:
			stage = "Prospecting"
		case i%2 == 0:
			stage, amount = "Closed Won", fmt.Sprintf(`"$%d,000"`, 10+i)
		}
		fmt.Fprintf(&b, "%s,%s,03/%02d/2024,%s\n", industry, stage, 1+i%28, amount)
	}
	t, err := datasets.Read(strings.NewReader(b.String()), "report.csv", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := features.InferWith(t, features.InferConfig{}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("outcome:", s.Outcomes.Won, "closed on", s.Outcomes.CloseDate)
	for _, c := range s.Columns {
		fmt.Printf("%s: %s\n", c.Name, c.Role)
	}
	ev := s.Column("Amount").Leakage
	fmt.Printf("Amount filled for %.0f%% of won and %.0f%% of lost deals, AUC %.2f\n", 100*ev.FilledPositive, 100*ev.FilledNegative, ev.AUC)

	back := &features.Override{Columns: map[string]features.ColumnOverride{"Amount": {Role: features.RoleNumeric}}}
	s, _ = features.InferWith(t, features.InferConfig{}, back)
	fmt.Println("with the override, Amount:", s.Column("Amount").Role)
	// Output:
	// outcome: Stage closed on Close Date
	// Industry: categorical
	// Stage: outcome
	// Close Date: outcome
	// Amount: leakage
	// Amount filled for 100% of won and 0% of lost deals, AUC 1.00
	// with the override, Amount: numeric
}

// Tags are compared without case or extra spaces, the same way when the
// encoder is fitted, when it encodes, and when a rule is matched.
func ExampleHasTag() {
	fmt.Println(features.TagKey("  Google  Cloud"))
	fmt.Println(features.SplitTags("Slack, AWS, ,aws", ","))
	fmt.Println(features.HasTag("Slack, AWS", ",", "aws"))
	fmt.Println(features.HasTag("Slack, AWS", ",", "Azure"))
	// Output:
	// google cloud
	// [Slack AWS aws]
	// true
	// false
}

// The meaning of an outcome value comes from the built-in words unless the
// schema records another.
func ExampleOutcomes_ValueMeaning() {
	var o features.Outcomes
	for _, v := range []string{"Closed Won", "closed-lost", "acquired", "operating", "Negotiation"} {
		fmt.Println(v, "→", o.ValueMeaning(v))
	}
	o.Values = map[string]string{"Signed": features.MeaningWon}
	fmt.Println("signed →", o.ValueMeaning("signed"))
	// Output:
	// Closed Won → won
	// closed-lost → lost
	// acquired → won
	// operating → open
	// Negotiation → open
	// signed → won
}

// Clean writes placeholders as missing and every tag in its most common
// spelling, so that every reader of the training table agrees with the
// encoder.
func ExampleSchema_Clean() {
	csv := "occupation,stack,outcome\n" +
		"Select,\"AWS, Slack\",won\n" +
		"Student,\"aws,slack\",lost\n" +
		"Working,\" Aws , Zoom\",won\n"
	t, err := datasets.Read(strings.NewReader(csv), "leads.csv", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	s := features.Infer(t, features.InferConfig{})
	clean := s.Clean(t)
	for i := 0; i < clean.Rows(); i++ {
		fmt.Printf("%q %q\n", clean.Column("occupation").Str[i], clean.Column("stack").Str[i])
	}
	// Output:
	// "" "AWS,Slack"
	// "Student" "AWS,Slack"
	// "Working" "AWS,Zoom"
}

func ExampleColumnFrom() {
	t := &datasets.Table{Columns: []*datasets.Column{
		{Name: "industry", Kind: datasets.String},
		{Name: "employees", Kind: datasets.Number},
		{Name: "country", Kind: datasets.String},
	}}
	// Columns looked up in the table's order are each found at once.
	at := 0
	for _, name := range []string{"industry", "employees", "revenue", "country"} {
		var c *datasets.Column
		c, at = features.ColumnFrom(t, name, at)
		fmt.Println(name, c != nil, at)
	}
	// Output:
	// industry true 1
	// employees true 2
	// revenue false 2
	// country true 3
}
