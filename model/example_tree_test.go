package model_test

import (
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/icpengine/icp/model"
)

// exampleAccounts is a small table: employees (missing for some accounts),
// uses-CRM flag, and whether the deal was won.
func exampleAccounts() (*mat.Dense, []float64) {
	n := 200
	x := mat.NewDense(n, 2, nil)
	y := make([]float64, n)
	for i := range n {
		emp := float64(10 + (i*37)%500)
		crm := float64(i % 3 % 2)
		if i%11 == 0 {
			emp = math.NaN()
		}
		x.SetRow(i, []float64{emp, crm})
		if (emp > 200 && crm == 1) || (math.IsNaN(emp) && i%2 == 0) || i%13 == 0 {
			y[i] = 1
		}
	}
	return x, y
}

func ExampleFitTree() {
	x, y := exampleAccounts()
	tree, err := model.FitTree(x, y, nil, &model.TreeConfig{MaxDepth: 2, MinLeaf: 10})
	if err != nil {
		fmt.Println(err)
		return
	}
	names := []string{"employees", "uses_crm"}
	for _, path := range tree.Paths() {
		var conds []string
		for _, c := range path {
			conds = append(conds, c.Describe(names[c.Feature]))
		}
		fmt.Println(strings.Join(conds, ", "))
	}
	fmt.Printf("win rate at employees=300, crm=1: %.2f\n", tree.Predict([]float64{300, 1}))
	// Output:
	// uses_crm <= 0.5 (or missing), employees is present
	// uses_crm <= 0.5 (or missing), employees is missing
	// uses_crm > 0.5, employees <= 182.5 (or missing)
	// uses_crm > 0.5, employees > 182.5
	// win rate at employees=300, crm=1: 1.00
}

func ExampleFitIsotonic() {
	score := []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6}
	won := []float64{0, 1, 0, 0, 1, 1}
	iso, err := model.FitIsotonic(score, won, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(iso.Y)
	fmt.Printf("%.3f %.3f\n", iso.Prob(0.35), iso.Prob(0.9))
	// Output:
	// [0 0.3333333333333333 1 1]
	// 0.500 1.000
}

func ExampleFitPlatt() {
	margin := []float64{-3, -2, -1, -0.5, 0, 0.5, 1, 2, 3, 4}
	won := []float64{0, 0, 0, 1, 0, 1, 0, 1, 1, 1}
	p, err := model.FitPlatt(margin, won, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("A=%.3f B=%.3f P(win | margin 1)=%.3f\n", p.A, p.B, p.Prob(1))
	// Output:
	// A=0.572 B=-0.213 P(win | margin 1)=0.589
}
