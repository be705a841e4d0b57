package icp

import (
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Sentinel errors shared across packages. Wrap them with context; callers
// match them with errors.Is.
var (
	// ErrInvalid marks input that breaks a documented rule (a bad field, a
	// malformed row, a tampered artifact).
	ErrInvalid = errors.New("invalid input")
	// ErrNotFound marks a lookup of something that does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict marks a write that clashes with stored state, such as an
	// idempotency key reused with a different body.
	ErrConflict = errors.New("conflict")
	// ErrUnavailable marks a dependency (model, store) that is not ready.
	ErrUnavailable = errors.New("unavailable")
)

// Tier is the fit tier of an account, from the best (Tier1) to NonFit.
type Tier string

// The tiers, best first.
const (
	Tier1  Tier = "tier1"
	Tier2  Tier = "tier2"
	Tier3  Tier = "tier3"
	NonFit Tier = "non_fit"
)

// Tiers lists every tier, best first.
func Tiers() []Tier { return []Tier{Tier1, Tier2, Tier3, NonFit} }

// Title names the tier for a reader: "Tier 1", ..., "Non-fit"; a tier
// not listed by Tiers keeps its text.
func (t Tier) Title() string {
	switch t {
	case Tier1:
		return "Tier 1"
	case Tier2:
		return "Tier 2"
	case Tier3:
		return "Tier 3"
	case NonFit:
		return "Non-fit"
	}
	return string(t)
}

// Account is one account's raw fields keyed by the CSV column names, as
// decoded from a JSON request body. A value is nil (missing), a string, a
// float64 or json.Number, a bool, or a []any of strings (a tag list).
// Validation against the trained schema happens in package features.
type Account map[string]any

// Attribution is the contribution of one original CSV column to a score.
// Contributions of one-hot and derived columns are summed back into the
// column they came from.
type Attribution struct {
	// Feature is the original column name.
	Feature string `json:"feature"`
	// Value is the raw value that was scored, nil when it was missing.
	Value any `json:"value"`
	// Contribution is the column's share of Score.Margin - Score.BaseValue,
	// on the scale named by Score.AttributionScale.
	Contribution float64 `json:"contribution"`
}

// SegmentRef names an ICP segment in a score.
type SegmentRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Rule is the segment's readable rule, when one was learned.
	Rule string `json:"rule,omitempty"`
	// Distance is the account's distance to the segment centre in the
	// encoded feature space.
	Distance float64 `json:"distance"`
	// Conditions counts the conditions of the rule the account met, and
	// MissingConditions those it met only because the field was missing
	// (a condition "(or missing)").
	Conditions        int `json:"conditions"`
	MissingConditions int `json:"missing_conditions"`
	// Sparse is true when at least half of those conditions were met
	// through missing fields: the match rests mostly on what the account
	// did not say, and sending those fields may change it.
	Sparse bool `json:"sparse"`
}

// AntiICPMatch names the anti-ICP rule an account matched.
type AntiICPMatch struct {
	ID string `json:"id"`
	// Rule is the rule's readable form, for example
	// "industry = Government".
	Rule string `json:"rule"`
	// LossRate is the share of the rule's closed deals that were lost, in
	// the training data.
	LossRate float64 `json:"loss_rate"`
}

// Score is the answer to one scoring request.
type Score struct {
	AccountID    string `json:"account_id,omitempty"`
	ModelVersion string `json:"model_version"`
	// Score is the probability in [0, 1] that the account becomes an ideal
	// customer.
	Score float64 `json:"score"`
	// Percentile is the share of training accounts, in [0, 100], that scored
	// at or below Score.
	Percentile float64 `json:"percentile"`
	Tier       Tier    `json:"tier"`
	// Segment is the ICP segment whose rule the account matches, nil when
	// it matches none.
	Segment *SegmentRef `json:"segment"`
	// AntiICP is set when the account matches a rule of the anti-ICP: the
	// kinds of accounts that lose, churn or stay small. Absent otherwise.
	AntiICP *AntiICPMatch `json:"anti_icp,omitempty"`
	// Margin is the model's raw output before the logistic link (log-odds).
	Margin float64 `json:"margin"`
	// BaseValue is the expected margin over the training data. BaseValue plus
	// the sum of all contributions equals Margin.
	BaseValue float64 `json:"base_value"`
	// AttributionScale names the scale of BaseValue and the contributions.
	AttributionScale string        `json:"attribution_scale"`
	Attributions     []Attribution `json:"attributions"`
	// Completeness is the share, in [0, 1], of what the model uses that
	// the account sent: the columns present, weighted by their importance
	// (mean absolute attribution over the training accounts). 1 when
	// every column the model uses was sent; a score from few fields
	// rests on the training averages for the rest.
	Completeness float64 `json:"completeness"`
	// MissingFields names the columns the model uses that the account did
	// not send, the most important first; absent when it sent them all.
	MissingFields []string `json:"missing_fields,omitempty"`
	// ValueScore is set when the model has a value model: its fields
	// (expected_value, predicted_value and their attributions) sit in the
	// score's own JSON object, and are absent without one.
	*ValueScore
}

