package dashboard

import "time"

// ChannelSummary is the recent outcomes by the channel the accounts came
// from: for each channel the outcomes and won deals, the win rate with its
// 95% interval, the share of the recent winners, how many of its winners
// are ICP accounts and how many match the anti-ICP, and the value won.
type ChannelSummary struct {
	// Column is the model's channel column.
	Column string `json:"column"`
	// Since is the first close date counted.
	Since time.Time `json:"since"`
	// Outcomes and Won count the outcomes scored and won.
	Outcomes int `json:"outcomes"`
	Won      int `json:"won"`
	// ICPDefinition says what counts as an ICP account.
	ICPDefinition string `json:"icp_definition"`
	// HasValue is set when recent winners carry a value.
	HasValue bool         `json:"has_value"`
	Rows     []ChannelRow `json:"rows"`
	// ICP and Anti say which channels bring ICP and anti-ICP accounts, in
	// sentences; empty when none does clearly.
	ICP  []string `json:"icp"`
	Anti []string `json:"anti"`
}

// ChannelRow is one channel of a ChannelSummary.
type ChannelRow struct {
	Channel string `json:"channel"`
	Deals   int    `json:"deals"`
	Won     int    `json:"won"`
	// WinRate is Won / Deals, WinLow and WinHigh its 95% Wilson interval.
	WinRate float64 `json:"win_rate"`
	WinLow  float64 `json:"win_low"`
	WinHigh float64 `json:"win_high"`
	// ShareOfWinners is the share of all recent winners that came from the
	// channel.
	ShareOfWinners float64 `json:"share_of_winners"`
	// WinnersICP and WinnersAnti are the shares of the channel's winners
	// that are ICP accounts and that match an anti-ICP rule.
	WinnersICP  float64 `json:"winners_icp"`
	WinnersAnti float64 `json:"winners_anti"`
	// Value is the value the channel's winners brought.
	Value float64 `json:"value"`
}
