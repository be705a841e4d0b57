package auth_test

import (
	"fmt"
	"strings"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/auth"
)

func ExampleGenerate() {
	key, rec, err := auth.Generate("crm-sync", []icp.Scope{icp.ScopeScore, icp.ScopeOutcomes})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The key is shown once; the record holds only its prefix and digest.
	fmt.Println(len(key), strings.HasPrefix(key, auth.KeyMark+rec.Prefix+"_"))
	fmt.Println(auth.Match(key, rec.Hash), rec.Scopes)
	// Output:
	// 45 true
	// true [score outcomes]
}
