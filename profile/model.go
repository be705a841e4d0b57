package profile

import (
	"fmt"
	"math"
	"sort"

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

// bind checks that a decoded model can score rows encoded by enc and
// chooses its kind: the one place that asks which kind a model is.
func (m *Model) bind(enc *features.Encoder) error {
	w := enc.Width
	switch m.Kind {
	case KindLogistic:
		if m.Logistic == nil || len(m.Logistic.Coef) != w || len(m.Ref) != w {
			return fmt.Errorf("logistic model does not fit %d encoded columns", w)
		}
		// JSON cannot hold NaN or Inf, but huge values can overflow the margin.
		for _, v := range m.Logistic.Coef {
			if math.Abs(v) > 1e6 {
				return fmt.Errorf("coefficient %g out of range", v)
			}
		}
		m.kind = linear{m.Logistic, m.Ref}
	case KindGBM:
		if m.GBM == nil || m.GBM.NumFeatures != w || m.GBM.Loss != "logloss" {
			return fmt.Errorf("boosted trees do not fit %d encoded columns", w)
		}
		if err := m.GBM.Validate(); err != nil {
			return err
		}
		m.kind = trees{m.GBM, enc}
	default:
		return fmt.Errorf("unknown model kind %q", m.Kind)
	}
	c := m.Calibration
	switch {
	case c.Method == CalibrationNone:
	case c.Method == CalibrationPlatt && c.Platt != nil:
	case c.Method == CalibrationIsotonic && c.Isotonic != nil && len(c.Isotonic.X) > 0 &&
		len(c.Isotonic.X) == len(c.Isotonic.Y) && sort.Float64sAreSorted(c.Isotonic.X) && sort.Float64sAreSorted(c.Isotonic.Y):
	default:
		return fmt.Errorf("calibration %q is incomplete or not increasing", c.Method)
	}
	return nil
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
