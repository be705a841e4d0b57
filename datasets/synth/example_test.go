package synth_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/datasets/synth"
)

func ExampleGenerate() {
	t, truth := synth.Generate(synth.Config{Rows: 3, Seed: 7})
	if err := datasets.WriteCSV(os.Stdout, t); err != nil {
		fmt.Println(err)
	}
	for _, tr := range truth {
		fmt.Printf("%s %s %.3f\n", tr.AccountID, tr.Segment, tr.WinProb)
	}
	// Output:
	// account_id,industry,employees,annual_revenue_usd,country,region,founded_year,funding_stage,business_model,tech_stack,web_visits_30d,trial_users,support_tickets_90d,outcome,close_date,sales_cycle_days,ltv_usd,churned
	// ACC-0000001,Consulting,3,144000,GB,EMEA,2021,Bootstrapped,Services,hubspot;stripe;slack;jira,6,0,0,lost,2022-10-27,23,0,
	// ACC-0000002,E-commerce,2421,622370000,US,NA,2018,Public,Marketplace,salesforce;aws;snowflake;slack,143,0,3,lost,2024-02-28,43,0,
	// ACC-0000003,Healthcare,331,41836000,US,NA,,Series A,B2B SaaS,azure;segment;stripe;slack,66,0,4,lost,2024-12-10,95,0,
	// ACC-0000001 anti_icp 0.035
	// ACC-0000002 other 0.155
	// ACC-0000003 other 0.059
}

func ExampleGenerateExport() {
	e, err := synth.GenerateExport(synth.DialectSalesforce, synth.Config{Rows: 2, Seed: 7})
	if err != nil {
		fmt.Println(err)
		return
	}
	h := e.Sheets[0].Header
	fmt.Println(strings.Join([]string{h[3], h[6], h[8], h[10], h[17]}, " | "))
	for _, row := range e.Sheets[0].Rows {
		fmt.Printf("%s | %s | %q | %q | %q\n", row[3], row[6], row[8], row[10], row[17])
	}
	if err := synth.WriteExportTruthCSV(os.Stdout, e.Truth); err != nil {
		fmt.Println(err)
	}
	// Output:
	// Account ID | Stage | Close Date | Amount | Tech Stack
	// 001Q00000000001 | Closed Lost | "9/29/2024" | "" | "Azure"
	// 001Q00000000002 | Needs Analysis | "" | "" | "HubSpot,AWS,Snowflake,Slack"
	// account_id,true_segment,true_anti_icp,true_win_prob
	// 001Q00000000001,none,true,0.057264
	// 001Q00000000002,none,true,0.035189
}
