package traits_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/drift"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/traits"
)

// accounts is a table of 60 accounts whose first 15 (the members) are
// SaaS companies of about a thousand employees on hubspot and partners;
// the others spread over four industries, small, on other tools; every
// account runs on aws.
func accounts(t testing.TB) (*datasets.Table, *features.Encoder, []int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("industry,employees,tech_stack,partner\n")
	industries := []string{"Retail", "Logistics", "Healthcare", "FinTech"}
	tools := []string{"azure", "gcp", "segment", "slack"}
	for i := range 60 {
		if i < 15 {
			fmt.Fprintf(&b, "SaaS,%d,hubspot;aws,true\n", 900+10*i)
			continue
		}
		fmt.Fprintf(&b, "%s,%d,aws;%s,%v\n", industries[i%4], 20+i, tools[i%4], i%5 == 0)
	}
	tab, err := datasets.Read(strings.NewReader(b.String()), "accounts.csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := features.Fit(tab, features.Infer(tab, features.InferConfig{}), nil, features.EncoderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	members := make([]int, 15)
	for i := range members {
		members[i] = i
	}
	return tab, enc, members
}

func TestDescribe(t *testing.T) {
	tab, enc, members := accounts(t)
	got := map[string]float64{}
	for _, tr := range traits.Describe(tab, enc, members) {
		got[tr.Text] = tr.Effect
		if tr.Effect <= 0 || math.IsNaN(tr.Segment) || math.IsNaN(tr.Base) {
			t.Errorf("Describe trait %+v, want a positive effect and finite shares", tr)
		}
	}
	tests := []struct {
		give string
		want bool
	}{
		{"industry = SaaS", true},
		{"tech_stack has hubspot", true},
		{"partner is true", true},
		{"employees 910–1030", true},
		{"tech_stack has aws", false}, // every account carries it
	}
	for _, tt := range tests {
		if _, ok := got[tt.give]; ok != tt.want {
			t.Errorf("Describe(members) holds %q = %v, want %v (traits: %v)", tt.give, ok, tt.want, got)
		}
	}
	if none := traits.Describe(tab, enc, []int{20, 21, 22, 23, 24}); len(none) > 2 {
		t.Errorf("Describe(five ordinary accounts) = %d traits, want at most 2: %+v", len(none), none)
	}
}

func TestDescribeVsReference(t *testing.T) {
	tab, enc, members := accounts(t)
	// The reference population holds no SaaS company and few partners.
	ref := &drift.Reference{Categorical: []drift.CategoricalRef{
		drift.NewCategoricalRef("industry", strings.Split("Retail,Logistics,Healthcare,FinTech,Retail", ",")),
		drift.NewCategoricalRef("partner", strings.Split("true,false,false,false,false", ",")),
		drift.NewCategoricalRef("tech_stack has hubspot", strings.Split("false,false,false,true,false", ",")),
	}}
	got := map[string]bool{}
	for _, tr := range traits.DescribeVsReference(tab, enc, ref, members) {
		got[tr.Text] = true
	}
	for _, want := range []string{"industry = SaaS", "partner is true", "tech_stack has hubspot"} {
		if !got[want] {
			t.Errorf("DescribeVsReference(members) = %v, want %q", got, want)
		}
	}
	if got := traits.DescribeVsReference(tab, enc, nil, members); len(got) == 0 || got[0].Column != "employees" {
		t.Errorf("DescribeVsReference(no reference) = %+v, want the employees range alone", got)
	}
}

func ExampleDescribe() {
	csv := "industry,employees\n" +
		"SaaS,900\nSaaS,1100\nSaaS,1000\nSaaS,950\nSaaS,1050\n" +
		"Retail,20\nRetail,35\nLogistics,40\nLogistics,25\nHealthcare,30\n"
	tab, _ := datasets.Read(strings.NewReader(csv), "accounts.csv", nil)
	enc, _ := features.Fit(tab, features.Infer(tab, features.InferConfig{}), nil, features.EncoderConfig{})
	for _, tr := range traits.Describe(tab, enc, []int{0, 1, 2, 3, 4}) {
		fmt.Println(tr.Text)
	}
	// Output:
	// industry = SaaS
	// employees 900–1100
}
