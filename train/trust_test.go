package train

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/model"
	"github.com/icpengine/icp/model/gbm"
	"github.com/icpengine/icp/profile"
)

func TestRandomSplit(t *testing.T) {
	// A table sorted by its outcome: the last rows are all positive.
	n := 1000
	y := make([]float64, n)
	rows := make([]int, n)
	for i := range n {
		rows[i] = i
		if i >= 700 {
			y[i] = 1
		}
	}
	fit, hold := randomSplit(rows, y, 0.2, 1)
	if len(fit)+len(hold) != n {
		t.Fatalf("randomSplit gave %d + %d rows, want %d", len(fit), len(hold), n)
	}
	var pos int
	for _, i := range hold {
		pos += int(y[i])
	}
	if len(hold) != 200 || pos != 60 {
		t.Errorf("holdout of %d rows with %d positives, want 200 with 60 (a fifth of each outcome)", len(hold), pos)
	}
	seen := make(map[int]bool, n)
	for _, i := range append(append([]int(nil), fit...), hold...) {
		if seen[i] {
			t.Fatalf("row %d drawn twice", i)
		}
		seen[i] = true
	}
	fit2, hold2 := randomSplit(rows, y, 0.2, 1)
	if !slices.Equal(fit, fit2) || !slices.Equal(hold, hold2) {
		t.Errorf("randomSplit is not deterministic")
	}
	_, hold3 := randomSplit(rows, y, 0.2, 2)
	if slices.Equal(hold, hold3) {
		t.Errorf("seeds 1 and 2 drew the same holdout")
	}
	if sort.IntsAreSorted(hold) {
		t.Errorf("the holdout is in file order, want the seeded order")
	}
}

