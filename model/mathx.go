package model

import (
	"errors"
	"fmt"
	"math"
)

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

// ErrInvalidInput marks data or parameters a learner refuses: an empty or
// non-finite matrix, bad targets or weights, parameters out of range, a
// decoded model whose parts do not fit together.
var ErrInvalidInput = errors.New("invalid input")

// CheckTargets returns an error matching ErrInvalidInput, naming the row,
// when a target is not finite (or, with binary, not 0 or 1) or a weight is
// negative or not finite, or when the weights (nil for uniform) sum to
// zero.
func CheckTargets(y, weights []float64, binary bool) error {
	var sw float64
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("row %d: target %v: %w", i, v, ErrInvalidInput)
		}
		if binary && v != 0 && v != 1 {
			return fmt.Errorf("row %d: target %v: want 0 or 1: %w", i, v, ErrInvalidInput)
		}
		wi := 1.0
		if weights != nil {
			wi = weights[i]
			if !(wi >= 0) || math.IsInf(wi, 0) {
				return fmt.Errorf("row %d: weight %v: %w", i, wi, ErrInvalidInput)
			}
		}
		sw += wi
	}
	if !(sw > 0) {
		return fmt.Errorf("weights sum to zero: %w", ErrInvalidInput)
	}
	return nil
}

// Midpoint returns a split threshold t with lo <= t < hi between two
// consecutive distinct values: the midpoint unless rounding puts it on hi.
func Midpoint(lo, hi float64) float64 {
	m := lo + (hi-lo)/2
	if m >= hi || math.IsInf(m, 0) {
		m = lo
	}
	return m
}
