package sqlexport

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/features"
)

func nan() float64 { return math.NaN() }

// isValue reports whether encoded column j of ce is the value of a
// number, date or boolean column (not an indicator).
func isValue(ce *features.ColumnEncoder, j int) bool {
	switch ce.Role {
	case features.RoleNumeric, features.RoleDate, features.RoleBoolean:
		return j == ce.Offset
	}
	return false
}

// owner returns the column encoder that produces encoded column j.
func (b *builder) owner(j int) (*features.ColumnEncoder, error) {
	for k := range b.p.Encoder.Columns {
		ce := &b.p.Encoder.Columns[k]
		if j >= ce.Offset && j < ce.Offset+ce.Width() {
			return ce, nil
		}
	}
	return nil, fmt.Errorf("sql export: encoded column %d out of range", j)
}

// encodedValue returns what the profile's encoder makes of the raw value v
// (NaN: missing) of the value column of ce: the encoder itself computes
// it, on a table of one row.
func (b *builder) encodedValue(ce *features.ColumnEncoder, v float64) float64 {
	kind := datasets.Number
	switch ce.Kind {
	case "date":
		kind = datasets.Date
	case "bool":
		kind = datasets.Bool
	}
	t := &datasets.Table{Columns: []*datasets.Column{{Name: ce.Name, Kind: kind, Num: []float64{v}}}}
	dst := make([]float64, b.p.Encoder.Width)
	b.p.Encoder.EncodeRow(t, 0, dst)
	return dst[ce.Offset]
}

// indicator returns the SQL condition (never NULL) under which encoded
// column j, an indicator of ce, is 1 (0 otherwise).
func (b *builder) indicator(ce *features.ColumnEncoder, j int) (string, error) {
	s, err := b.src(ce.Name)
	if err != nil {
		return "", err
	}
	pos := j - ce.Offset
	if ce.Missing && j == ce.Offset+ce.Width()-1 {
		return b.missing(s), nil
	}
	switch ce.Role {
	case features.RoleCategorical:
		if pos < len(ce.Levels) {
			eq, err := b.levelEq(s, ce.Levels[pos])
			if err != nil {
				return "", err
			}
			return "(NOT " + b.missing(s) + " AND " + eq + ")", nil
		}
		// "other": present and none of the levels.
		cond := "(NOT " + b.missing(s)
		for _, l := range ce.Levels {
			eq, err := b.levelEq(s, l)
			if err != nil {
				return "", err
			}
			cond += " AND NOT " + eq
		}
		return cond + ")", nil
	case features.RoleTags:
		key := features.TagKey(ce.Levels[pos])
		// The encoder sets the column of the first level with this key.
		for _, l := range ce.Levels[:pos] {
			if features.TagKey(l) == key {
				return "FALSE", nil
			}
		}
		return b.d.hasKey(s.v, key), nil
	}
	return "", fmt.Errorf("sql export: encoded column %d of %q is not an indicator", j, ce.Name)
}

// levelEq is the SQL condition (never NULL for a present value) that the
// value of s reads as the category level l, as the encoder compares them
// (Column.Text of the value).
func (b *builder) levelEq(s *source, l string) (string, error) {
	switch s.kind {
	case "string":
		return "COALESCE(" + s.v + " = " + str(l) + ", FALSE)", nil
	case "bool":
		switch l {
		case "true":
			return "COALESCE(" + s.v + " = " + b.d.num(1) + ", FALSE)", nil
		case "false":
			return "COALESCE(" + s.v + " = " + b.d.num(0) + ", FALSE)", nil
		}
		return "FALSE", nil
	case "number":
		v, err := strconv.ParseFloat(l, 64)
		if err != nil {
			return "FALSE", nil // never the text of a number
		}
		return "COALESCE(" + s.v + " = " + b.d.num(v) + ", FALSE)", nil
	case "date":
		t, err := time.Parse(time.RFC3339Nano, l)
		if err != nil {
			if t, err = time.Parse("2006-01-02", l); err != nil {
				return "FALSE", nil
			}
		}
		d, err := datasets.ParseDate(t.UTC().Format(time.RFC3339Nano))
		if err != nil {
			return "FALSE", nil
		}
		return "COALESCE(" + s.v + " = " + b.d.num(d) + ", FALSE)", nil
	}
	return "", fmt.Errorf("sql export: column %q: kind %q is not supported", s.name, s.kind)
}

