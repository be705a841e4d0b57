package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/registry"
	"github.com/icpengine/icp/store"
)

// runModels executes one models command.
func runModels(ctx context.Context, cmd string, rest []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("icpctl models "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "store: a SQLite file or a postgres:// URL (required)")
	actorName := fs.String("actor", defaultActor(), "who makes the change, as the history records it")
	var (
		file, reason *string
		promote      *bool
		asJSON       *bool
		limit        *int
		wantArgs     int
	)
	switch cmd {
	case "register":
		file = fs.String("file", "", "model artifact written by train (required)")
		promote = fs.Bool("promote", false, "make it the champion once registered")
		reason = fs.String("reason", "", "why, for the history")
	case "promote", "shadow":
		reason = fs.String("reason", "", "why, for the history")
		wantArgs = 1
	case "rollback", "unshadow":
		reason = fs.String("reason", "", "why, for the history")
	case "list":
		asJSON = fs.Bool("json", false, "print JSON instead of a table")
	case "history":
		asJSON = fs.Bool("json", false, "print JSON instead of a table")
		limit = fs.Int("limit", 50, "entries to show, newest first (0 for all)")
	default:
		fmt.Fprintln(stderr, usage)
		return fmt.Errorf("unknown command models %s", cmd)
	}
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if *db == "" {
		return errors.New("--db is required")
	}
	if fs.NArg() != wantArgs {
		if wantArgs == 1 {
			return fmt.Errorf("models %s: want exactly one model: a checksum, 8 or more of its hex digits, or a version (see models list)", cmd)
		}
		return fmt.Errorf("models %s: unexpected arguments %q", cmd, fs.Args())
	}
	var artifact []byte
	if cmd == "register" {
		if *file == "" {
			return errors.New("--file is required")
		}
		b, err := os.ReadFile(*file)
		if err != nil {
			return err
		}
		artifact = b
	}
	st, err := store.Open(ctx, *db, store.Config{})
	if err != nil {
		return err
	}
	defer st.Close()
	reg, err := registry.New(registry.Config{Store: st})
	if err != nil {
		return err
	}
	switch cmd {
	case "register":
		rec, created, err := reg.Register(ctx, artifact, *actorName)
		if err != nil {
			return fmt.Errorf("%s: %w", *file, err)
		}
		what := "registered"
		if !created {
			what = "already registered"
		}
		fmt.Fprintf(stdout, "%s %s (%s): %s\n", what, rec.Checksum, rec.Version, rec.Summary)
		if *promote {
			ev, err := reg.Promote(ctx, rec.Checksum, *actorName, *reason)
			if err != nil {
				return err
			}
			printEvent(stdout, ev)
		}
		return nil
	case "list":
		return listModels(ctx, reg, *asJSON, stdout)
	case "history":
		return history(ctx, reg, *limit, *asJSON, stdout)
	}
	var ev icp.ModelEvent
	switch cmd {
	case "promote":
		ev, err = reg.Promote(ctx, fs.Arg(0), *actorName, *reason)
	case "shadow":
		ev, err = reg.Shadow(ctx, fs.Arg(0), *actorName, *reason)
	case "rollback":
		ev, err = reg.Rollback(ctx, *actorName, *reason)
	default:
		ev, err = reg.Unshadow(ctx, *actorName, *reason)
	}
	if err != nil {
		return err
	}
	printEvent(stdout, ev)
	return nil
}

// defaultActor is the user and host running the command.
func defaultActor() string {
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return "icpctl " + name + "@" + host
}

// printEvent prints one change as a sentence.
func printEvent(w io.Writer, ev icp.ModelEvent) {
	switch {
	case ev.Action == icp.ActionUnshadow:
		fmt.Fprintf(w, "%s: shadow removed (was %s)\n", ev.Action, orNone(ev.Previous))
	default:
		fmt.Fprintf(w, "%s: %s is now %s (was %s)\n", ev.Action, ev.Alias, ev.Checksum, orNone(ev.Previous))
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// listModels prints the registered versions.
func listModels(ctx context.Context, reg *registry.Registry, asJSON bool, stdout io.Writer) error {
	list, err := reg.Models(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		if list == nil {
			list = []icp.ModelRecord{}
		}
		return writeJSON(stdout, list)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECKSUM\tVERSION\tALIASES\tREGISTERED\tBY\tSUMMARY")
	for _, m := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Checksum, m.Version, orNone(strings.Join(m.Aliases, ",")),
			m.RegisteredAt.Format(time.RFC3339), m.RegisteredBy, m.Summary)
	}
	return tw.Flush()
}

// history prints the latest history entries.
func history(ctx context.Context, reg *registry.Registry, limit int, asJSON bool, stdout io.Writer) error {
	events, err := reg.History(ctx, limit)
	if err != nil {
		return err
	}
	if asJSON {
		if events == nil {
			events = []icp.ModelEvent{}
		}
		return writeJSON(stdout, events)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "AT\tACTOR\tACTION\tALIAS\tCHECKSUM\tPREVIOUS\tRESULT\tDETAIL")
	for _, ev := range events {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ev.At.Format(time.RFC3339), ev.Actor, ev.Action,
			orNone(ev.Alias), short(ev.Checksum), short(ev.Previous), ev.Result, ev.Detail)
	}
	return tw.Flush()
}

// short is the first 12 hex digits of a checksum, enough to name it.
func short(sum string) string {
	hex := strings.TrimPrefix(sum, "sha256:")
	if len(hex) > 12 {
		return hex[:12]
	}
	return orNone(hex)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