// ValueScore is what an account is worth to sales: the value it brings if
// won, and that value weighted by the chance of winning it.
type ValueScore struct {
	// ExpectedValue is Score × PredictedValue, in the unit of the value
	// column the model was trained on.
	ExpectedValue float64 `json:"expected_value"`
	// PredictedValue is the value the account is expected to bring if it
	// becomes a customer (the mean, not the median, of the value model's
	// prediction on the log scale).
	PredictedValue float64 `json:"predicted_value"`
	// ValueAttributions explains ExpectedValue; nil when the score carries
	// no attributions.
	ValueAttributions *ValueAttributions `json:"expected_value_attributions,omitempty"`
}

// ValueAttributions are the contributions of the original columns to an
// expected value, on the scale named by Scale: BaseValue plus every
// contribution equals the expected value.
type ValueAttributions struct {
	// Scale is "value": contributions are in the unit of the value column.
	Scale string `json:"scale"`
	// BaseValue is the expected value at the base values of both models:
	// the calibrated probability of the score's base margin times the
	// value at the value model's base.
	BaseValue    float64       `json:"base_value"`
	Attributions []Attribution `json:"attributions"`
}

// Outcome is a recorded deal result for one account.
type Outcome struct {
	AccountID string  `json:"account_id"`
	Account   Account `json:"account,omitempty"`
	// Won is true for a won deal and false for a lost one.
	Won bool `json:"won"`
	// Churned is nil when unknown.
	Churned   *bool     `json:"churned,omitempty"`
	CloseDate time.Time `json:"close_date"`
	// LTVUSD and CycleDays are nil when unknown.
	LTVUSD     *float64  `json:"ltv_usd,omitempty"`
	CycleDays  *float64  `json:"sales_cycle_days,omitempty"`
	RecordedAt time.Time `json:"recorded_at"`
}

// ScoredAccount is one entry of the sampled log of scored accounts.
type ScoredAccount struct {
	Time         time.Time `json:"time"`
	ModelVersion string    `json:"model_version"`
	AccountID    string    `json:"account_id,omitempty"`
	Account      Account   `json:"account"`
	Score        float64   `json:"score"`
	Tier         Tier      `json:"tier"`
	SegmentID    string    `json:"segment_id,omitempty"`
}

// RecordResult is the answer to an outcome write.
type RecordResult struct {
	// Stored is how many outcomes the write stored.
	Stored int `json:"stored"`
	// Replayed is true when the write repeats an earlier one with the same
	// idempotency key: nothing was written and the earlier result is
	// returned.
	Replayed bool `json:"replayed"`
	// IDs are the store's ids of the stored outcomes, in batch order; the
	// API does not answer them.
	IDs []int64 `json:"-"`
}

// DriftReport is a stored drift report: Body is the JSON of the drift
// watcher's WatchReport.
type DriftReport struct {
	// ID is the store's id of the report; the API does not answer it.
	ID           int64           `json:"-"`
	At           time.Time       `json:"at"`
	ModelVersion string          `json:"model_version"`
	Body         json.RawMessage `json:"report"`
}

