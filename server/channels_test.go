package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/icpengine/icp/server/dashboard"
)

// TestDashboardChannels checks that the dashboard shows the recent
// outcomes by channel that OpsConfig.Channels gives, says so when they
// cannot be read, and leaves the section out without a summary.
func TestDashboardChannels(t *testing.T) {
	summary := &dashboard.ChannelSummary{Column: "Lead Source", Outcomes: 30, Won: 9,
		Rows: []dashboard.ChannelRow{{Channel: "Partner Referral", Deals: 10, Won: 6, WinRate: 0.6, ShareOfWinners: 0.667, WinnersICP: 0.5}}}
	tests := []struct {
		name     string
		channels func(context.Context) (*dashboard.ChannelSummary, error)
		want     []string
		section  bool
	}{
		{"a summary", func(context.Context) (*dashboard.ChannelSummary, error) { return summary, nil }, []string{"<td>Partner Referral</td>", "by <b>Lead Source</b>"}, true},
		{"an error", func(context.Context) (*dashboard.ChannelSummary, error) { return nil, errors.New("db down") }, []string{"could not be read"}, true},
		{"no channel column", func(context.Context) (*dashboard.ChannelSummary, error) { return nil, nil }, nil, false},
		{"not configured", nil, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestServer(t, Config{Ops: OpsConfig{Channels: tt.channels}})
			rec := serve(s.Handler(), request{method: http.MethodGet, path: dashboardPath})
			page := rec.Body.String()
			if rec.Code != http.StatusOK {
				t.Fatalf("GET /dashboard = %d", rec.Code)
			}
			if got := strings.Contains(page, `<section id="channels">`); got != tt.section {
				t.Errorf("channel section shown: %v, want %v", got, tt.section)
			}
			for _, w := range tt.want {
				if !strings.Contains(page, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			if strings.Contains(page, "db down") {
				t.Error("the page shows the internal error")
			}
		})
	}
}
