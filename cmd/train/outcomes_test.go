package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/store"
)

func TestRunOutcomesDB(t *testing.T) {
	tab, _ := synth.Generate(synth.Config{Rows: 1200, Seed: 4})
	var csv bytes.Buffer
	if err := datasets.WriteCSV(&csv, tab); err != nil {
		t.Fatal(err)
	}
	data := writeFile(t, "accounts.csv", csv.String())
	dbPath := filepath.Join(t.TempDir(), "icp.db")
	ctx := context.Background()
	st, err := store.Open(ctx, dbPath, store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ltv := 5000.0
	outs := make([]icp.Outcome, 40)
	for i := range outs {
		outs[i] = icp.Outcome{
			AccountID: "REC-" + string(rune('A'+i%26)) + string(rune('a'+i/26)),
			Account: icp.Account{"industry": "Logistics", "employees": 2500.0, "tech_stack": "snowflake;aws",
				"country": "US", "region": "NA", "business_model": "B2B SaaS"},
			Won: i%2 == 0, CloseDate: time.Date(2025, 6, 1+i%20, 0, 0, 0, 0, time.UTC), LTVUSD: &ltv,
		}
	}
	if _, err := st.RecordOutcomes(ctx, "", outs); err != nil {
		t.Fatal(err)
	}
	st.Close()

	out := filepath.Join(t.TempDir(), "model")
	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"--data", data, "--out", out, "--quiet", "--outcomes-db", dbPath}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "added 40 recorded outcomes") {
		t.Errorf("output lacks the outcome count:\n%s", stdout.String())
	}
	p, err := profile.ReadFile(filepath.Join(out, "model.json"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Data.Rows != 1240 {
		t.Errorf("trained rows = %d, want 1240", p.Data.Rows)
	}
}

// TestRunOutcomesDBSkipsUnusable reproduces the end of the third finding
// of the outside test: one stored outcome the schema cannot use (an older
// server stored what /v1/score refuses) failed the whole retraining. Such
// records are now skipped, counted and named.
func TestRunOutcomesDBSkipsUnusable(t *testing.T) {
	tab, _ := synth.Generate(synth.Config{Rows: 1200, Seed: 4})
	var csv bytes.Buffer
	if err := datasets.WriteCSV(&csv, tab); err != nil {
		t.Fatal(err)
	}
	data := writeFile(t, "accounts.csv", csv.String())
	dbPath := filepath.Join(t.TempDir(), "icp.db")
	ctx := context.Background()
	st, err := store.Open(ctx, dbPath, store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	good := icp.Account{"industry": "Logistics", "employees": 2500.0, "country": "US"}
	bad := map[string]icp.Account{
		"BAD-NEG":     {"industry": "Logistics", "employees": -5.0},
		"BAD-UNKNOWN": {"industry": "Logistics", "favourite_colour": "teal"},
		"BAD-NAN":     {"industry": "Logistics", "employees": "NaN"},
	}
	var outs []icp.Outcome
	for i := range 20 {
		outs = append(outs, icp.Outcome{AccountID: "GOOD-" + strconv.Itoa(i), Account: good, Won: i%2 == 0,
			CloseDate: time.Date(2025, 6, 1+i, 0, 0, 0, 0, time.UTC)})
	}
	for id, acc := range bad {
		outs = append(outs, icp.Outcome{AccountID: id, Account: acc, CloseDate: time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)})
	}
	if _, err := st.RecordOutcomes(ctx, "", outs); err != nil {
		t.Fatal(err)
	}
	st.Close()

	out := filepath.Join(t.TempDir(), "model")
	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"--data", data, "--out", out, "--quiet", "--outcomes-db", dbPath}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	if want := "added 20 recorded outcomes from the outcomes db, skipped 3"; !strings.Contains(stdout.String(), want) {
		t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
	}
	for _, want := range []string{
		`account "BAD-NEG" (closed 2025-07-01): employees: must not be negative`,
		`account "BAD-UNKNOWN" (closed 2025-07-01): favourite_colour: unknown field`,
		`account "BAD-NAN" (closed 2025-07-01): employees: must be a finite number`,
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	p, err := profile.ReadFile(filepath.Join(out, "model.json"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Data.Rows != 1220 {
		t.Errorf("trained rows = %d, want 1220", p.Data.Rows)
	}
}
