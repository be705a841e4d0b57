// Command icpctl administers an ICP engine's store: API keys and model
// versions.
//
//	icpctl keys create --db icp.db --name crm-sync --scopes score,outcomes
//	icpctl keys list   --db icp.db [--json]
//	icpctl keys revoke --db icp.db ID
//
// keys create prints the new key once, on standard output, and never
// again: the store keeps only its visible prefix and SHA-256. Scopes are
// score, outcomes, read and admin (see package server for what each
// allows).
//
//	icpctl models register --db icp.db --file model.json [--promote] [--reason TEXT]
//	icpctl models list     --db icp.db [--json]
//	icpctl models promote  --db icp.db [--reason TEXT] REF
//	icpctl models rollback --db icp.db [--reason TEXT]
//	icpctl models shadow   --db icp.db [--reason TEXT] REF
//	icpctl models unshadow --db icp.db [--reason TEXT]
//	icpctl models history  --db icp.db [--limit N] [--json]
//
// REF is a checksum, 8 or more of its hex digits, or a model version
// (m-...). Every model is validated (decoded, checksum verified, warmed up)
// before it is registered, promoted or shadowed; every change is recorded
// in the store's history under --actor (default: the user and host). serve
// replicas sharing the store pick up a promotion within their --model-poll.
// --db is a SQLite file or a postgres:// URL, as for serve.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/auth"
	"github.com/icpengine/icp/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "icpctl:", err)
		}
		os.Exit(2)
	}
}

const usage = `usage:
  icpctl keys create --db DB --name NAME --scopes score,outcomes,read,admin,dashboard
  icpctl keys list   --db DB [--json]
  icpctl keys revoke --db DB ID
  icpctl models register --db DB --file FILE [--promote] [--reason TEXT]
  icpctl models list     --db DB [--json]
  icpctl models promote  --db DB [--reason TEXT] REF
  icpctl models rollback --db DB [--reason TEXT]
  icpctl models shadow   --db DB [--reason TEXT] REF
  icpctl models unshadow --db DB [--reason TEXT]
  icpctl models history  --db DB [--limit N] [--json]
  icpctl sql --model FILE --dialect postgres|duckdb [--table NAME] [--view NAME] [--create-table]`

// run executes one command, writing results to stdout and diagnostics to
// stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "sql" {
		return runSQL(args[1:], stdout, stderr)
	}
	if len(args) < 2 || args[0] != "keys" && args[0] != "models" {
		fmt.Fprintln(stderr, usage)
		return errors.New("want a command: keys create|list|revoke or models register|list|promote|rollback|shadow|unshadow|history")
	}
	if args[0] == "models" {
		return runModels(ctx, args[1], args[2:], stdout, stderr)
	}
	cmd, rest := args[1], args[2:]
	fs := flag.NewFlagSet("icpctl keys "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "store: a SQLite file or a postgres:// URL (required)")
	var (
		name, scopes *string
		asJSON       *bool
	)
	switch cmd {
	case "create":
		name = fs.String("name", "", "who uses the key, e.g. crm-sync (required)")
		scopes = fs.String("scopes", "", "comma-separated scopes: score, outcomes, read, admin, dashboard (required)")
	case "list":
		asJSON = fs.Bool("json", false, "print JSON instead of a table")
	case "revoke":
	default:
		fmt.Fprintln(stderr, usage)
		return fmt.Errorf("unknown command keys %s", cmd)
	}
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if *db == "" {
		return errors.New("--db is required")
	}
	// Checked before opening the store, so a typo creates no database file.
	var parsed []icp.Scope
	switch cmd {
	case "create":
		if strings.TrimSpace(*name) == "" {
			return errors.New("--name is required")
		}
		var err error
		if parsed, err = auth.ParseScopes(*scopes); err != nil {
			return fmt.Errorf("--scopes: %w", err)
		}
	case "revoke":
		if fs.NArg() != 1 {
			return errors.New("keys revoke: want exactly one key id (see keys list)")
		}
	}
	if fs.NArg() > 0 && cmd != "revoke" {
		return fmt.Errorf("keys %s: unexpected arguments %q", cmd, fs.Args())
	}
	st, err := store.Open(ctx, *db, store.Config{})
	if err != nil {
		return err
	}
	defer st.Close()
	switch cmd {
	case "create":
		return create(ctx, st, *name, parsed, stdout, stderr)
	case "list":
		return list(ctx, st, *asJSON, stdout)
	default:
		k, err := st.RevokeAPIKey(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked %s (%s) at %s\n", k.ID, k.Name, k.RevokedAt.Format(time.RFC3339))
		return nil
	}
}

// create makes and stores a key and prints it once.
func create(ctx context.Context, st *store.Store, name string, scopes []icp.Scope, stdout, stderr io.Writer) error {
	// A new prefix is drawn in the unlikely case that one is taken.
	for range 3 {
		key, rec, err := auth.Generate(name, scopes)
		if err != nil {
			return err
		}
		saved, err := st.CreateAPIKey(ctx, rec)
		if errors.Is(err, icp.ErrConflict) {
			continue
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "created %s (%s) with scopes %s; the key is shown once, store it now:\n",
			saved.ID, saved.Name, joinScopes(saved.Scopes))
		fmt.Fprintln(stdout, key)
		return nil
	}
	return errors.New("create key: prefix collisions three times in a row")
}

// list prints every key, revoked ones included.
func list(ctx context.Context, st *store.Store, asJSON bool, stdout io.Writer) error {
	keys, err := st.ListAPIKeys(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		if keys == nil {
			keys = []icp.APIKey{}
		}
		return writeJSON(stdout, keys)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPREFIX\tNAME\tSCOPES\tCREATED\tLAST USED\tSTATUS")
	for _, k := range keys {
		status := "active"
		if k.Revoked() {
			status = "revoked " + k.RevokedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Prefix, k.Name, joinScopes(k.Scopes),
			k.CreatedAt.Format(time.RFC3339), orNever(k.LastUsedAt), status)
	}
	return tw.Flush()
}

func joinScopes(scopes []icp.Scope) string {
	parts := make([]string, len(scopes))
	for i, s := range scopes {
		parts[i] = string(s)
	}
	return strings.Join(parts, ",")
}

func orNever(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Format(time.RFC3339)
}