// A table without close dates whose rows are sorted by outcome gets a
// holdout of both outcomes, and says it was drawn at random.
func TestTrainSortedByOutcome(t *testing.T) {
	var b strings.Builder
	b.WriteString("customer_id,plan,seats,Churn\n")
	rng := rand.New(rand.NewPCG(3, 4))
	type row struct {
		plan  string
		seats int
		churn bool
	}
	var rs []row
	for range 1200 {
		plan := []string{"Starter", "Growth", "Pro"}[rng.IntN(3)]
		seats := 1 + rng.IntN(50)
		p := 0.15
		if plan == "Starter" {
			p = 0.5
		}
		rs = append(rs, row{plan, seats, rng.Float64() < p})
	}
	sort.SliceStable(rs, func(a, c int) bool { return !rs[a].churn && rs[c].churn })
	for i, r := range rs {
		fmt.Fprintf(&b, "C%04d,%s,%d,%v\n", i, r.plan, r.seats, map[bool]string{true: "Yes", false: "No"}[r.churn])
	}
	tab, err := datasets.Read(strings.NewReader(b.String()), "sorted.csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	s := features.Infer(tab, features.InferConfig{})
	var sp Split
	p, err := Train(s.Clean(tab), s, Config{Seed: 1, Split: &sp})
	if err != nil {
		t.Fatalf("Train: %v", err)
	}
	if sp.ByDate || !strings.HasPrefix(p.Validation.Split, "seeded random") || p.Validation.From != "" {
		t.Errorf("split %q (by date %v, from %q), want a seeded random split", p.Validation.Split, sp.ByDate, p.Validation.From)
	}
	h := p.Validation.Holdout
	if h.Positives == 0 || h.Positives == h.Rows {
		t.Errorf("holdout of %d rows has %d positives, want both outcomes", h.Rows, h.Positives)
	}
	if len(sp.Hold) != h.Rows || len(sp.HoldProbs) != h.Rows || len(sp.Fit)+len(sp.Hold) != p.Data.Labeled {
		t.Errorf("split has %d + %d rows and %d probabilities, want %d holdout of %d labeled", len(sp.Fit), len(sp.Hold), len(sp.HoldProbs), h.Rows, p.Data.Labeled)
	}
}

// The served model's calibration belongs to it: on the training deals its
// mean score is close to the base rate, its scores vary, and it is not
// the validation model's calibration.
func TestServedCalibration(t *testing.T) {
	p, tab := trained(t, 5000, 42, TargetWon)
	x, err := p.Encoder.Transform(tab, nil)
	if err != nil {
		t.Fatal(err)
	}
	scores := p.Model.Probs(x)
	var sum float64
	for _, s := range scores {
		sum += s
	}
	base := float64(p.Label.Positives) / float64(p.Label.Positives+p.Label.Negatives)
	if mean := sum / float64(len(scores)); math.Abs(mean-base) > 0.02 {
		t.Errorf("mean served score %.4f on the training deals, base rate %.4f", mean, base)
	}
	lo, hi := slices.Min(scores), slices.Max(scores)
	if hi-lo < 0.3 {
		t.Errorf("served scores range from %.3f to %.3f only", lo, hi)
	}
	// The calibrated holdout log loss beats the uncalibrated one, or ties.
	v := p.Validation
	if v.Calibrated.LogLoss > v.Holdout.LogLoss+0.005 {
		t.Errorf("calibrated holdout log loss %.4f, uncalibrated %.4f", v.Calibrated.LogLoss, v.Holdout.LogLoss)
	}
}

func TestCheckCalibration(t *testing.T) {
	// A logistic model with one coefficient: margins equal x.
	n := 200
	x := make([]float64, n)
	y := make([]float64, n)
	for i := range n {
		x[i] = float64(i)/float64(n)*4 - 2
		if i%3 == 0 {
			y[i] = 1
		}
	}
	m := profile.NewLogisticModel(&model.Logistic{Coef: []float64{1}}, []float64{0})
	xm := matFrom(x)
	tests := []struct {
		name string
		give profile.Calibration
		want string
	}{
		{"flat", profile.Calibration{Method: profile.CalibrationIsotonic, Isotonic: &model.Isotonic{X: []float64{0}, Y: []float64{1.0 / 3}}}, "gives every training deal the score"},
		{"biased", profile.Calibration{Method: profile.CalibrationPlatt, Platt: &model.Platt{A: 1, B: 2}}, "mean platt-calibrated score"},
		{"good", profile.Calibration{Method: profile.CalibrationPlatt, Platt: &model.Platt{A: 0.1, B: math.Log(0.5)}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mm := m
			mm.Calibration = tt.give
			err := checkCalibration(&mm, xm, y)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("checkCalibration = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, icp.ErrInvalid)):
				t.Errorf("checkCalibration = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestScoreQuantilesUnderTies(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range 200 {
		// Few distinct scores, each repeated, as an isotonic calibration
		// gives: interpolation across ties must not dip.
		levels := make([]float64, 1+rng.IntN(6))
		for k := range levels {
			levels[k] = rng.Float64()
		}
		s := make([]float64, 50+rng.IntN(500))
		for i := range s {
			s[i] = levels[rng.IntN(len(levels))]
		}
		sort.Float64s(s)
		q := scoreQuantiles(s)
		if len(q) != 101 || !sort.Float64sAreSorted(q) || q[0] != s[0] || q[100] != s[len(s)-1] {
			t.Fatalf("trial %d: scoreQuantiles = %v, want 101 sorted values from %v to %v", trial, q, s[0], s[len(s)-1])
		}
	}
}

func TestCheckFinite(t *testing.T) {
	p := &profile.Profile{Version: "v"}
	if err := checkFinite(p); err != nil {
		t.Fatalf("checkFinite(empty profile) = %v", err)
	}
	p.SegmentSearch.Ks = []profile.KScore{{K: 2, Silhouette: 0.3}, {K: 3, Silhouette: math.NaN()}}
	err := checkFinite(p)
	if err == nil || !strings.Contains(err.Error(), "profile.segment_search.ks[1].silhouette = NaN") {
		t.Errorf("checkFinite = %v, want the NaN silhouette named", err)
	}
	p.SegmentSearch.Ks = nil
	p.Importance.Columns = []profile.ColumnImportance{{Column: "ltv", MeanAbs: math.Inf(1)}}
	err = checkFinite(p)
	if err == nil || !strings.Contains(err.Error(), `importance.columns[0 "ltv"].mean_abs = +Inf`) {
		t.Errorf("checkFinite = %v, want the column named", err)
	}
}

// An empty group of rows sums up nothing: a tier without holdout deals
// must not count the whole table.
func TestEvidenceOfNoRows(t *testing.T) {
	p, tab := trained(t, 5000, 42, TargetWon)
	s := p.Schema
	lab, err := makeLabels(tab, s, LabelConfig{Target: TargetWon})
	if err != nil {
		t.Fatal(err)
	}
	od := newOutcomeData(tab, s, lab)
	if e := od.evidence(nil); e.Accounts != 0 || e.Closed != 0 || e.ShareOfWins != 0 {
		t.Errorf("evidence(nil) = %+v, want empty", e)
	}
	for _, g := range p.Backtest.Tiers {
		if g.Evidence.Closed > p.Backtest.Rows || g.Evidence.ShareOfWins > 1 {
			t.Errorf("tier %s: %d deals, %.3f of wins; the holdout has %d deals", g.Name, g.Evidence.Closed, g.Evidence.ShareOfWins, p.Backtest.Rows)
		}
	}
}

func TestTreeValue(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	n, f := 600, 4
	x := make([]float64, n*f)
	y := make([]float64, n)
	for i := range n {
		for j := range f {
			v := rng.NormFloat64()
			if rng.Float64() < 0.1 {
				v = math.NaN()
			}
			x[i*f+j] = v
		}
		if x[i*f] > 0 || math.IsNaN(x[i*f+1]) {
			y[i] = 1
		}
	}
	xm := matRows(x, n, f)
	g, _, err := gbm.Fit(xm, y, nil, nil, &gbm.Config{Rounds: 20, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		row := xm.RawRowView(i)
		m := g.Base
		for k := range g.Trees {
			m += treeValue(&g.Trees[k], row)
		}
		if got, want := m, g.Margin(row); math.Abs(got-want) > 1e-12 {
			t.Fatalf("row %d: trees sum to %v, Margin = %v", i, got, want)
		}
	}
}

// Training with the won label does not crash when every positive account
// is the same (k-means then finds fewer than two clusters, whose
// silhouette is undefined), and the artifact it returns decodes and
// scores.
func TestTrainIdenticalPositives(t *testing.T) {
	var b strings.Builder
	b.WriteString("account,industry,employees,outcome\n")
	rng := rand.New(rand.NewPCG(9, 10))
	for i := range 2000 {
		if i%8 == 0 {
			fmt.Fprintf(&b, "A%d,SaaS,50,won\n", i)
			continue
		}
		fmt.Fprintf(&b, "A%d,%s,%d,lost\n", i, []string{"SaaS", "Retail", "Health"}[rng.IntN(3)], 5+rng.IntN(500))
	}
	tab, err := datasets.Read(strings.NewReader(b.String()), "same.csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	s := features.Infer(tab, features.InferConfig{})
	p, err := Train(s.Clean(tab), s, Config{Seed: 1, Label: LabelConfig{Target: TargetWon}})
	if err != nil {
		t.Fatalf("Train: %v", err)
	}
	for _, k := range p.SegmentSearch.Ks {
		if math.IsNaN(k.Silhouette) {
			t.Errorf("k = %d: NaN silhouette", k.K)
		}
	}
}

func matFrom(col []float64) *mat.Dense {
	return mat.NewDense(len(col), 1, append([]float64(nil), col...))
}

func matRows(x []float64, n, f int) *mat.Dense { return mat.NewDense(n, f, x) }
