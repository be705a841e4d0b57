package drift_test

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/icpengine/icp/drift"
)

func ExamplePSI() {
	// Reference and current shares over the same four bins.
	ref := []float64{0.25, 0.25, 0.25, 0.25}
	cur := []float64{0.10, 0.20, 0.30, 0.40}
	psi := drift.PSI(ref, cur)
	fmt.Printf("PSI %.3f (%s)\n", psi, drift.PSIBand(psi))
	// Output:
	// PSI 0.228 (watch)
}

func ExampleCompareFeatures() {
	rng := rand.New(rand.NewPCG(1, 1))
	employees := func(n int, shift float64) []float64 {
		x := make([]float64, n)
		for i := range x {
			x[i] = 50 + 20*rng.NormFloat64() + shift
		}
		return x
	}
	industry := func(n int, saas float64) []string {
		x := make([]string, n)
		for i := range x {
			switch u := rng.Float64(); {
			case u < saas:
				x[i] = "SaaS"
			case u < saas+(1-saas)/2:
				x[i] = "Retail"
			default:
				x[i] = "Fintech"
			}
		}
		return x
	}
	// The reference is built at training time and saved in the artifact.
	ref := &drift.Reference{
		Numeric:     []drift.NumericRef{drift.NewNumericRef("employees", employees(10000, 0))},
		Categorical: []drift.CategoricalRef{drift.NewCategoricalRef("industry", industry(10000, 0.13))},
	}
	// The last 1,000 scored accounts: employees moved by half a standard
	// deviation, industry did not change.
	w := drift.Window{
		Numeric:     map[string][]float64{"employees": employees(1000, 10)},
		Categorical: map[string][]string{"industry": industry(1000, 0.13)},
	}
	for _, r := range drift.CompareFeatures(ref, w, drift.Config{}) {
		fmt.Printf("%s: %s %.2f (threshold %.1f) -> %s\n", r.Feature, r.Test, r.Statistic, r.Threshold, r.Status)
	}
	// Output:
	// employees: wasserstein 0.53 (threshold 0.1) -> drift
	// industry: cohens_w 0.00 (threshold 0.1) -> stable
}

func ExampleBinomialTestGreater() {
	// 8 or more heads in 10 fair coin flips.
	fmt.Printf("%.4f\n", drift.BinomialTestGreater(8, 10, 0.5))
	// Output:
	// 0.0547
}

func ExampleICPDrift() {
	res, err := drift.ICPDrift(drift.ICPDriftInput{
		ExpectedOutsideShare: 0.2, // holdout winners placed in tier3 or non_fit
		Winners:              50,
		WinnersOutside:       22,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Status)
	fmt.Println(res.Detail)
	// Output:
	// drift
	// 22 of 50 winners (44.0%) outside the ICP, 20.0% expected; binomial p=0.0001 (alpha 0.05)
}

func ExampleMonitor() {
	rng := rand.New(rand.NewPCG(2, 2))
	train := make([]float64, 5000)
	for i := range train {
		train[i] = rng.NormFloat64()
	}
	ref := &drift.Reference{Numeric: []drift.NumericRef{drift.NewNumericRef("employees", train)}}
	m := drift.NewMonitor(ref, drift.MonitorConfig{WindowSize: 1000})
	for range 1500 { // safe to call from many request goroutines
		m.Observe(drift.Row{Num: map[string]float64{"employees": 0.4 + rng.NormFloat64()}})
	}
	rep := m.Evaluate(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC))
	for _, f := range rep.Features {
		fmt.Println(f.Feature, f.Status, f.PSIBand)
	}
	// Output:
	// employees drift watch
}
