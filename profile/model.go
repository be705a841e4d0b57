package profile

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/model"
	"github.com/icpengine/icp/model/gbm"
)

// The model kinds.
const (
	KindLogistic = "logistic"
	KindGBM      = "gbm"
)

// The calibration methods.
const (
	CalibrationNone     = "none"
	CalibrationPlatt    = "platt"
	CalibrationIsotonic = "isotonic"
)

// Model is the fitted scorer: a logistic regression or gradient-boosted
// trees on the encoded features, and a calibration of its margin. A model
// is made by NewLogisticModel or NewGBMModel, or decoded with its profile;
// Decode checks it and chooses its kind once, so that scoring never asks
// which kind it holds.
type Model struct {
	Kind     string          `json:"kind"`
	Logistic *model.Logistic `json:"logistic,omitempty"`
	GBM      *gbm.Model      `json:"gbm,omitempty"`
	// Ref is the mean encoded training row, the reference point of the
	// logistic model's attributions: base value = Margin(Ref).
	Ref         []float64   `json:"ref,omitempty"`
	Calibration Calibration `json:"calibration"`

	kind kind
}

// kind is a model kind as scoring uses it. x is one encoded row, which a
// kind may change (boosted trees mark missing values in it).
type kind interface {
	// margin returns the margin of x.
	margin(x []float64) float64
	// explain returns the margin of x and writes exact additive
	// contributions per encoded column into contrib, returning their base
	// value: base + sum(contrib) = margin.
	explain(x, contrib []float64) (margin, base float64)
	// margins returns the margins of the rows of x, which it leaves as
	// they are.
	margins(x *mat.Dense) []float64
	// usesFeatures reports whether any feature can change the margin.
	usesFeatures() bool
}

// linear is the logistic regression kind: attributions are taken against
// the reference row ref.
type linear struct {
	lr  *model.Logistic
	ref []float64
}

func (l linear) margin(x []float64) float64 { return l.lr.Margin(x) }

func (l linear) explain(x, contrib []float64) (margin, base float64) {
	base, _ = l.lr.Attributions(x, l.ref, contrib)
	return l.lr.Margin(x), base
}

func (l linear) margins(x *mat.Dense) []float64 { return l.lr.MarginBatch(x, nil) }

func (l linear) usesFeatures() bool {
	return slices.ContainsFunc(l.lr.Coef, func(c float64) bool { return c != 0 })
}

// trees is the boosted trees kind, on rows encoded by enc: a missing
// number is marked NaN in the row, so that the trees route it where they
// learned to.
type trees struct {
	g   *gbm.Model
	enc *features.Encoder
}

func (t trees) margin(x []float64) float64 {
	t.enc.MarkMissing(x)
	return t.g.Margin(x)
}

func (t trees) explain(x, contrib []float64) (margin, base float64) {
	t.enc.MarkMissing(x)
	base, _ = t.g.SHAP(x, contrib)
	return t.g.Margin(x), base
}

func (t trees) margins(x *mat.Dense) []float64 { return t.g.MarginBatch(TreeMatrix(t.enc, x), nil) }

// usesFeatures reports whether the leaves of a tree differ: only then
// does a split change the margin.
func (t trees) usesFeatures() bool {
	for k := range t.g.Trees {
		tr := &t.g.Trees[k]
		first := math.NaN()
		for j, f := range tr.Feature {
			switch {
			case f >= 0: // an internal node
			case math.IsNaN(first):
				first = tr.Value[j]
			case tr.Value[j] != first:
				return true
			}
		}
	}
	return false
}

// NewLogisticModel returns the model of a fitted logistic regression whose
// attributions are taken against ref, the mean encoded training row.
func NewLogisticModel(lr *model.Logistic, ref []float64) Model {
	return Model{Kind: KindLogistic, Logistic: lr, Ref: ref, kind: linear{lr, ref}}
}

// NewGBMModel returns the model of boosted trees fitted on rows encoded by
// enc, missing numbers marked (see TreeMatrix).
func NewGBMModel(g *gbm.Model, enc *features.Encoder) Model {
	return Model{Kind: KindGBM, GBM: g, kind: trees{g, enc}}
}

// The bounds of a decoded model's parameters (see bind). Margins are in
// log-odds: beyond maxLogOdds a probability is 0 or 1 to 43 digits, so a
// base value, intercept, leaf value or Platt offset past it can only make
// every score saturate. The slope of a Platt calibration maps a margin to
// the calibrated log-odds; fitted ones are near 1.
const (
	maxLogOdds    = 100
	maxPlattSlope = 100
	// maxCoef bounds a logistic coefficient on standardized columns, and
	// maxEncoded an encoded value the model holds (the reference row, a
	// segment centre).
	maxCoef    = 1e6
	maxEncoded = 1e6
	// maxIsotonic bounds the knots of an isotonic calibration (one per
	// pooled block of the holdout).
	maxIsotonic = 1 << 20
)

