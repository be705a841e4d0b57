package drift

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/icpengine/icp"
)

// The alert kinds raised by this package.
const (
	KindFeatureDrift = "feature_drift"
	KindScoreDrift   = "score_drift"
	KindTierMixDrift = "tier_mix_drift"
	KindICPDrift     = "icp_drift"
)

// Alerts returns the alert candidates of the drift result r, in a fixed order
// (features by name, then score, tier mix, winners outside the ICP and
// winners' scores). Deduplication and persistence are the store's job.
func Alerts(r *icp.DriftResult) []icp.Alert {
	var out []icp.Alert
	for _, f := range r.Features {
		if a, ok := FeatureAlert(f, r.Time); ok {
			out = append(out, a)
		}
	}
	for _, f := range []*icp.FeatureDrift{r.Score, r.TierMix} {
		if f == nil {
			continue
		}
		if a, ok := FeatureAlert(*f, r.Time); ok {
			out = append(out, a)
		}
	}
	if r.ICP != nil {
		out = append(out, ICPAlerts(*r.ICP, r.Time)...)
	}
	return out
}

// FeatureAlert turns a drifted result into an open alert candidate, and
// reports false for any other status. The group key is
// "feature_drift:<feature>" for numeric and categorical features,
// "score_drift:<feature>", "tier_mix_drift:tier_mix" and
// "icp_drift:winner_scores" for the others. The severity is critical when
// a distance is at least twice its threshold, when PSI is above PSIAlert, or
// when a p-value is a thousand times below its corrected alpha; warning
// otherwise.
func FeatureAlert(res icp.FeatureDrift, now time.Time) (icp.Alert, bool) {
	if res.Status != StatusDrift {
		return icp.Alert{}, false
	}
	kind, key := KindFeatureDrift, KindFeatureDrift+":"+res.Feature
	switch res.Kind {
	case "score":
		kind, key = KindScoreDrift, KindScoreDrift+":"+res.Feature
	case "tier_mix":
		kind, key = KindTierMixDrift, KindTierMixDrift+":"+res.Feature
	case "winner_score":
		kind, key = KindICPDrift, KindICPDrift+":winner_scores"
	}
	sev := icp.SeverityWarning
	distance := res.Test == WassersteinTest || res.Test == CohensWTest
	switch {
	case res.PSI > PSIAlert,
		distance && res.Statistic >= 2*res.Threshold,
		!distance && res.PValue < res.Threshold/1000:
		sev = icp.SeverityCritical
	}
	what := res.Feature
	switch res.Kind {
	case "score":
		what = "The fit score distribution"
	case "tier_mix":
		what = "The tier mix"
	case "winner_score":
		what = "The fit scores of recent winners"
	}
	var test string
	switch res.Test {
	case WassersteinTest:
		test = fmt.Sprintf("Wasserstein %.2f of a reference standard deviation (threshold %.2g)", res.Statistic, res.Threshold)
	case CohensWTest:
		test = fmt.Sprintf("level shares moved by %.2f standard deviations (Cohen's w, threshold %.2g; Jensen-Shannon distance %.2f)", res.Statistic, res.Threshold, res.JSDistance)
	case KSTest:
		test = fmt.Sprintf("KS distance %.2f, p = %.2g (threshold %.2g%s)", res.Statistic, res.PValue, res.Threshold, corrected(res.Tests))
	default:
		test = fmt.Sprintf("chi-square %.3g on %d df, p = %.2g (threshold %.2g%s)", res.Statistic, res.DF, res.PValue, res.Threshold, corrected(res.Tests))
	}
	unit := "scored accounts"
	if res.Kind == "winner_score" {
		unit = "winners"
	}
	summary := fmt.Sprintf("%s drifted: %s over the last %s %s; PSI %.2f (%s)",
		what, test, thousands(res.Window), unit, res.PSI, res.PSIBand)
	ev := map[string]any{
		"feature": res.Feature, "kind": res.Kind, "test": res.Test,
		"statistic": res.Statistic, "p_value": res.PValue, "threshold": res.Threshold,
		"corrected_alpha": res.CorrectedAlpha, "tests": res.Tests,
		"psi": res.PSI, "psi_band": res.PSIBand,
		"window": res.Window, "n": res.N, "ref_n": res.RefN,
		"missing_rate": res.MissingRate, "ref_missing_rate": res.RefMissingRate,
	}
	if res.DF > 0 {
		ev["df"] = res.DF
	}
	if res.JSDistance > 0 {
		ev["js_distance"] = res.JSDistance
	}
	if res.NoiseFloor > 0 {
		ev["noise_floor"] = res.NoiseFloor
	}
	return newAlert(key, kind, sev, summary, ev, now), true
}

// ICPAlerts returns the alert candidates of an ICP drift result: one keyed
// "icp_drift:winners_outside" when the binomial test drifted (critical when
// p is below Alpha/100), and one keyed "icp_drift:winner_scores" when the
// winners' score distribution drifted.
func ICPAlerts(res icp.ICPDrift, now time.Time) []icp.Alert {
	var out []icp.Alert
	if res.Status == StatusDrift {
		sev := icp.SeverityWarning
		if res.PValue < res.Alpha/100 {
			sev = icp.SeverityCritical
		}
		summary := fmt.Sprintf("Winners are landing outside the ICP: %s of the last %s winners (%.0f%%) were scored tier3 or non_fit, against %.0f%% expected from the holdout (binomial p = %.2g)",
			thousands(res.WinnersOutside), thousands(res.Winners), 100*res.ObservedShare, 100*res.ExpectedShare, res.PValue)
		ev := map[string]any{
			"winners": res.Winners, "winners_outside": res.WinnersOutside,
			"observed_share": res.ObservedShare, "expected_share": res.ExpectedShare,
			"p_value": res.PValue, "alpha": res.Alpha,
		}
		out = append(out, newAlert(KindICPDrift+":winners_outside", KindICPDrift, sev, summary, ev, now))
	}
	if res.Scores != nil {
		if a, ok := FeatureAlert(*res.Scores, now); ok {
			out = append(out, a)
		}
	}
	return out
}

func newAlert(key, kind string, sev icp.Severity, summary string, ev map[string]any, now time.Time) icp.Alert {
	sum := sha256.Sum256([]byte(key))
	return icp.Alert{
		ID:        "drift-" + hex.EncodeToString(sum[:8]),
		GroupKey:  key,
		Kind:      kind,
		Severity:  sev,
		Status:    icp.AlertOpen,
		Summary:   summary,
		Evidence:  ev,
		FirstSeen: now,
		LastSeen:  now,
		Count:     1,
		UpdatedAt: now,
	}
}

func corrected(tests int) string {
	if tests <= 1 {
		return ""
	}
	return fmt.Sprintf(" after Bonferroni over %d features", tests)
}

// thousands formats n with comma separators: 1234567 -> "1,234,567".
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var b []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	if neg {
		return "-" + string(b)
	}
	return string(b)
}
