package drift

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/icpengine/icp"
)

func TestICPDrift(t *testing.T) {
	tests := []struct {
		name    string
		give    ICPDriftInput
		want    string
		wantErr bool
	}{
		{"too few winners", ICPDriftInput{ExpectedOutsideShare: 0.2, Winners: 29, WinnersOutside: 20}, StatusInsufficient, false},
		{"as expected", ICPDriftInput{ExpectedOutsideShare: 0.2, Winners: 50, WinnersOutside: 10}, StatusStable, false},
		{"clearly above", ICPDriftInput{ExpectedOutsideShare: 0.2, Winners: 50, WinnersOutside: 22}, StatusDrift, false},
		{"custom minimum", ICPDriftInput{ExpectedOutsideShare: 0.2, Winners: 40, WinnersOutside: 30, MinWinners: 50}, StatusInsufficient, false},
		{"more outside than winners", ICPDriftInput{ExpectedOutsideShare: 0.2, Winners: 5, WinnersOutside: 6}, "", true},
		{"share out of range", ICPDriftInput{ExpectedOutsideShare: 1.2, Winners: 50, WinnersOutside: 6}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ICPDrift(tt.give)
			if tt.wantErr {
				if !errors.Is(err, icp.ErrInvalid) {
					t.Errorf("ICPDrift(%+v) error = %v, want ErrInvalid", tt.give, err)
				}
				return
			}
			if err != nil || got.Status != tt.want {
				t.Errorf("ICPDrift(%+v) = %s, %v, want %s (%s)", tt.give, got.Status, err, tt.want, got.Detail)
			}
		})
	}
	got, _ := ICPDrift(ICPDriftInput{ExpectedOutsideShare: 0.2, Winners: 50, WinnersOutside: 22})
	if want := BinomialTestGreater(22, 50, 0.2); got.PValue != want || !approx(got.ObservedShare, 0.44, 1e-12) {
		t.Errorf("ICPDrift p, share = %v, %v, want %v, 0.44", got.PValue, got.ObservedShare, want)
	}
}

func TestICPDriftSimulation(t *testing.T) {
	// Winners drawn with the holdout's outside share (20%) should fire in at
	// most Alpha of the windows; with 45% outside and 40 winners, the test
	// should fire almost always.
	rng := rand.New(rand.NewPCG(21, 22))
	rate := func(share float64, winners, windows int) float64 {
		fired := 0
		for range windows {
			outside := 0
			for range winners {
				if rng.Float64() < share {
					outside++
				}
			}
			res, err := ICPDrift(ICPDriftInput{ExpectedOutsideShare: 0.2, Winners: winners, WinnersOutside: outside})
			if err != nil {
				t.Fatalf("ICPDrift error %v", err)
			}
			if res.Status == StatusDrift {
				fired++
			}
		}
		return float64(fired) / float64(windows)
	}
	null := rate(0.2, 40, 2000)
	power := rate(0.45, 40, 2000)
	power60 := rate(0.4, 60, 2000)
	t.Logf("ICP drift: false alarms %.3f (20%% outside, 40 winners), power %.3f (45%%, 40 winners), %.3f (40%%, 60 winners)", null, power, power60)
	if null > 0.05 {
		t.Errorf("ICP drift false-alarm rate = %.3f, want <= 0.05", null)
	}
	if power < 0.9 || power60 < 0.9 {
		t.Errorf("ICP drift power = %.3f, %.3f, want >= 0.9", power, power60)
	}
}

func TestICPDriftWinnerScores(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	ref := NewNumericRef("winner_score", normals(rng, 5000, 0.7))
	got, err := ICPDrift(ICPDriftInput{
		ExpectedOutsideShare: 0.2, Winners: 60, WinnersOutside: 12,
		WinnerScores: normals(rng, 60, 0), RefWinnerScores: &ref,
	})
	if err != nil || got.Scores == nil {
		t.Fatalf("ICPDrift(with scores) = %+v, %v, want a score comparison", got, err)
	}
	if got.Scores.Status != StatusDrift || got.Scores.Kind != "winner_score" {
		t.Errorf("ICPDrift(scores shifted by 0.7 SD).Scores = %s %s, want winner_score drift (%s)", got.Scores.Kind, got.Scores.Status, got.Scores.Detail)
	}
	few, _ := ICPDrift(ICPDriftInput{ExpectedOutsideShare: 0.2, Winners: 10, WinnersOutside: 2,
		WinnerScores: normals(rng, 10, 0), RefWinnerScores: &ref})
	if few.Scores == nil || few.Scores.Status != StatusInsufficient {
		t.Errorf("ICPDrift(10 winners).Scores = %+v, want insufficient_data", few.Scores)
	}
}