// bind checks that a decoded model can score rows encoded by enc, with
// parameters within the bounds above, and chooses its kind: the one place
// that asks which kind a model is. JSON holds no NaN or infinity, but
// huge finite values can overflow a margin or saturate every score.
func (m *Model) bind(enc *features.Encoder) error {
	w := enc.Width
	switch m.Kind {
	case KindLogistic:
		if m.Logistic == nil || len(m.Logistic.Coef) != w || len(m.Ref) != w {
			return fmt.Errorf("logistic model does not fit %d encoded columns", w)
		}
		for j, v := range m.Logistic.Coef {
			if math.Abs(v) > maxCoef {
				return fmt.Errorf("logistic coefficient %d is %g, beyond ±%g", j, v, float64(maxCoef))
			}
		}
		if v := m.Logistic.Intercept; math.Abs(v) > maxLogOdds {
			return fmt.Errorf("logistic intercept %g beyond ±%d log-odds", v, maxLogOdds)
		}
		for j, v := range m.Ref {
			if math.Abs(v) > maxEncoded {
				return fmt.Errorf("reference row value %d is %g, beyond ±%g", j, v, float64(maxEncoded))
			}
		}
		m.kind = linear{m.Logistic, m.Ref}
	case KindGBM:
		g := m.GBM
		if g == nil || g.NumFeatures != w || g.Loss != "logloss" {
			return fmt.Errorf("boosted trees do not fit %d encoded columns", w)
		}
		if err := g.Validate(); err != nil {
			// Said once: the caller marks the error invalid.
			return errors.New(strings.TrimSuffix(err.Error(), ": "+model.ErrInvalidInput.Error()))
		}
		if math.Abs(g.Base) > maxLogOdds {
			return fmt.Errorf("boosted trees' base value %g beyond ±%d log-odds", g.Base, maxLogOdds)
		}
		for ti := range g.Trees {
			for n, v := range g.Trees[ti].Value {
				if math.Abs(v) > maxLogOdds {
					return fmt.Errorf("tree %d: node %d: leaf value %g beyond ±%d log-odds", ti, n, v, maxLogOdds)
				}
			}
		}
		m.kind = trees{g, enc}
	default:
		return fmt.Errorf("unknown model kind %q", m.Kind)
	}
	return m.Calibration.check()
}

// check verifies that a decoded calibration is complete, increasing where
// it must be, and within bounds.
func (c *Calibration) check() error {
	switch {
	case c.Method == CalibrationNone:
		return nil
	case c.Method == CalibrationPlatt && c.Platt != nil:
		if a, b := c.Platt.A, c.Platt.B; math.Abs(a) > maxPlattSlope || math.Abs(b) > maxLogOdds {
			return fmt.Errorf("platt calibration slope %g, offset %g: want at most %d and %d in size", a, b, maxPlattSlope, maxLogOdds)
		}
		return nil
	case c.Method == CalibrationIsotonic && c.Isotonic != nil && len(c.Isotonic.X) > 0 &&
		len(c.Isotonic.X) == len(c.Isotonic.Y) && sort.Float64sAreSorted(c.Isotonic.X) && sort.Float64sAreSorted(c.Isotonic.Y):
		iso := c.Isotonic
		if len(iso.X) > maxIsotonic {
			return fmt.Errorf("isotonic calibration has %d knots, more than %d", len(iso.X), maxIsotonic)
		}
		if lo, hi := iso.Y[0], iso.Y[len(iso.Y)-1]; lo < 0 || hi > 1 {
			return fmt.Errorf("isotonic calibration gives %g to %g, outside [0, 1]", lo, hi)
		}
		return nil
	}
	return fmt.Errorf("calibration %q is incomplete or not increasing", c.Method)
}

// Calibration maps a margin to a probability.
type Calibration struct {
	// Method is "none" (the logistic function), "platt" or "isotonic".
	Method   string          `json:"method"`
	Platt    *model.Platt    `json:"platt,omitempty"`
	Isotonic *model.Isotonic `json:"isotonic,omitempty"`
}

// Prob returns the calibrated probability of a margin.
func (c *Calibration) Prob(margin float64) float64 {
	switch c.Method {
	case CalibrationPlatt:
		return c.Platt.Prob(margin)
	case CalibrationIsotonic:
		return c.Isotonic.Prob(margin)
	}
	return model.Sigmoid(margin)
}

// TreeMatrix returns a copy of the encoded matrix with missing numbers
// marked NaN, as boosted trees read it: they learn where missing values go.
func TreeMatrix(enc *features.Encoder, x *mat.Dense) *mat.Dense {
	out := mat.DenseCopyOf(x)
	r, _ := out.Dims()
	for i := 0; i < r; i++ {
		enc.MarkMissing(out.RawRowView(i))
	}
	return out
}

// Margins returns the model's margins for the encoded rows x.
func (m *Model) Margins(x *mat.Dense) []float64 { return m.kind.margins(x) }

// Explain returns the margin of one encoded row x and writes exact additive
// contributions per encoded column into contrib, returning their base
// value: base + sum(contrib) = margin. x is changed (missing values marked)
// for boosted trees.
func (m *Model) Explain(x, contrib []float64) (margin, base float64) {
	return m.kind.explain(x, contrib)
}

// Probs returns the calibrated scores of the encoded rows x.
func (m *Model) Probs(x *mat.Dense) []float64 {
	out := m.Margins(x)
	for i, v := range out {
		out[i] = m.Calibration.Prob(v)
	}
	return out
}

// baseValue returns the base value of the model's attributions, which does
// not depend on the row: the expected margin over the training data.
func (m *Model) baseValue(width int) float64 {
	buf := make([]float64, 2*width)
	_, base := m.kind.explain(buf[:width], buf[width:])
	return base
}
