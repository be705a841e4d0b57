package model_test

import (
	"fmt"

	"github.com/icpengine/icp/model"
)

// The share of won deals outside the ICP, with its 95% interval: 111 of
// 200.
func ExampleWilson() {
	lo, hi := model.Wilson(111, 200)
	fmt.Printf("%.1f%% to %.1f%%\n", 100*lo, 100*hi)
	// Output: 48.6% to 62.2%
}
