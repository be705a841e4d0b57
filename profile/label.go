package profile

// The label targets.
const (
	// TargetIdeal labels won accounts that did not churn and whose LTV
	// reaches a quantile of won accounts' LTV.
	TargetIdeal = "ideal"
	// TargetWon labels won accounts.
	TargetWon = "won"
	// TargetRetained labels customers that did not churn; it is used when
	// the table has a churn column but no won/lost column (every row is a
	// customer).
	TargetRetained = "retained"
)

// Label records how labels were made, in the artifact and the report.
type Label struct {
	Target      string  `json:"target"`
	Definition  string  `json:"definition"`
	WonColumn   string  `json:"won_column,omitempty"`
	ChurnColumn string  `json:"churn_column,omitempty"`
	LTVColumn   string  `json:"ltv_column,omitempty"`
	LTVQuantile float64 `json:"ltv_quantile,omitempty"`
	// LTVThreshold is the LTV an ideal customer reaches, in the LTV
	// column's unit.
	LTVThreshold float64 `json:"ltv_threshold,omitempty"`
	// Values counts each raw value of the won column and what it means.
	Values    []LabelValue `json:"values,omitempty"`
	Positives int          `json:"positives"`
	Negatives int          `json:"negatives"`
	Open      int          `json:"open"`
}

// LabelValue is one raw value of the won column, its meaning (won, lost or
// open) and its count.
type LabelValue struct {
	Value   string `json:"value"`
	Meaning string `json:"meaning"`
	Count   int    `json:"count"`
}
