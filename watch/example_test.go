package watch_test

import (
	"fmt"

	"github.com/icpengine/icp/watch"
)

// A webhook receiver checks X-ICP-Signature by computing the same value
// over the raw body with the shared secret (and comparing in constant
// time, with hmac.Equal).
func ExampleSign() {
	body := []byte(`{"event":"alert","alert":{"id":"drift-1"}}`)
	fmt.Println(watch.Sign([]byte("s3cret"), body))
	// Output: sha256=a887c159f334966a1e3eb2ecffd7e93e45c3ac95dc304210f9a6b3be78cfcdbf
}
