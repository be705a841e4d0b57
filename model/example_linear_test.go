package model_test

import (
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/icpengine/icp/model"
)

func ExampleFitLogistic() {
	// Simulate accounts whose win probability rises with the first feature
	// and falls with the second.
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 5000
	x := mat.NewDense(n, 2, nil)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		a, b := rng.NormFloat64(), rng.NormFloat64()
		x.Set(i, 0, a)
		x.Set(i, 1, b)
		if rng.Float64() < model.Sigmoid(-0.5+2*a-b) {
			y[i] = 1
		}
	}
	m, err := model.FitLogistic(x, y, nil, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("coef %.1f %.1f, intercept %.1f\n", m.Coef[0], m.Coef[1], m.Intercept)

	account := []float64{1, 0.5}
	ref := []float64{0, 0} // e.g. the training mean
	base, contrib := m.Attributions(account, ref, nil)
	fmt.Printf("P(win) = %.2f; margin %.2f = base %.2f + %.2f + %.2f\n",
		m.Prob(account), m.Margin(account), base, contrib[0], contrib[1])
	// Output:
	// coef 2.0 -1.0, intercept -0.5
	// P(win) = 0.74; margin 1.06 = base -0.50 + 2.04 + -0.48
}

func ExampleFitKMeans() {
	// Two tight groups of accounts in two dimensions.
	x := mat.NewDense(6, 2, []float64{
		1, 1, 1.2, 0.8, 0.9, 1.1,
		8, 8, 8.1, 7.9, 7.8, 8.2,
	})
	km, labels, err := model.FitKMeans(x, nil, model.KMeansConfig{K: 2, Seed: 7})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("labels:", labels)
	c, dist := km.Nearest([]float64{8, 7})
	fmt.Printf("nearest to (8, 7): cluster %d at %.2f\n", c, dist)
	// Output:
	// labels: [1 1 1 0 0 0]
	// nearest to (8, 7): cluster 0 at 1.03
}

func ExampleChooseK() {
	// Three groups of 50 accounts around (0, 0), (10, 0) and (0, 10).
	rng := rand.New(rand.NewPCG(3, 4))
	centres := [][2]float64{{0, 0}, {10, 0}, {0, 10}}
	x := mat.NewDense(150, 2, nil)
	for i := 0; i < 150; i++ {
		c := centres[i%3]
		x.Set(i, 0, c[0]+rng.NormFloat64())
		x.Set(i, 1, c[1]+rng.NormFloat64())
	}
	best, _, scores, err := model.ChooseK(x, nil, 2, 5, 1, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range scores {
		fmt.Printf("k=%d silhouette %.2f\n", s.K, s.Silhouette)
	}
	fmt.Println("chosen k:", len(best.Centroids))
	// Output:
	// k=2 silhouette 0.62
	// k=3 silhouette 0.83
	// k=4 silhouette 0.69
	// k=5 silhouette 0.54
	// chosen k: 3
}

func ExampleROCAUC() {
	y := []float64{0, 1, 1, 0, 1, 0}
	p := []float64{0.9, 0.8, 0.6, 0.6, 0.6, 0.1}
	fmt.Printf("ROC AUC %.4f\n", model.ROCAUC(y, p, nil))
	fmt.Printf("PR AUC  %.4f\n", model.PRAUC(y, p, nil))
	fmt.Printf("lift in top third %.2f\n", model.LiftAtTop(y, p, 1.0/3))
	// Output:
	// ROC AUC 0.5556
	// PR AUC  0.5667
	// lift in top third 1.00
}
