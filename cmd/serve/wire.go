package main

import (
	"context"
	"encoding/json"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/drift"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/registry"
	"github.com/icpengine/icp/server"
	"github.com/icpengine/icp/store"
	"github.com/icpengine/icp/watch"
)

// storeAdapter adapts *store.Store to the interfaces of package watch and
// package server.
type storeAdapter struct {
	st     *store.Store
	policy store.AlertPolicy
	// notify enqueues webhook payloads; false when no webhook is set, so
	// the outbox does not fill with deliveries no one sends.
	notify bool
}

func (a storeAdapter) LogScores(ctx context.Context, scored []icp.ScoredAccount) error {
	return a.st.LogScores(ctx, scored)
}

func (a storeAdapter) SaveDriftReport(ctx context.Context, at time.Time, version string, body json.RawMessage) (int64, error) {
	return a.st.SaveDriftReport(ctx, at, version, body)
}

func (a storeAdapter) RaiseAlert(ctx context.Context, al icp.Alert, payload func(icp.Alert) (json.RawMessage, error)) (icp.Alert, bool, error) {
	var p store.PayloadFunc
	if a.notify {
		p = payload
	}
	return a.st.RaiseAlertWithDelivery(ctx, al, a.policy, p)
}

func (a storeAdapter) ActiveAlerts(ctx context.Context) ([]icp.Alert, error) {
	return a.st.ActiveAlerts(ctx)
}

func (a storeAdapter) ResolveQuietAlert(ctx context.Context, key string, since time.Time, resolution string, trend *icp.AlertTrend,
	payload func(icp.Alert) (json.RawMessage, error)) (icp.Alert, bool, error) {
	var p store.PayloadFunc
	if a.notify {
		p = payload
	}
	return a.st.ResolveQuietAlert(ctx, key, since, resolution, trend, p)
}

func (a storeAdapter) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]watch.Delivery, error) {
	ds, err := a.st.DueDeliveries(ctx, now, limit)
	if err != nil {
		return nil, err
	}
	out := make([]watch.Delivery, len(ds))
	for i, d := range ds {
		out[i] = watch.Delivery{ID: d.ID, AlertID: d.AlertID, Payload: d.Payload, Attempts: d.Attempts}
	}
	return out, nil
}

func (a storeAdapter) MarkDelivered(ctx context.Context, id int64) error {
	return a.st.MarkDelivered(ctx, id)
}

func (a storeAdapter) MarkFailed(ctx context.Context, id int64, next time.Time, msg string) error {
	return a.st.MarkFailed(ctx, id, next, msg)
}

func (a storeAdapter) RecordOutcomes(ctx context.Context, key string, outs []icp.Outcome) (server.RecordResult, error) {
	r, err := a.st.RecordOutcomes(ctx, key, outs)
	return server.RecordResult{Stored: r.Stored, Replayed: r.Replayed}, err
}

func (a storeAdapter) LatestDriftReport(ctx context.Context) (server.DriftReport, error) {
	r, err := a.st.LatestDriftReport(ctx)
	return server.DriftReport{At: r.At, ModelVersion: r.ModelVersion, Body: r.Body}, err
}

func (a storeAdapter) Alerts(ctx context.Context, status icp.AlertStatus, limit int) ([]icp.Alert, error) {
	return a.st.Alerts(ctx, status, limit)
}

func (a storeAdapter) SetAlertStatus(ctx context.Context, id string, status icp.AlertStatus, by string) (icp.Alert, error) {
	return a.st.SetAlertStatus(ctx, id, status, by)
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

func (m modelAdapter) EmergingSegments(winners, earlier []icp.Account) ([]watch.Emerging, error) {
	p := m.p()
	// Winners whose fields no longer fit the schema are left out.
	keep := make([]icp.Account, 0, len(winners))
	index := make([]int, 0, len(winners))
	for i, acc := range winners {
		if _, err := p.Schema.Table([]icp.Account{acc}); err == nil {
			keep = append(keep, acc)
			index = append(index, i)
		}
	}
	base := make([]icp.Account, 0, len(earlier))
	for _, acc := range earlier {
		if _, err := p.Schema.Table([]icp.Account{acc}); err == nil {
			base = append(base, acc)
		}
	}
	segs, err := p.EmergingSegments(keep, base, profile.EmergingConfig{Seed: p.Seed})
	if err != nil {
		return nil, err
	}
	out := make([]watch.Emerging, len(segs))
	for i, s := range segs {
		e := watch.Emerging{Key: s.Key, Name: s.Name, Description: s.Description,
			Count: s.Count, Outside: s.Outside, Winners: len(winners),
			Observed: s.Observed, Expected: s.Expected, Baseline: s.Baseline, PValue: s.PValue}
		for _, t := range s.Traits {
			e.Traits = append(e.Traits, t.Text)
		}
		for _, j := range s.Members {
			e.Members = append(e.Members, index[j])
		}
		out[i] = e
	}
	return out, nil
}

// icpSummary is the dashboard's brief of the model.
func icpSummary(p *profile.Profile) *server.ICPSummary {
	s := &server.ICPSummary{ModelVersion: p.Version, Tiers: []server.TierSummary{
		{Tier: icp.Tier1, MinScore: p.Tiers.Tier1},
		{Tier: icp.Tier2, MinScore: p.Tiers.Tier2},
		{Tier: icp.Tier3, MinScore: p.Tiers.Tier3},
		{Tier: icp.NonFit, MinScore: 0},
	}}
	for _, seg := range p.Segments {
		// The rule is what decides membership when scoring, so it is what
		// the dashboard shows.
		s.Segments = append(s.Segments, server.SegmentSummary{ID: seg.ID, Name: seg.Name, Share: seg.Share, Lift: seg.Lift,
			Traits: []string{seg.RuleText}})
	}
	return s
}

// The served model scores batches in one call and names its version.
var (
	_ server.BatchScorer    = (*registry.Live)(nil)
	_ server.ModelVersioner = (*registry.Live)(nil)
)
