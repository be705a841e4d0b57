package model

import "math"

// Sigmoid returns the logistic function 1/(1+exp(-z)).
//
// It is evaluated without overflow for any z: for negative z it uses
// exp(z)/(1+exp(z)), so Sigmoid(-800) is a tiny positive number rather than
// 0/Inf arithmetic. Sigmoid(±Inf) is 1 and 0, and Sigmoid(NaN) is NaN.
func Sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// Logit returns log(p/(1-p)), the inverse of Sigmoid.
//
// Logit(0) is -Inf, Logit(1) is +Inf and Logit of a value outside [0, 1] or
// of NaN is NaN. It is computed as log(p) - log1p(-p), which keeps full
// relative precision for p close to 0.
func Logit(p float64) float64 {
	if !(p >= 0 && p <= 1) {
		return math.NaN()
	}
	return math.Log(p) - math.Log1p(-p)
}

// Distance returns the Euclidean distance between a and b, which have the
// same length.
func Distance(a, b []float64) float64 {
	s := 0.0
	for j, v := range a {
		d := v - b[j]
		s += d * d
	}
	return math.Sqrt(s)
}
