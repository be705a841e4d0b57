package rollup_test

import (
	"fmt"
	"strings"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/rollup"
)

// Accounts and their opportunities become one row per account with its
// outcome.
func ExampleJoin() {
	accounts, _ := datasets.Read(strings.NewReader(
		"Account ID,Industry\nA1,SaaS\nA2,Retail\nA3,Retail\n"), "accounts.csv", nil)
	deals, _ := datasets.Read(strings.NewReader(
		"Opportunity ID,AccountId,Stage,Amount,Close Date\n"+
			"O1,A1,Closed Lost,100,2024-01-05\nO2,A1,Closed Won,250,2024-03-01\n"+
			"O3,A2,Closed Lost,80,2024-02-01\nO4,A3,Prospecting,90,\n"), "opportunities.csv", nil)
	t, rep, err := rollup.Join(accounts, deals, nil, rollup.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("key %q = %q, stage %q, amount %q\n", rep.AccountKey, rep.DealKey, rep.Stage, rep.Amount)
	out, value := t.Column(rollup.OutcomeColumn), t.Column(rollup.ValueColumn)
	for i := range t.Rows() {
		fmt.Println(t.Column("Account ID").Str[i], out.Str[i], value.Text(i))
	}
	// Output:
	// key "Account ID" = "AccountId", stage "Stage", amount "Amount"
	// A1 won 250
	// A2 lost 0
	// A3 open
}
