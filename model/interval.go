package model

import "math"

// Wilson returns the 95% Wilson score interval of the proportion k/n
// (Wilson 1927; Agresti and Coull 1998 recommend it over the normal
// approximation for small counts and extreme shares):
//
//	centre = (p + z²/2n) / (1 + z²/n)
//	half   = z/(1 + z²/n) * sqrt(p(1-p)/n + z²/4n²)
//
// with p = k/n and z = 1.96. It returns 0, 1 for n <= 0 and clamps k to
// [0, n].
func Wilson(k, n int) (lo, hi float64) {
	const z = 1.959963984540054 // the standard normal quantile of a two-sided 95% interval
	if n <= 0 {
		return 0, 1
	}
	k = min(max(k, 0), n)
	nf := float64(n)
	p := float64(k) / nf
	z2 := z * z
	den := 1 + z2/nf
	centre := (p + z2/(2*nf)) / den
	half := z / den * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	return math.Max(0, centre-half), math.Min(1, centre+half)
}
