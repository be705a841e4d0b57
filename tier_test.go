package icp_test

import (
	"fmt"

	"github.com/icpengine/icp"
)

func ExampleTier_Title() {
	for _, t := range append(icp.Tiers(), "custom") {
		fmt.Println(t.Title())
	}
	// Output:
	// Tier 1
	// Tier 2
	// Tier 3
	// Non-fit
	// custom
}
