package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/internal/cli"
	"github.com/icpengine/icp/registry"
	"github.com/icpengine/icp/store"
)

// modelsCommand describes a models subcommand, with the number of
// positional arguments it takes; nil for an unknown one.
func modelsCommand(sub string) (*cli.Command, int) {
	c := &cli.Command{Name: "icpctl models " + sub,
		Notes: "REF is a checksum, 8 or more of its hex digits, or a version name (as train's " +
			"--model-version, or m- and 12 hex digits). Every change is recorded in the store's history " +
			"under --actor; serve replicas sharing the store follow the champion within their " +
			"--model-poll. Exit status: 0 on success, 1 when the command failed, 2 for a bad command line."}
	args := 0
	switch sub {
	case "register":
		c.Summary = "models register validates a model artifact written by train (decoded, checksum " +
			"verified, structure and parameters checked, warmed up) and stores it as an immutable " +
			"version of the registry; --promote then makes it the champion that serve replicas score with."
		c.Usage = []string{"icpctl models register --db DB --file FILE [--promote] [--reason TEXT]"}
		c.Example = "icpctl models register --db icp.db --file models/2026q4/model.json --promote --reason \"q4 retrain\""
	case "list":
		c.Summary = "models list prints the registered versions: checksum, version name, the aliases " +
			"pointing at each (champion, shadow), when and by whom it was registered, and a summary."
		c.Usage = []string{"icpctl models list --db DB [--json]"}
		c.Example = "icpctl models list --db icp.db"
	case "promote":
		c.Summary = "models promote makes a registered version the champion, after validating it again."
		c.Usage = []string{"icpctl models promote --db DB [--reason TEXT] REF"}
		c.Example = "icpctl models promote --db icp.db --reason \"q4 retrain\" 2026q4"
		args = 1
	case "rollback":
		c.Summary = "models rollback points the champion back at the version its last promotion " +
			"replaced; run again, it walks further back."
		c.Usage = []string{"icpctl models rollback --db DB [--reason TEXT]"}
		c.Example = "icpctl models rollback --db icp.db --reason \"tier 1 win rate fell\""
	case "shadow":
		c.Summary = "models shadow makes a registered version the challenger: replicas score a sample " +
			"of their traffic with it too, and log and count how its answers differ, never returning them."
		c.Usage = []string{"icpctl models shadow --db DB [--reason TEXT] REF"}
		c.Example = "icpctl models shadow --db icp.db 2026q4"
		args = 1
	case "unshadow":
		c.Summary = "models unshadow removes the challenger."
		c.Usage = []string{"icpctl models unshadow --db DB [--reason TEXT]"}
		c.Example = "icpctl models unshadow --db icp.db"
	case "history":
		c.Summary = "models history prints the registry's append-only history, newest first: who " +
			"registered, promoted, rolled back or shadowed what, when and with what result, and each " +
			"replica's loads."
		c.Usage = []string{"icpctl models history --db DB [--limit N] [--json]"}
		c.Example = "icpctl models history --db icp.db --limit 20"
	default:
		return nil, 0
	}
	return c, args
}

// runModels executes one models command; dbDefault is --db's default.
func runModels(ctx context.Context, sub string, rest []string, dbDefault string, stdout, stderr io.Writer) error {
	c, wantArgs := modelsCommand(sub)
	if c == nil {
		return cli.Usagef("unknown command models %s: want register, list, promote, rollback, shadow, unshadow or history", sub)
	}
	fs := c.FlagSet()
	db := dbFlag(fs)
	actorName := fs.String("actor", defaultActor(), "who makes the change, as the history records it")
	var (
		file, reason *string
		promote      *bool
		asJSON       *bool
		limit        *int
	)
	switch sub {
	case "register":
		file = fs.String("file", "", "model artifact `file` written by train (required)")
		promote = fs.Bool("promote", false, "make it the champion once registered")
		reason = fs.String("reason", "", "why, for the history")
	case "promote", "shadow", "rollback", "unshadow":
		reason = fs.String("reason", "", "why, for the history")
	case "list":
		asJSON = fs.Bool("json", false, "print JSON instead of a table")
	case "history":
		asJSON = fs.Bool("json", false, "print JSON instead of a table")
		limit = fs.Int("limit", 50, "entries to show, newest first (0 for all)")
	}
	if err := c.Parse(fs, rest, stdout, true); err != nil {
		return err
	}
	if *db == "" {
		*db = dbDefault
	}
	if *db == "" {
		return cli.Usagef("--db is required (or the environment variable %s)", dbEnv)
	}
	if fs.NArg() != wantArgs {
		if wantArgs == 1 {
			return cli.Usagef("models %s: want exactly one model: a checksum, 8 or more of its hex digits, or a version (see models list)", sub)
		}
		return cli.Usagef("models %s: unexpected arguments %q", sub, fs.Args())
	}
	cmd := sub
	var artifact []byte
	if cmd == "register" {
		if *file == "" {
			return cli.Usagef("--file is required")
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
