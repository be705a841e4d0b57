package profile

import (
	"gonum.org/v1/gonum/mat"

	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/model"
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
// trees on the encoded features, and a calibration of its margin.
type Model struct {
	Kind     string          `json:"kind"`
	Logistic *model.Logistic `json:"logistic,omitempty"`
	GBM      *model.GBM      `json:"gbm,omitempty"`
	// Ref is the mean encoded training row, the reference point of the
	// logistic model's attributions: base value = Margin(Ref).
	Ref         []float64   `json:"ref,omitempty"`
	Calibration Calibration `json:"calibration"`
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
func (m *Model) Margins(enc *features.Encoder, x *mat.Dense) []float64 {
	if m.Kind == KindGBM {
		return m.GBM.MarginBatch(TreeMatrix(enc, x), nil)
	}
	return m.Logistic.MarginBatch(x, nil)
}

// Explain returns the margin of one encoded row and writes exact additive
// contributions per encoded column into contrib, returning their base
// value: base + sum(contrib) = margin. x is changed (missing values marked)
// for boosted trees.
func (m *Model) Explain(enc *features.Encoder, x, contrib []float64) (margin, base float64) {
	if m.Kind == KindGBM {
		enc.MarkMissing(x)
		base, _ = m.GBM.SHAP(x, contrib)
		return m.GBM.Margin(x), base
	}
	base, _ = m.Logistic.Attributions(x, m.Ref, contrib)
	return m.Logistic.Margin(x), base
}

// Probs returns the calibrated scores of the encoded rows x.
func (m *Model) Probs(enc *features.Encoder, x *mat.Dense) []float64 {
	out := m.Margins(enc, x)
	for i, v := range out {
		out[i] = m.Calibration.Prob(v)
	}
	return out
}

// margin returns the model's margin for one encoded row x, as Explain
// does without the attributions. x is changed (missing values marked) for
// boosted trees.
func (m *Model) margin(enc *features.Encoder, x []float64) float64 {
	if m.Kind == KindGBM {
		enc.MarkMissing(x)
		return m.GBM.Margin(x)
	}
	return m.Logistic.Margin(x)
}

// baseValue returns the base value of the model's attributions, which does
// not depend on the account: the expected margin over the training data.
func (p *Profile) baseValue() float64 {
	contrib := make([]float64, p.Encoder.Width)
	x := make([]float64, p.Encoder.Width)
	if p.Model.Kind == KindGBM {
		base, _ := p.Model.GBM.SHAP(x, contrib)
		return base
	}
	base, _ := p.Model.Logistic.Attributions(x, p.Model.Ref, contrib)
	return base
}
