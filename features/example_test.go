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