// x returns the name of a column holding encoded column j as a double,
// adding it to the encoding layer on first use.
func (b *builder) x(j int) (string, error) {
	if name, ok := b.xs[j]; ok {
		return name, nil
	}
	ce, err := b.owner(j)
	if err != nil {
		return "", err
	}
	var expr string
	if isValue(ce, j) {
		if expr, err = b.valueExpr(ce); err != nil {
			return "", err
		}
	} else {
		cond, err := b.indicator(ce, j)
		if err != nil {
			return "", err
		}
		expr = "CASE WHEN " + cond + " THEN " + b.d.num(1) + " ELSE " + b.d.num(0) + " END"
	}
	name := "_icp_x" + strconv.Itoa(j)
	b.enc.add(name, expr)
	b.xs[j] = name
	return name, nil
}

// valueExpr is the encoded value of a number, date or boolean column:
// (transform(v) - mean) / std, the imputed constant when v is missing.
func (b *builder) valueExpr(ce *features.ColumnEncoder) (string, error) {
	s, err := b.src(ce.Name)
	if err != nil {
		return "", err
	}
	v := s.v
	if ce.Role == features.RoleDate {
		v = "(" + v + " / " + b.d.num(365.25) + ")"
	}
	if ce.Log {
		v = b.log1p(s.v)
	}
	imputed := b.encodedValue(ce, nan())
	return "CASE WHEN " + s.v + " IS NULL THEN " + b.d.num(imputed) + " ELSE ((" + v + " - " + b.d.num(ce.Mean) + ") / " + b.d.num(ce.Std) + ") END", nil
}

// The constants of Go's math.Log1p (FreeBSD's s_log1p.c).
const (
	log1pSqrt2M1 = 4.142135623730950488017e-01
	log1pSmall   = 1.0 / (1 << 29)
	log1pTiny    = 1.0 / (1 << 54)
	log1pTwo53   = 1 << 53
	log1pLn2Hi   = 6.93147180369123816490e-01
	log1pLn2Lo   = 1.90821492927058770002e-10
	log1pLp1     = 6.666666666666735130e-01
	log1pLp2     = 3.999999999940941908e-01
	log1pLp3     = 2.857142874366239149e-01
	log1pLp4     = 2.222219843214978396e-01
	log1pLp5     = 1.818357216161805012e-01
	log1pLp6     = 1.531383769920937332e-01
	log1pLp7     = 1.479819860511658591e-01
	log1pSqrt2   = 0x0006a09e667f3bcd // mantissa bits of Sqrt(2)
	log1pR       = 0.66666666666666666
)

