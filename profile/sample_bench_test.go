package profile_test

import (
	"context"
	"testing"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/train"
)

// sampleProfile trains on datasets/sample_accounts.csv as cmd/train does
// with its defaults (the model scripts/load-bench.sh serves) and returns it
// with the table.
func sampleProfile(b *testing.B) (*profile.Profile, *datasets.Table) {
	b.Helper()
	tab, err := datasets.ReadFile("../datasets/sample_accounts.csv", nil)
	if err != nil {
		b.Fatal(err)
	}
	p, err := train.Train(tab, features.Infer(tab, features.InferConfig{}), train.Config{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	return p, tab
}

// BenchmarkScoreSample scores the eight accounts of scripts/load-bench.lua
// (rows 100, 300, ..., 1500 of the sample) in turn with the model trained
// on the sample: the scoring work of one load-bench request.
func BenchmarkScoreSample(b *testing.B) {
	p, tab := sampleProfile(b)
	accs := make([]icp.Account, 0, 8)
	for i := 100; i <= 1500; i += 200 {
		acc := tab.Account(i)
		for _, drop := range []string{"outcome", "close_date", "sales_cycle_days", "ltv_usd", "churned"} {
			delete(acc, drop)
		}
		accs = append(accs, acc)
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := p.Score(ctx, accs[i%len(accs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	if p.Model.GBM != nil {
		b.ReportMetric(float64(len(p.Model.GBM.Trees)), "trees")
	}
}
