package watch_test

import (
	"encoding/json"
	"fmt"

	"github.com/icpengine/icp"
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

// A Slack incoming webhook gets a message written from the alert: the
// fallback text for notifications and the Block Kit blocks.
func ExampleRender() {
	payload, _ := watch.Payload(icp.Alert{ID: "a1", GroupKey: "icp_drift:winners_outside", Severity: icp.SeverityWarning,
		Status: icp.AlertOpen, Title: "More wins are coming from outside the ICP",
		Summary: "111 of the last 200 won deals (56%) came from Tier 3 or non-fit accounts, against 48%.",
		Action:  "Review the ICP with sales."})
	body, err := watch.Render(watch.FormatSlack, payload, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	var msg struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string `json:"type"`
		} `json:"blocks"`
	}
	_ = json.Unmarshal(body, &msg)
	fmt.Println(msg.Text)
	for _, b := range msg.Blocks {
		fmt.Print(b.Type, " ")
	}
	fmt.Println()
	// Output:
	// Warning: More wins are coming from outside the ICP. 111 of the last 200 won deals (56%) came from Tier 3 or non-fit accounts, against 48%.
	// header section section section
}
