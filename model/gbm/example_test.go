package gbm_test

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/icpengine/icp/model/gbm"
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

func ExampleFit() {
	x, y := exampleAccounts()
	g, info, err := gbm.Fit(x, y, nil, nil, &gbm.Config{Rounds: 50, MinLeafRows: 5, Threads: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	row := []float64{300, 1}
	base, phi := g.SHAP(row, nil)
	fmt.Printf("trees: %d\n", info.Rounds)
	fmt.Printf("P(win) = %.3f\n", g.Prob(row))
	fmt.Printf("base + employees + uses_crm = %.3f + %.3f + %.3f = margin %.3f\n", base, phi[0], phi[1], g.Margin(row))
	// Output:
	// trees: 50
	// P(win) = 0.981
	// base + employees + uses_crm = -1.522 + 2.058 + 3.426 = margin 3.962
}
