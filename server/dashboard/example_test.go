package dashboard_test

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/server/dashboard"
)

func ExampleRenderer_Page() {
	r, err := dashboard.New()
	if err != nil {
		panic(err)
	}
	at := time.Date(2026, 12, 7, 11, 49, 0, 0, time.UTC)
	var buf bytes.Buffer
	err = r.Page(&buf, dashboard.Page{Now: at, Nonce: dashboard.NewNonce(), Alerts: []icp.Alert{{
		ID: "8ef355cc", Severity: icp.SeverityWarning, Status: icp.AlertOpen,
		Title:     "More wins are coming from outside the ICP",
		Summary:   "87 of the last 200 won deals (44%, 95% interval 37–50%) came from Tier 3 or non-fit accounts, against 35%.",
		Action:    "Review the ICP with sales, then retrain on recent outcomes.",
		FirstSeen: at, LastSeen: at, Count: 1,
	}}})
	if err != nil {
		panic(err)
	}
	for line := range strings.Lines(buf.String()) {
		if strings.HasPrefix(line, "<h3>") || strings.Contains(line, "What to do") {
			fmt.Print(line)
		}
	}
	// Output:
	// <h3>More wins are coming from outside the ICP</h3>
	// <p class="action"><b>What to do:</b> Review the ICP with sales, then retrain on recent outcomes.</p>
}

func ExampleContentSecurityPolicy() {
	fmt.Println(dashboard.ContentSecurityPolicy("r4nd0m"))
	// Output:
	// default-src 'none'; style-src 'nonce-r4nd0m'; script-src 'nonce-r4nd0m'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'
}
