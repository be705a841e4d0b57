package synth

import (
	"bytes"
	"encoding/csv"
	"math"
	"sort"
	"testing"
)

// TestChannelsValue checks that the channels dialect's contract values
// follow its truth: written for won deals only, larger for the enterprise
// segment than for the self-serve one, and ordered by channel as the
// channel factors say (partner referrals above paid search).
func TestChannelsValue(t *testing.T) {
	e, tabs := readSheets(t, DialectChannels, 6000)
	tab := tabs[0]
	stage, value, src := tab.Column("Deal Stage"), tab.Column("Contract Value"), tab.Column("Lead Source")
	bySeg, bySrc := map[string][]float64{}, map[string][]float64{}
	for i, tr := range e.Truth {
		won := stage.Str[i] == "Closed Won"
		if filled := !math.IsNaN(value.Num[i]); filled != won {
			t.Fatalf("row %d: stage %q, contract value %v: want a value exactly for won deals", i, stage.Str[i], value.Num[i])
		}
		if tr.Channel == "" || tr.Value <= 0 {
			t.Fatalf("row %d: truth channel %q, value %v", i, tr.Channel, tr.Value)
		}
		if src.Str[i] != "" && src.Str[i] != tr.Channel {
			t.Fatalf("row %d: Lead Source %q, true channel %q", i, src.Str[i], tr.Channel)
		}
		if won {
			bySeg[tr.Segment] = append(bySeg[tr.Segment], value.Num[i])
			bySrc[tr.Channel] = append(bySrc[tr.Channel], value.Num[i])
		}
	}
	median := func(v []float64) float64 {
		s := append([]float64(nil), v...)
		sort.Float64s(s)
		return s[len(s)/2]
	}
	tests := []struct {
		name         string
		big, small   []float64
		wantAtLeastX float64
		bigN, smallN string
	}{
		{"segments", bySeg[SegCHEnterprise], bySeg[SegCHSelfServe], 10, SegCHEnterprise, SegCHSelfServe},
		{"channels", bySrc["Partner Referral"], bySrc["Paid Search"], 1.5, "Partner Referral", "Paid Search"},
	}
	for _, tt := range tests {
		if len(tt.big) < 30 || len(tt.small) < 30 {
			t.Fatalf("%s: %d and %d won deals, want 30 of each", tt.name, len(tt.big), len(tt.small))
		}
		if got := median(tt.big) / median(tt.small); got < tt.wantAtLeastX {
			t.Errorf("%s: median value of %s over %s = %.2f, want at least %g", tt.name, tt.bigN, tt.smallN, got, tt.wantAtLeastX)
		}
	}
}

func TestWriteExportTruthCSVValue(t *testing.T) {
	var buf bytes.Buffer
	err := WriteExportTruthCSV(&buf, []AccountTruth{
		{AccountID: "A", Segment: SegCHEnterprise, WinProb: 0.35, Channel: "Partner Referral", Value: 224000.123},
		{AccountID: "B", Segment: NoSegment, AntiICP: true, WinProb: 0.04, Channel: "Paid Search", Value: 4200},
	})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"account_id", "true_segment", "true_anti_icp", "true_win_prob", "true_channel", "true_value"},
		{"A", SegCHEnterprise, "false", "0.35", "Partner Referral", "224000.12"},
		{"B", NoSegment, "true", "0.04", "Paid Search", "4200"}}
	if len(rows) != len(want) || len(rows[0]) != len(want[0]) {
		t.Fatalf("WriteExportTruthCSV wrote %v, want %v", rows, want)
	}
	for i := range want {
		for j := range want[i] {
			if rows[i][j] != want[i][j] {
				t.Errorf("row %d column %d = %q, want %q", i, j, rows[i][j], want[i][j])
			}
		}
	}
}
