package drift

import (
	"fmt"
	"math"

	"github.com/icpengine/icp"
)

// ICPDriftInput is the evidence for ICP drift: recent winners that the
// model placed outside the ICP more often than it did on the holdout.
type ICPDriftInput struct {
	// ExpectedOutsideShare is the share of holdout winners that the model
	// placed in tier3 or non_fit; it must lie in (0, 1).
	ExpectedOutsideShare float64
	// Winners is the number of recent winners and WinnersOutside how many
	// of them the model placed in tier3 or non_fit.
	Winners        int
	WinnersOutside int
	// MinWinners is the least number of winners tested. Zero means 30.
	MinWinners int
	// Alpha is the false-alarm rate of the binomial test. Zero means 0.05.
	Alpha float64
	// WinnerScores are the fit scores of the recent winners and
	// RefWinnerScores the reference distribution of the training winners'
	// scores; when both are set, their comparison is reported too.
	WinnerScores    []float64
	RefWinnerScores *NumericRef
	// DistanceThreshold is the Wasserstein threshold of the winners' score
	// comparison (large references). Zero means 0.1.
	DistanceThreshold float64
}

// ICPDrift tests whether recent winners land outside the ICP (tier3 or
// non_fit) more often than the holdout winners did, by the exact one-sided
// binomial test (BinomialTestGreater). It returns an error wrapping
// icp.ErrInvalid when the counts or the expected share are impossible.
func ICPDrift(in ICPDriftInput) (icp.ICPDrift, error) {
	if in.Winners < 0 || in.WinnersOutside < 0 || in.WinnersOutside > in.Winners {
		return icp.ICPDrift{}, fmt.Errorf("icp drift: %d of %d winners outside: %w", in.WinnersOutside, in.Winners, icp.ErrInvalid)
	}
	if !(in.ExpectedOutsideShare > 0 && in.ExpectedOutsideShare < 1) {
		return icp.ICPDrift{}, fmt.Errorf("icp drift: expected outside share %v not in (0, 1): %w", in.ExpectedOutsideShare, icp.ErrInvalid)
	}
	if in.MinWinners <= 0 {
		in.MinWinners = 30
	}
	if in.Alpha <= 0 || in.Alpha >= 1 {
		in.Alpha = 0.05
	}
	res := icp.ICPDrift{
		Winners: in.Winners, WinnersOutside: in.WinnersOutside,
		ExpectedShare: in.ExpectedOutsideShare, Alpha: in.Alpha, PValue: 1,
	}
	if in.Winners > 0 {
		res.ObservedShare = float64(in.WinnersOutside) / float64(in.Winners)
	}
	if in.RefWinnerScores != nil && len(in.WinnerScores) > 0 {
		s := ScoreDrift(*in.RefWinnerScores, in.WinnerScores, Config{
			MinWindow: in.MinWinners, MinReference: in.MinWinners,
			Alpha: in.Alpha, DistanceThreshold: in.DistanceThreshold,
		})
		s.Feature, s.Kind = "winner_score", "winner_score"
		res.Scores = &s
	}
	if in.Winners < in.MinWinners {
		res.Status = StatusInsufficient
		res.Detail = fmt.Sprintf("%d recent winners, need %d", in.Winners, in.MinWinners)
		return res, nil
	}
	res.PValue = BinomialTestGreater(in.WinnersOutside, in.Winners, in.ExpectedOutsideShare)
	res.Status = status(res.PValue < in.Alpha, res.PValue < math.Min(1, 2*in.Alpha))
	res.Detail = fmt.Sprintf("%d of %d winners (%.1f%%) outside the ICP, %.1f%% expected; binomial p=%.2g (alpha %.2g)",
		in.WinnersOutside, in.Winners, 100*res.ObservedShare, 100*in.ExpectedOutsideShare, res.PValue, in.Alpha)
	return res, nil
}
