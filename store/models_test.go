package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icpengine/icp"
)

// fakeModel returns a model record and artifact bytes whose checksum is
// the SHA-256 of the bytes (the store does not recompute it).
func fakeModel(name string) (icp.ModelRecord, []byte) {
	art := []byte(`{"model":"` + name + `"}`)
	sum := sha256.Sum256(art)
	return icp.ModelRecord{Checksum: "sha256:" + hex.EncodeToString(sum[:]), Version: "m-" + name,
		Summary: "gbm, test " + name, RegisteredBy: "ops"}, art
}

func testModelRegistry(t *testing.T, open func(t *testing.T) *Store) {
	ctx := t.Context()
	s := open(t)
	clock := newFakeClock(time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC))
	withClock(s, clock)

	var recs []icp.ModelRecord
	for _, name := range []string{"a", "b", "c"} {
		rec, art := fakeModel(name)
		got, created, err := s.RegisterModel(ctx, rec, art)
		if err != nil || !created {
			t.Fatalf("RegisterModel(%s) = %v, %v, want created", name, created, err)
		}
		if got.Size != int64(len(art)) || got.Version != rec.Version || !got.RegisteredAt.Equal(clock.Now()) || len(got.Aliases) != 0 {
			t.Fatalf("RegisterModel(%s) = %+v", name, got)
		}
		b, err := s.ModelArtifact(ctx, rec.Checksum)
		if err != nil || string(b) != string(art) {
			t.Fatalf("ModelArtifact(%s) = %q, %v, want %q", name, b, err, art)
		}
		recs = append(recs, got)
		clock.Advance(time.Second)
	}
	// Registering the same checksum again keeps the first record.
	again, created, err := s.RegisterModel(ctx, icp.ModelRecord{Checksum: recs[0].Checksum, Version: "m-a", RegisteredBy: "someone else"}, []byte("other layout"))
	if err != nil || created || again.RegisteredBy != "ops" || again.Size != recs[0].Size {
		t.Fatalf("RegisterModel(again) = %+v, %v, %v, want the first record, not created", again, created, err)
	}
	if b, _ := s.ModelArtifact(ctx, recs[0].Checksum); string(b) != `{"model":"a"}` {
		t.Fatalf("artifact after a second register = %q, want the first bytes", b)
	}
	// Another artifact may not take a version name in use (a forged file
	// passing for the champion).
	forged, forgedArt := fakeModel("forged")
	forged.Version = recs[0].Version
	if _, _, err := s.RegisterModel(ctx, forged, forgedArt); !errors.Is(err, icp.ErrConflict) || !strings.Contains(err.Error(), recs[0].Checksum) {
		t.Fatalf("RegisterModel(another artifact named %s) = %v, want ErrConflict naming %s", forged.Version, err, recs[0].Checksum)
	}
	if _, err := s.ModelArtifact(ctx, forged.Checksum); !errors.Is(err, icp.ErrNotFound) {
		t.Fatalf("ModelArtifact(refused) = %v, want ErrNotFound: nothing stored", err)
	}

	ids := []string{recs[0].Checksum, recs[1].Checksum, recs[2].Checksum}
	if _, err := s.RollbackModelAlias(ctx, icp.AliasChampion, "ops", ""); !errors.Is(err, icp.ErrNotFound) {
		t.Fatalf("RollbackModelAlias(no champion) = %v, want ErrNotFound", err)
	}
	for i, id := range ids {
		ev, err := s.SetModelAlias(ctx, icp.AliasChampion, id, icp.ActionPromote, "ops", "")
		want := ""
		if i > 0 {
			want = ids[i-1]
		}
		if err != nil || ev.Checksum != id || ev.Previous != want || ev.Result != icp.ResultOK || ev.ID == 0 {
			t.Fatalf("promote %d = %+v, %v, want previous %q", i, ev, err, want)
		}
	}
	if _, err := s.SetModelAlias(ctx, icp.AliasShadow, ids[0], icp.ActionShadow, "ops", ""); err != nil {
		t.Fatal(err)
	}
	aliases, err := s.ModelAliases(ctx)
	if err != nil || aliases[icp.AliasChampion] != ids[2] || aliases[icp.AliasShadow] != ids[0] {
		t.Fatalf("ModelAliases() = %v, %v", aliases, err)
	}
	list, err := s.Models(ctx)
	if err != nil || len(list) != 3 || list[0].Checksum != ids[2] || !slices.Equal(list[0].Aliases, []string{icp.AliasChampion}) ||
		!slices.Equal(list[2].Aliases, []string{icp.AliasShadow}) {
		t.Fatalf("Models() = %+v, %v, want newest first with aliases", list, err)
	}

	// Rollbacks walk back through the promotions: c -> b -> a, then none.
	for _, want := range []string{ids[1], ids[0]} {
		ev, err := s.RollbackModelAlias(ctx, icp.AliasChampion, "ops", "bad week")
		if err != nil || ev.Checksum != want || ev.Action != icp.ActionRollback {
			t.Fatalf("RollbackModelAlias() = %+v, %v, want %s", ev, err, want)
		}
	}
	if _, err := s.RollbackModelAlias(ctx, icp.AliasChampion, "ops", ""); !errors.Is(err, icp.ErrNotFound) {
		t.Fatalf("RollbackModelAlias(first promotion) = %v, want ErrNotFound", err)
	}
	if _, err := s.SetModelAlias(ctx, icp.AliasShadow, "", icp.ActionUnshadow, "ops", ""); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.ModelAliases(ctx); len(a) != 1 || a[icp.AliasChampion] != ids[0] {
		t.Fatalf("ModelAliases() after unshadow = %v", a)
	}
	if _, err := s.AppendModelEvent(ctx, icp.ModelEvent{Actor: "replica-1", Action: icp.ActionLoad, Alias: icp.AliasChampion,
		Checksum: ids[0], Result: icp.ResultFailed, Detail: strings.Repeat("é", 3000)}); err != nil {
		t.Fatalf("AppendModelEvent(long detail) = %v", err)
	}

	hist, err := s.ModelHistory(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range hist {
		actions = append(actions, string(ev.Action))
	}
	want := "load unshadow rollback rollback shadow promote promote promote register register register register"
	if got := strings.Join(actions, " "); got != want {
		t.Fatalf("ModelHistory() actions = %s, want %s", got, want)
	}
	if n := len([]rune(hist[0].Detail)); n != maxDetailLen {
		t.Fatalf("stored detail = %d runes, want cut to %d", n, maxDetailLen)
	}
	if last, _ := s.ModelHistory(ctx, 2); len(last) != 2 || last[0].ID != hist[0].ID {
		t.Fatalf("ModelHistory(2) = %+v", last)
	}

	// Resolving by prefix, by whole checksum and by version.
	for _, ref := range []string{ids[1], ids[1][:15], strings.TrimPrefix(ids[1], "sha256:")[:8], "m-b"} {
		if got, err := s.ResolveModel(ctx, ref); err != nil || got != ids[1] {
			t.Errorf("ResolveModel(%q) = %q, %v, want %s", ref, got, err, ids[1])
		}
	}
	// Versions named by train --model-version, one of them looking like
	// hex digits.
	for _, name := range []string{"2026q4", "20261207"} {
		rec, art := fakeModel(name)
		rec.Version = name
		if _, _, err := s.RegisterModel(ctx, rec, art); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ResolveModel(ctx, name); err != nil || got != rec.Checksum {
			t.Errorf("ResolveModel(%q) = %q, %v, want %s", name, got, err, rec.Checksum)
		}
	}
	for _, tt := range []struct {
		give string
		want error
	}{
		{"sha256:0000000", icp.ErrInvalid},    // too short
		{"", icp.ErrInvalid},                  // empty
		{"zzzzzzzzzz", icp.ErrNotFound},       // not hex: an unknown version name
		{"m-nope", icp.ErrNotFound},           // unknown version
		{"ffffffffffffffff", icp.ErrNotFound}, // unknown digits
	} {
		if _, err := s.ResolveModel(ctx, tt.give); !errors.Is(err, tt.want) {
			t.Errorf("ResolveModel(%q) = %v, want %v", tt.give, err, tt.want)
		}
	}

	// Everything survives a reopen.
	s2 := reopen(t, s)
	if s2 == nil {
		return // a private in-memory database
	}
	if a, err := s2.ModelAliases(ctx); err != nil || a[icp.AliasChampion] != ids[0] {
		t.Fatalf("ModelAliases() after reopen = %v, %v", a, err)
	}
	// The history read above, and the two named versions registered since.
	if h, err := s2.ModelHistory(ctx, 0); err != nil || len(h) != len(hist)+2 {
		t.Fatalf("ModelHistory() after reopen = %d entries, %v, want %d", len(h), err, len(hist)+2)
	}
}

