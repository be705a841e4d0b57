package synth_test

import (
	"fmt"
	"os"

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
