package main

import (
	"context"
	"encoding/json"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/drift"
	"github.com/icpengine/icp/emerging"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/registry"
	"github.com/icpengine/icp/report"
	"github.com/icpengine/icp/server"
	"github.com/icpengine/icp/server/dashboard"
	"github.com/icpengine/icp/store"
	"github.com/icpengine/icp/watch"
)

// alertStore is the store as the drift watcher uses it: alerts are
// deduplicated by policy (zero: the store's defaults), and they enqueue a
// webhook payload only when notify is set (a webhook is configured), so
// that the outbox does not fill with deliveries no one sends. Every other
// method is the store's own.
type alertStore struct {
	*store.Store
	policy store.AlertPolicy
	notify bool
}

// RaiseAlert records one observation of an alert, and enqueues its
// payload when it is to be notified and notify is set.
func (a alertStore) RaiseAlert(ctx context.Context, al icp.Alert, payload func(icp.Alert) (json.RawMessage, error)) (icp.Alert, bool, error) {
	if !a.notify {
		payload = nil
	}
	return a.RaiseAlertWithDelivery(ctx, al, a.policy, payload)
}

// ResolveQuietAlert resolves the active alert of key unless it was raised
// since its condition cleared, and enqueues the resolved notice only when
// notify is set, as RaiseAlert does.
func (a alertStore) ResolveQuietAlert(ctx context.Context, key string, since time.Time, resolution string, trend *icp.AlertTrend,
	payload func(icp.Alert) (json.RawMessage, error)) (icp.Alert, bool, error) {
	if !a.notify {
		payload = nil
	}
	return a.Store.ResolveQuietAlert(ctx, key, since, resolution, trend, payload)
}

// modelAdapter adapts the served model to watch.Model: each call goes to
// the champion of the moment.
type modelAdapter struct {
	live *registry.Live
}

func (m modelAdapter) p() *profile.Profile { return m.live.Current().Profile }

func (m modelAdapter) Version() string { return m.p().Version }

func (m modelAdapter) Score(ctx context.Context, acc icp.Account) (icp.Score, error) {
	return m.p().Score(ctx, acc)
}

func (m modelAdapter) DriftRow(acc icp.Account, s icp.Score) (drift.Row, error) {
	return m.p().DriftRow(acc, s)
}

func (m modelAdapter) Reference() *drift.Reference { return m.p().Drift }

func (m modelAdapter) EmergingSegments(winners, earlier []icp.Account) ([]icp.EmergingSegment, error) {
	p := m.p()
	return emerging.Records(p, winners, earlier, emerging.Config{Seed: p.Seed})
}

// icpDocument answers GET /v1/icp with the champion's ICP document.
type icpDocument struct{ live *registry.Live }

func (d icpDocument) ICP(ctx context.Context) (json.RawMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return json.Marshal(report.Document(d.live.Current().Profile))
}

// icpSummary is the dashboard's brief of the model.
func icpSummary(p *profile.Profile) *dashboard.ICPSummary {
	s := &dashboard.ICPSummary{ModelVersion: p.Version, Tiers: []dashboard.TierSummary{
		{Tier: icp.Tier1, MinScore: p.Tiers.Tier1},
		{Tier: icp.Tier2, MinScore: p.Tiers.Tier2},
		{Tier: icp.Tier3, MinScore: p.Tiers.Tier3},
		{Tier: icp.NonFit, MinScore: 0},
	}}
	for _, seg := range p.Segments {
		// The rule is what decides membership when scoring, so it is what
		// the dashboard shows.
		s.Segments = append(s.Segments, dashboard.SegmentSummary{ID: seg.ID, Name: seg.Name, Share: seg.Share, Lift: seg.Lift,
			Traits: []string{seg.RuleText}})
	}
	return s
}

// The served model scores batches in one call and names its version; the
// store serves the outcome, drift report and alert routes and the webhook
// outbox as it is.
var (
	_ server.BatchScorer     = (*registry.Live)(nil)
	_ server.ModelVersioner  = (*registry.Live)(nil)
	_ server.OutcomeRecorder = (*store.Store)(nil)
	_ server.DriftSource     = (*store.Store)(nil)
	_ server.AlertService    = (*store.Store)(nil)
	_ watch.Store            = alertStore{}
	_ watch.Outbox           = (*store.Store)(nil)
)