func testModelRegistryValidation(t *testing.T, open func(t *testing.T) *Store) {
	ctx := t.Context()
	s := open(t)
	rec, art := fakeModel("v")
	tests := []struct {
		name  string
		call  func() error
		field string
	}{
		{"bad checksum", func() error {
			r := rec
			r.Checksum = "md5:abc"
			_, _, err := s.RegisterModel(ctx, r, art)
			return err
		}, "checksum"},
		{"empty artifact", func() error { _, _, err := s.RegisterModel(ctx, rec, nil); return err }, "artifact"},
		{"no actor", func() error {
			r := rec
			r.RegisteredBy = " "
			_, _, err := s.RegisterModel(ctx, r, art)
			return err
		}, "actor"},
		{"unknown alias", func() error {
			_, err := s.SetModelAlias(ctx, "canary", rec.Checksum, icp.ActionPromote, "ops", "")
			return err
		}, "alias"},
		{"unknown action", func() error {
			_, err := s.AppendModelEvent(ctx, icp.ModelEvent{Actor: "ops", Action: "delete", Result: icp.ResultOK})
			return err
		}, "action"},
		{"unknown result", func() error {
			_, err := s.AppendModelEvent(ctx, icp.ModelEvent{Actor: "ops", Action: icp.ActionLoad, Result: "maybe"})
			return err
		}, "result"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var v *icp.ValidationError
			if !errors.As(err, &v) || len(v.Fields) == 0 || v.Fields[0].Field != tt.field {
				t.Fatalf("error = %v, want a validation error on %s", err, tt.field)
			}
		})
	}
	if _, err := s.SetModelAlias(ctx, icp.AliasChampion, rec.Checksum, icp.ActionPromote, "ops", ""); !errors.Is(err, icp.ErrNotFound) {
		t.Fatalf("promote an unregistered version = %v, want ErrNotFound", err)
	}
	if _, err := s.ModelArtifact(ctx, rec.Checksum); !errors.Is(err, icp.ErrNotFound) {
		t.Fatalf("ModelArtifact(unregistered) = %v, want ErrNotFound", err)
	}
	if h, _ := s.ModelHistory(ctx, 0); len(h) != 0 {
		t.Fatalf("history after refused calls = %+v, want empty", h)
	}
}