// log1p returns the name of a column holding Go's math.Log1p(max(v, 0))
// of the column v, bit for bit: Go's algorithm written out in double
// arithmetic over a few layers, the exponent and mantissa of 1+x taken by
// exact scaling by powers of two. (A database's ln(1 + v) can differ from
// math.Log1p in the last bit, and a logistic margin with it.)
func (b *builder) log1p(v string) string {
	if name, ok := b.logOf[v]; ok {
		return name
	}
	n := len(b.logOf)
	name := func(s string) string { return fmt.Sprintf("_icp_log%d_%s", n, s) }
	at := func(k int) *layer {
		for len(b.logs) <= k {
			b.logs = append(b.logs, layer{})
		}
		return &b.logs[k]
	}
	d := b.d
	one, two := d.num(1), d.num(2)
	x, u, k0, k, c, m, kk, un, iu := name("x"), name("u"), name("k0"), name("k"), name("c"), name("m"), name("kk"), name("un"), name("iu")
	f, kf, cf, iuf, hfsq, s, z, r := name("f"), name("kf"), name("cf"), name("iuf"), name("hfsq"), name("s"), name("z"), name("r")
	small := x + " < " + d.num(log1pSqrt2M1)
	// x = max(v, 0); u = 1 + x below 2^53.
	at(0).add(x, "CASE WHEN "+v+" > "+d.num(0)+" THEN "+v+" ELSE "+d.num(0)+" END")
	at(1).add(u, "CASE WHEN "+x+" < "+d.num(log1pTwo53)+" THEN "+one+" + "+x+" ELSE "+x+" END")
	// k = the exponent of u, from ln and corrected to be exact.
	at(2).add(k0, "floor(ln("+u+") / "+d.num(math.Ln2)+")")
	at(3).add(k, k0+" - CASE WHEN power("+two+", "+k0+") > "+u+" THEN "+one+" ELSE "+d.num(0)+" END"+
		" + CASE WHEN power("+two+", "+k0+" + "+one+") <= "+u+" THEN "+one+" ELSE "+d.num(0)+" END")
	at(4).add(c, "CASE WHEN "+x+" >= "+d.num(log1pTwo53)+" THEN "+d.num(0)+
		" WHEN "+k+" > "+d.num(0)+" THEN ("+one+" - ("+u+" - "+x+")) / "+u+
		" ELSE ("+x+" - ("+u+" - "+one+")) / "+u+" END")
	at(4).add(m, "("+u+" / power("+two+", "+k+") - "+one+") * "+d.num(1<<52))
	big := m + " >= " + d.num(log1pSqrt2)
	at(5).add(kk, "CASE WHEN "+big+" THEN "+k+" + "+one+" ELSE "+k+" END")
	at(5).add(un, "CASE WHEN "+big+" THEN ("+one+" + "+m+" / "+d.num(1<<52)+") / "+two+" ELSE "+one+" + "+m+" / "+d.num(1<<52)+" END")
	at(5).add(iu, "CASE WHEN "+big+" THEN floor(("+d.num(1<<52)+" - "+m+") / "+d.num(4)+") ELSE "+m+" END")
	// Below Sqrt(2)-1: k = 0, f = x and iu = 1.
	at(6).add(f, "CASE WHEN "+small+" THEN "+x+" ELSE "+un+" - "+one+" END")
	at(6).add(kf, "CASE WHEN "+small+" THEN "+d.num(0)+" ELSE "+kk+" END")
	at(6).add(cf, "CASE WHEN "+small+" THEN "+d.num(0)+" ELSE "+c+" END")
	at(6).add(iuf, "CASE WHEN "+small+" THEN "+one+" ELSE "+iu+" END")
	at(7).add(hfsq, "("+d.num(0.5)+" * "+f+") * "+f)
	at(7).add(s, f+" / ("+two+" + "+f+")")
	at(8).add(z, s+" * "+s)
	poly := d.num(log1pLp7)
	for _, lp := range []float64{log1pLp6, log1pLp5, log1pLp4, log1pLp3, log1pLp2, log1pLp1} {
		poly = "(" + d.num(lp) + " + " + z + " * " + poly + ")"
	}
	at(9).add(r, z+" * "+poly)
	kHi := "(" + kf + " * " + d.num(log1pLn2Hi) + ")"
	kLo := "(" + kf + " * " + d.num(log1pLn2Lo) + ")"
	r2 := "(" + hfsq + " * (" + one + " - " + d.num(log1pR) + " * " + f + "))"
	out := "CASE WHEN " + x + " < " + d.num(log1pTiny) + " THEN " + x +
		" WHEN " + x + " < " + d.num(log1pSmall) + " THEN " + x + " - (" + x + " * " + x + ") * " + d.num(0.5) +
		" WHEN " + iuf + " = " + d.num(0) + " THEN (CASE" +
		" WHEN " + f + " = " + d.num(0) + " THEN (CASE WHEN " + kf + " = " + d.num(0) + " THEN " + d.num(0) + " ELSE " + kHi + " + (" + cf + " + " + kLo + ") END)" +
		" WHEN " + kf + " = " + d.num(0) + " THEN " + f + " - " + r2 +
		" ELSE " + kHi + " - ((" + r2 + " - (" + kLo + " + " + cf + ")) - " + f + ") END)" +
		" WHEN " + kf + " = " + d.num(0) + " THEN " + f + " - (" + hfsq + " - " + s + " * (" + hfsq + " + " + r + "))" +
		" ELSE " + kHi + " - ((" + hfsq + " - (" + s + " * (" + hfsq + " + " + r + ") + (" + kLo + " + " + cf + "))) - " + f + ") END"
	res := name("res")
	at(10).add(res, out)
	b.logOf[v] = res
	return res
}
