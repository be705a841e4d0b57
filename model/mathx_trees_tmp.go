// Temporary: mathx.go from the linear branch replaces this file at merge.

package model

import "math"

// Sigmoid returns the logistic function 1/(1+exp(-z)), computed without
// overflow for large |z|.
func Sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// Logit returns log(p/(1-p)), the inverse of Sigmoid.
func Logit(p float64) float64 {
	return math.Log(p / (1 - p))
}
