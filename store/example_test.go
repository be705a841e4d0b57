package store_test

import (
	"context"
	"fmt"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/store"
)

func ExampleOpen() {
	ctx := context.Background()
	s, err := store.Open(ctx, ":memory:", store.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	batch := []icp.Outcome{
		{AccountID: "acme", Won: true, CloseDate: time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)},
		{AccountID: "globex", Won: false, CloseDate: time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)},
	}
	res, err := s.RecordOutcomes(ctx, "crm-sync-42", batch)
	if err != nil {
		fmt.Println(err)
		return
	}
	again, _ := s.RecordOutcomes(ctx, "crm-sync-42", batch) // a client retry
	outcomes, _ := s.Outcomes(ctx, time.Time{}, 0)
	fmt.Println(s.Backend(), res.Stored, again.Replayed)
	for _, o := range outcomes {
		fmt.Println(o.AccountID, o.CloseDate.Format(time.DateOnly), o.Won)
	}

	_, err = s.RecordOutcomes(ctx, "", []icp.Outcome{{Won: true}})
	fmt.Println(err)
	// Output:
	// sqlite 2 true
	// globex 2026-01-10 false
	// acme 2026-01-15 true
	// record outcomes: invalid input: outcomes[0].account_id: is required; outcomes[0].close_date: is required
}

func ExampleStore_RaiseAlert() {
	ctx := context.Background()
	now := time.Date(2026, 2, 1, 8, 0, 0, 0, time.UTC)
	s, err := store.Open(ctx, ":memory:", store.Config{Now: func() time.Time { return now }})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	alert := icp.Alert{
		GroupKey: "feature_drift:employees",
		Kind:     "feature_drift",
		Severity: icp.SeverityWarning,
		Summary:  "employees distribution shifted (PSI 0.31)",
	}
	policy := store.AlertPolicy{RepeatInterval: time.Hour}
	for range 3 {
		a, notify, err := s.RaiseAlert(ctx, alert, policy)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(a.Status, a.Count, notify)
		now = now.Add(40 * time.Minute)
	}
	// Output:
	// open 1 true
	// open 2 false
	// open 3 true
}

func ExampleStore_CreateAPIKey() {
	ctx := context.Background()
	s, err := store.Open(ctx, ":memory:", store.Config{
		Now: func() time.Time { return time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	// The record of a key: its visible prefix and SHA-256, never the key
	// (package auth makes both).
	k, err := s.CreateAPIKey(ctx, icp.APIKey{
		Prefix: "AbCd1234",
		Hash:   "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		Name:   "crm-sync",
		Scopes: []icp.Scope{icp.ScopeOutcomes, icp.ScopeScore},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	found, _ := s.LookupAPIKey(ctx, "AbCd1234")
	fmt.Println(found.ID == k.ID, found.Name, found.Scopes, found.Revoked())
	revoked, _ := s.RevokeAPIKey(ctx, k.ID)
	fmt.Println(revoked.Revoked(), revoked.RevokedAt.Format(time.RFC3339))
	// Output:
	// true crm-sync [score outcomes] false
	// true 2026-03-01T09:00:00Z
}
