package sqlexport

import (
	"strings"
	"testing"

	"github.com/icpengine/icp/profile"
)

// TestTiersByValueRefused checks that a model whose tiers are on the
// expected value, which the query does not compute, is refused rather
// than exported with the score's tiers.
func TestTiersByValueRefused(t *testing.T) {
	p := &profile.Profile{Tiers: profile.Tiers{By: profile.TierByValue}}
	_, err := Query(p, Options{Dialect: "postgres", Table: "accounts"})
	if err == nil || !strings.Contains(err.Error(), "expected value") {
		t.Errorf("Query = %v, want an error about tiers on the expected value", err)
	}
}
