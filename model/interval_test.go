package model

import (
	"math"
	"testing"
)

func TestWilson(t *testing.T) {
	// Newcombe (1998), Statistics in Medicine 17:857-872, table I, method
	// 3 (score interval without continuity correction).
	tests := []struct {
		k, n           int
		wantLo, wantHi float64
	}{
		{81, 263, 0.2553, 0.3662},
		{15, 148, 0.0624, 0.1605},
		{0, 20, 0, 0.1611},
		{1, 29, 0.0061, 0.1718},
		{0, 0, 0, 1},
	}
	for _, tt := range tests {
		lo, hi := Wilson(tt.k, tt.n)
		if math.Abs(lo-tt.wantLo) > 5e-5 || math.Abs(hi-tt.wantHi) > 5e-5 {
			t.Errorf("Wilson(%d, %d) = %.4f, %.4f, want %.4f, %.4f", tt.k, tt.n, lo, hi, tt.wantLo, tt.wantHi)
		}
	}
	// The interval of k failures mirrors that of k successes.
	lo, hi := Wilson(30, 100)
	mlo, mhi := Wilson(70, 100)
	if math.Abs(lo-(1-mhi)) > 1e-12 || math.Abs(hi-(1-mlo)) > 1e-12 {
		t.Errorf("Wilson(30, 100) = %v, %v; Wilson(70, 100) = %v, %v; want mirror images", lo, hi, mlo, mhi)
	}
}