// testModelRegistryAppendOnly checks that the database itself refuses to
// change a version or a history entry, whoever asks.
func testModelRegistryAppendOnly(t *testing.T, open func(t *testing.T) *Store) {
	ctx := t.Context()
	s := open(t)
	rec, art := fakeModel("x")
	if _, _, err := s.RegisterModel(ctx, rec, art); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`UPDATE model_versions SET version = 'm-forged'`,
		`DELETE FROM model_versions`,
		`UPDATE model_events SET actor = 'someone else'`,
		`DELETE FROM model_events`,
	} {
		if _, err := s.wdb.ExecContext(ctx, stmt); err == nil {
			t.Errorf("%s succeeded, want it refused", stmt)
		}
	}
	if got, err := s.Model(ctx, rec.Checksum); err != nil || got.Version != rec.Version {
		t.Fatalf("Model() after refused writes = %+v, %v", got, err)
	}
	if h, _ := s.ModelHistory(ctx, 0); len(h) != 1 || h[0].Actor != "ops" {
		t.Fatalf("history after refused writes = %+v", h)
	}
}

// testModelConcurrentPromote promotes from several goroutines at once:
// every promotion is recorded, and the history's previous-links form one
// chain ending at the alias's final version.
func testModelConcurrentPromote(t *testing.T, open func(t *testing.T) *Store) {
	ctx := t.Context()
	s := open(t)
	var ids []string
	for i := range 4 {
		rec, art := fakeModel(fmt.Sprint("p", i))
		if _, _, err := s.RegisterModel(ctx, rec, art); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, rec.Checksum)
	}
	const each = 5
	var wg sync.WaitGroup
	errs := make(chan error, len(ids)*each)
	for _, id := range ids {
		wg.Go(func() {
			for range each {
				for {
					_, err := s.SetModelAlias(ctx, icp.AliasChampion, id, icp.ActionPromote, "ops", "")
					if errors.Is(err, icp.ErrConflict) {
						continue // the first insert of the alias raced; retry as a client would
					}
					errs <- err
					break
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	hist, err := s.ModelHistory(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var promos []icp.ModelEvent
	for _, ev := range hist {
		if ev.Action == icp.ActionPromote {
			promos = append(promos, ev)
		}
	}
	if len(promos) != len(ids)*each {
		t.Fatalf("%d promotions recorded, want %d", len(promos), len(ids)*each)
	}
	aliases, _ := s.ModelAliases(ctx)
	cur := aliases[icp.AliasChampion]
	// Newest first: each promotion's previous is the next one's checksum.
	for i, ev := range promos {
		if ev.Checksum != cur {
			t.Fatalf("promotion %d names %s, want %s: the chain is broken", i, ev.Checksum, cur)
		}
		cur = ev.Previous
	}
	if cur != "" {
		t.Fatalf("oldest promotion's previous = %s, want none", cur)
	}
}
