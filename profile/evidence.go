package profile

// Evidence sums up the outcomes of a group of accounts: how many there
// are, how often they win and become positives, and what the won ones are
// worth, how often they churn and how long they take to close. Lifts and
// ratios compare with the baseline of all closed accounts; they are zero
// when the baseline or the group lacks the figure.
type Evidence struct {
	// Accounts counts the accounts in the group, Closed those with an
	// outcome, Won the won deals and Positives those of the label.
	Accounts  int `json:"accounts"`
	Closed    int `json:"closed"`
	Won       int `json:"won"`
	Positives int `json:"positives"`
	// WinRate is Won over Closed, and PositiveRate Positives over Closed;
	// each interval is the rate's 95% Wilson interval (absent with no
	// closed account).
	WinRate              float64  `json:"win_rate"`
	PositiveRate         float64  `json:"positive_rate"`
	WinRateInterval      Interval `json:"win_rate_interval,omitzero"`
	PositiveRateInterval Interval `json:"positive_rate_interval,omitzero"`
	// MedianLTV is the median LTV of won accounts, ChurnRate the churned
	// share of won accounts and MedianCycleDays the median sales cycle of
	// won deals; NaN-free: zero when unknown (see the Has fields).
	MedianLTV float64 `json:"median_ltv"`
	ChurnRate float64 `json:"churn_rate"`
	// ChurnRateInterval is the churn rate's 95% Wilson interval, over the
	// won accounts whose churn is known.
	ChurnRateInterval Interval `json:"churn_rate_interval,omitzero"`
	MedianCycleDays   float64  `json:"median_cycle_days"`
	HasLTV            bool     `json:"has_ltv"`
	HasChurn          bool     `json:"has_churn"`
	HasCycle          bool     `json:"has_cycle"`
	// ShareOfWins is the group's share of all won deals, and
	// ShareOfPositives its share of all positives.
	ShareOfWins      float64 `json:"share_of_wins"`
	ShareOfPositives float64 `json:"share_of_positives"`
	// WinLift, Lift, LTVLift and ChurnLift divide the group's win rate,
	// positive rate, median LTV and churn rate by the baseline's;
	// CycleRatio does the same for the median sales cycle.
	WinLift    float64 `json:"win_lift"`
	Lift       float64 `json:"lift"`
	LTVLift    float64 `json:"ltv_lift"`
	ChurnLift  float64 `json:"churn_lift"`
	CycleRatio float64 `json:"cycle_ratio"`
}
