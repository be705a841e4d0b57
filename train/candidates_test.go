package train

import (
	"bytes"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/model"
	"github.com/icpengine/icp/profile"
)

func TestCandidates(t *testing.T) {
	p, _ := trained(t, 5000, 42, TargetWon)
	cands := p.Validation.Candidates
	if len(cands) != 2 || cands[0].Kind != profile.KindLogistic || cands[1].Kind != profile.KindGBM {
		t.Fatalf("candidates = %+v, want logistic then gbm", cands)
	}
	selected := 0
	for _, c := range cands {
		if c.Selected {
			selected++
			// The served model is the selected kind refitted on every
			// closed deal, with its own calibration, whose method may
			// differ from the validation model's.
			if c.Kind != p.Model.Kind || p.Model.Calibration.Method == "" {
				t.Errorf("selected %s, model is %s calibrated by %q", c.Kind, p.Model.Kind, p.Model.Calibration.Method)
			}
			for _, o := range cands {
				if o.Calibrated.LogLoss < c.Calibrated.LogLoss {
					t.Errorf("selected %s (calibrated log loss %.4f) over %s (%.4f)", c.Kind, c.Calibrated.LogLoss, o.Kind, o.Calibrated.LogLoss)
				}
			}
		}
	}
	if selected != 1 {
		t.Errorf("%d candidates selected, want 1", selected)
	}
	if cands[1].Rounds < 10 {
		t.Errorf("boosted trees kept %d rounds, want early stopping to keep at least 10", cands[1].Rounds)
	}
	if len(p.Validation.Reliability) < 5 {
		t.Errorf("reliability table has %d bins", len(p.Validation.Reliability))
	}
	// The generated ICP has interactions a linear model cannot fit.
	if cands[1].Holdout.ROCAUC <= cands[0].Holdout.ROCAUC {
		t.Errorf("gbm ROC AUC %.4f not above logistic %.4f on interacting segments", cands[1].Holdout.ROCAUC, cands[0].Holdout.ROCAUC)
	}
}

// Attributions of the boosted trees add up to the margin on every row.
func TestGBMAttributionsAdditive(t *testing.T) {
	tab := generated(t, 10000, 5)
	p, err := Train(tab, features.Infer(tab, features.InferConfig{}), Config{Seed: 1, Models: ModelConfig{Kinds: []string{profile.KindGBM}}})
	if err != nil {
		t.Fatal(err)
	}
	x, err := p.Encoder.Transform(tab, nil)
	if err != nil {
		t.Fatal(err)
	}
	contrib := make([]float64, p.Encoder.Width)
	for i := 0; i < tab.Rows(); i++ {
		row := x.RawRowView(i)
		margin, base := p.Model.Explain(row, contrib)
		sum := base
		for _, c := range contrib {
			sum += c
		}
		if math.Abs(sum-margin) > 1e-9 {
			t.Fatalf("row %d: base + contributions = %v, margin %v", i, sum, margin)
		}
	}
}

func TestCalibrate(t *testing.T) {
	// Margins three times too confident: calibration must pull them in.
	gen := func(n int) (m, y []float64) {
		rng := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < n; i++ {
			z := 4 * (rng.Float64() - 0.5)
			m = append(m, 3*z)
			y = append(y, b2f(rng.Float64() < model.Sigmoid(z)))
		}
		return m, y
	}
	tests := []struct {
		n          int
		wantMethod map[string]bool
	}{
		{400, map[string]bool{profile.CalibrationPlatt: true}},
		{4000, map[string]bool{profile.CalibrationPlatt: true, profile.CalibrationIsotonic: true}},
	}
	for _, tt := range tests {
		m, y := gen(tt.n)
		c, p, err := calibrate(m, y)
		if err != nil {
			t.Fatal(err)
		}
		if !tt.wantMethod[c.Method] {
			t.Errorf("calibrate(%d rows) chose %q, want one of %v", tt.n, c.Method, tt.wantMethod)
		}
		raw := model.LogLoss(y, sigmoids(m), nil)
		if got := model.LogLoss(y, p, nil); got >= raw {
			t.Errorf("calibrate(%d rows): cross-fitted log loss %.4f, uncalibrated %.4f", tt.n, got, raw)
		}
	}
	if _, _, err := calibrate([]float64{1, 2}, []float64{1, 1}); err == nil {
		t.Errorf("calibrate with one class succeeded")
	}
}

// Two trainings at once on the same data give the same artifact; run with
// -race this also checks the trainer shares no state between calls.
func TestTrainConcurrent(t *testing.T) {
	tab := generated(t, 3000, 11)
	s := features.Infer(tab, features.InferConfig{})
	var wg sync.WaitGroup
	var out [2]bytes.Buffer
	var errs [2]error
	for k := range out {
		wg.Go(func() {
			p, err := Train(tab, s, Config{Seed: 4})
			if err == nil {
				err = p.Encode(&out[k])
			}
			errs[k] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(out[0].Bytes(), out[1].Bytes()) {
		t.Errorf("concurrent trainings gave different artifacts")
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
