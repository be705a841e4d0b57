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
	"github.com/icpengine/icp/internal/cli"
	"github.com/icpengine/icp/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr)
	stop()
	os.Exit(cli.Exit("icpctl", err, os.Stderr))
}

// dbEnv is the environment variable --db defaults to, as serve's.
const dbEnv = "ICP_DB"

const usage = `Usage:
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

const summary = `icpctl administers an ICP engine's store, the SQLite file or PostgreSQL
database that serve shares with its replicas: API keys (created, listed,
revoked) and model versions (registered, promoted to champion, rolled
back, shadowed, and their history). It also prints a model as one SQL query
that scores accounts inside a warehouse. --db defaults to the environment
variable ICP_DB, which keeps a PostgreSQL password off the command line.`

const example = `Example:
  icpctl keys create --db icp.db --name crm-sync --scopes score,outcomes
  icpctl models register --db icp.db --file models/2026q4/model.json --promote

Run 'icpctl COMMAND SUBCOMMAND --help' for a command's flags, e.g.
'icpctl models promote --help'.

Exit status: 0 on success, 1 when the command failed, 2 for a bad command line.`

// run executes one command, writing results to stdout and diagnostics to
// stderr; lookupEnv reads ICP_DB.
func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return cli.Usagef("want a command: keys, models or sql")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintf(stdout, "%s\n\n%s\n\n%s\n", summary, usage, example)
		return cli.ErrDone
	case "-version", "--version":
		cli.WriteVersion(stdout, "icpctl")
		return cli.ErrDone
	case "sql":
		return runSQL(args[1:], stdout)
	case "keys", "models":
	default:
		return cli.Usagef("unknown command %q: want keys, models or sql", args[0])
	}
	if len(args) < 2 {
		return cli.Usagef("want a command: keys create|list|revoke or models register|list|promote|rollback|shadow|unshadow|history")
	}
	env := func(name string) string {
		if lookupEnv == nil {
			return ""
		}
		v, _ := lookupEnv(name)
		return v
	}
	if args[0] == "models" {
		return runModels(ctx, args[1], args[2:], env(dbEnv), stdout, stderr)
	}
	sub, rest := args[1], args[2:]
	cmd := keysCommand(sub)
	if cmd == nil {
		return cli.Usagef("unknown command keys %s: want create, list or revoke", sub)
	}
	fs := cmd.FlagSet()
	db := dbFlag(fs)
	var (
		name, scopes *string
		asJSON       *bool
	)
	switch sub {
	case "create":
		name = fs.String("name", "", "who uses the key, e.g. crm-sync (required)")
		scopes = fs.String("scopes", "", "comma-separated scopes: score, outcomes, read, admin, dashboard (required)")
	case "list":
		asJSON = fs.Bool("json", false, "print JSON instead of a table")
	}
	if err := cmd.Parse(fs, rest, stdout, sub == "revoke"); err != nil {
		return err
	}
	if *db == "" {
		*db = env(dbEnv)
	}
	if *db == "" {
		return cli.Usagef("--db is required (or the environment variable %s)", dbEnv)
	}
	// Checked before opening the store, so a typo creates no database file.
	var parsed []icp.Scope
	switch sub {
	case "create":
		if strings.TrimSpace(*name) == "" {
			return cli.Usagef("--name is required")
		}
		var err error
		if parsed, err = auth.ParseScopes(*scopes); err != nil {
			return cli.Usagef("--scopes: %v", err)
		}
	case "revoke":
		if fs.NArg() != 1 {
			return cli.Usagef("keys revoke: want exactly one key id (see keys list)")
		}
	}
	st, err := store.Open(ctx, *db, store.Config{})
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
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

// dbFlag defines --db on fs.
func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", "", "`store`: a SQLite file or a postgres:// URL (required; default $"+dbEnv+")")
}

// keysCommand describes a keys subcommand, nil for an unknown one.
func keysCommand(sub string) *cli.Command {
	c := &cli.Command{Name: "icpctl keys " + sub,
		Notes: "Exit status: 0 on success, 1 when the command failed, 2 for a bad command line."}
	switch sub {
	case "create":
		c.Summary = "keys create makes an API key with the given scopes and prints it once, alone on " +
			"standard output (the store keeps only its visible prefix and SHA-256). Scopes: score " +
			"(POST /v1/score and /v1/score/batch), outcomes (POST /v1/outcomes), read (the GET " +
			"routes and viewing the dashboard), admin (alert reviews, /v1/admin/*), dashboard " +
			"(signing in to the dashboard and reviewing alerts there). Name each key for who uses it: " +
			"the name is what access logs and alert reviews record."
		c.Usage = []string{"icpctl keys create --db DB --name NAME --scopes SCOPES"}
		c.Example = "export ICP_KEY=$(icpctl keys create --db icp.db --name crm-sync --scopes score,outcomes)"
	case "list":
		c.Summary = "keys list prints every API key of the store, revoked ones included: id, prefix, " +
			"name, scopes, when it was created and last used, and its status. Never the key itself."
		c.Usage = []string{"icpctl keys list --db DB [--json]"}
		c.Example = "icpctl keys list --db icp.db"
	case "revoke":
		c.Summary = "keys revoke revokes the key with the given id (see keys list): serve refuses it " +
			"within its --key-cache-ttl, and its dashboard sessions end."
		c.Usage = []string{"icpctl keys revoke --db DB ID"}
		c.Example = "icpctl keys revoke --db icp.db k-3f9a1c2e"
	default:
		return nil
	}
	return c
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