// Delivery is one webhook notification in the outbox. Delivery is at least
// once: a receiver deduplicates by the alert id inside the payload.
type Delivery struct {
	ID      int64           `json:"id"`
	AlertID string          `json:"alert_id"`
	Payload json.RawMessage `json:"payload"`
	// Attempts counts the failed attempts so far.
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt"`
	LastError   string    `json:"last_error,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// Severity grades an alert.
type Severity string

// The alert severities.
const (
	SeverityInfo     Severity = "info"
	SeverityWarning  Severity = "warning"
	SeverityCritical Severity = "critical"
)

// AlertStatus is where an alert stands in its review.
type AlertStatus string

// The alert statuses.
const (
	AlertOpen         AlertStatus = "open"
	AlertAcknowledged AlertStatus = "acknowledged"
	AlertResolved     AlertStatus = "resolved"
)

// Alert is a persisted drift alert for leadership to review. Title,
// Summary, Action, Measure and Trend speak to a reader who is not a
// statistician; Details holds the statistics behind them.
type Alert struct {
	// ID is stable across repeats of the same alert, so receivers can
	// deduplicate.
	ID string `json:"id"`
	// GroupKey identifies what the alert is about (for example
	// "feature_drift:employees"); one open alert exists per key.
	GroupKey string   `json:"group_key"`
	Kind     string   `json:"kind"`
	Severity Severity `json:"severity"`
	// Status is where the review stands. An alert resolved by the watcher
	// because its condition cleared has UpdatedBy "auto-resolve" and a
	// Resolution.
	Status AlertStatus `json:"status"`
	// Title is the headline in plain words, for example "More wins are
	// coming from outside the ICP".
	Title string `json:"title,omitempty"`
	// Subject names what changed in readable words: a feature ("Industry"),
	// a tier ("Tier 1"), a segment or the won deals.
	Subject string `json:"subject,omitempty"`
	// Summary says what changed, how much (with an interval), where and
	// over which accounts or deals, in plain words.
	Summary string `json:"summary"`
	// Action is the recommended next step (review the ICP, retrain, check
	// a data feed).
	Action string `json:"action,omitempty"`
	// Measure is the headline figure of the summary with its interval and
	// its training baseline, for charts; nil when the alert has none.
	Measure *AlertMeasure `json:"measure,omitempty"`
	// Trend is the alert's statistic at the latest evaluations, for a
	// small chart; nil when none was recorded.
	Trend *AlertTrend `json:"trend,omitempty"`
	// Details holds the technical statistics behind the alert (tests,
	// p-values, PSI, raw keys, account ids).
	Details   map[string]any `json:"details,omitempty"`
	FirstSeen time.Time      `json:"first_seen"`
	LastSeen  time.Time      `json:"last_seen"`
	// Count is how many times the condition was observed while open.
	Count     int       `json:"count"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
	// ResolvedAt is when the alert was resolved, zero while it is not.
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	// Resolution says why an alert resolved itself.
	Resolution string `json:"resolution,omitempty"`
}

// AlertMeasure is the headline figure of an alert: a value with its 95%
// interval and what training (or the earlier period) gave.
type AlertMeasure struct {
	// Label names the figure, for example "share of won deals outside the
	// ICP" or "median employees".
	Label string `json:"label"`
	// Unit is "share" for a proportion in [0, 1] and "" for a number in
	// the unit of the feature.
	Unit  string  `json:"unit,omitempty"`
	Value float64 `json:"value"`
	// Low and High bound the 95% interval of Value (Wilson's for shares,
	// order statistics for medians).
	Low  float64 `json:"low"`
	High float64 `json:"high"`
	// Baseline is the figure in the training data or the earlier period.
	Baseline float64 `json:"baseline"`
}

// AlertTrend is one statistic of an alert over the latest evaluations.
type AlertTrend struct {
	// Label names the statistic, for example "shift size (PSI)".
	Label string `json:"label"`
	// Unit is as in AlertMeasure.
	Unit string `json:"unit,omitempty"`
	// Warning and Critical are reference levels to draw on its chart (for
	// PSI the bands 0.1 and 0.25, above which a shift reads moderate and
	// large), zero when it has none.
	Warning  float64 `json:"warning,omitempty"`
	Critical float64 `json:"critical,omitempty"`
	// Points are the values, oldest first.
	Points []TrendPoint `json:"points"`
}

// TrendPoint is one value of a trend.
type TrendPoint struct {
	Time  time.Time `json:"time"`
	Value float64   `json:"value"`
}

// FieldError is one problem with one input field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists every problem found in one input. It matches
// ErrInvalid with errors.Is.
type ValidationError struct {
	Fields []FieldError
}

// Error joins the field errors into one line.
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("invalid input")
	for i, f := range e.Fields {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(f.Field)
		b.WriteString(": ")
		b.WriteString(f.Message)
	}
	return b.String()
}

// Is reports whether target is ErrInvalid.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Add appends a field error.
func (e *ValidationError) Add(field, message string) {
	e.Fields = append(e.Fields, FieldError{Field: field, Message: message})
}

// Err returns e when it holds at least one field error, and nil otherwise.
func (e *ValidationError) Err() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	return e
}
