package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/rollup"
)

// tableFlags are the flags of a two-table export: accounts and deals (or
// churn events) instead of --data.
type tableFlags struct {
	accounts, deals, churn, joinKey *string
}

func addTableFlags(fs *flag.FlagSet) tableFlags {
	return tableFlags{
		accounts: fs.String("accounts", "", "accounts table (a `file`) of a two-table export (with --deals and/or --churn, instead of --data)"),
		deals:    fs.String("deals", "", "deals (opportunities) table `file`, many per account: gives the account-level outcome"),
		churn:    fs.String("churn", "", "churn events table `file`, by account: an account with an event churned on its first event's date"),
		joinKey:  fs.String("join-key", "", `key joining the tables, "ACCOUNTS_COLUMN=DEALS_COLUMN" or one name for both (default: found by value overlap)`),
	}
}

// readTraining reads --data, or --accounts joined with --deals and
// --churn; the override then names the derived outcome columns, under the
// user's own.
func readTraining(rd *reading, data string, tf tableFlags, user *features.Override, stdout io.Writer) (*datasets.Table, *features.Override, string, error) {
	if *tf.accounts == "" {
		if *tf.deals != "" || *tf.churn != "" || *tf.joinKey != "" {
			return nil, nil, "", errors.New("--deals, --churn and --join-key need --accounts")
		}
		t, err := rd.table(data)
		return t, user, data, err
	}
	if data != "" {
		return nil, nil, "", errors.New("--data and --accounts are exclusive")
	}
	if *tf.deals == "" && *tf.churn == "" {
		return nil, nil, "", errors.New("--accounts needs --deals, --churn or both")
	}
	accounts, err := rd.table(*tf.accounts)
	if err != nil {
		return nil, nil, "", err
	}
	var deals, churn *datasets.Table
	if *tf.deals != "" {
		if deals, err = rd.table(*tf.deals); err != nil {
			return nil, nil, "", err
		}
	}
	if *tf.churn != "" {
		if churn, err = rd.table(*tf.churn); err != nil {
			return nil, nil, "", err
		}
	}
	var cfg rollup.Config
	if k := *tf.joinKey; k != "" {
		cfg.AccountKey, cfg.DealKey, _ = strings.Cut(k, "=")
		cfg.AccountKey, cfg.DealKey = strings.TrimSpace(cfg.AccountKey), strings.TrimSpace(cfg.DealKey)
	}
	t, rep, err := rollup.Join(accounts, deals, churn, cfg)
	if err != nil {
		return nil, nil, "", err
	}
	printJoin(stdout, rep, *tf.deals, *tf.churn)
	return t, rollup.Merge(user, rep.Override), *tf.accounts, nil
}

// printJoin says what the join found.
func printJoin(w io.Writer, r *rollup.Report, deals, churn string) {
	if deals != "" {
		st := r.Stats
		fmt.Fprintf(w, "joined %s on %q = %q (%.0f%% of the deals' keys are accounts): %d deals, %d without an account\n",
			deals, r.AccountKey, r.DealKey, 100*r.KeyOverlap, st.Deals, st.Orphans)
		if r.Stage != "" {
			var vals []string
			for v, m := range r.StageValues {
				vals = append(vals, v+" = "+m)
			}
			sort.Strings(vals)
			fmt.Fprintf(w, "  stage %q: %s\n", r.Stage, strings.Join(vals, ", "))
		} else {
			fmt.Fprintln(w, "  no stage column: every deal counts as won (a table of sales or subscriptions)")
		}
		fmt.Fprintf(w, "  close date %s, created %s, amount %s\n", orNone(r.CloseDate), orNone(r.Created), orNone(r.Amount))
		fmt.Fprintf(w, "  accounts: %d won (a deal closed won), %d lost (every closed deal lost), %d open (scored, not trained on), %d without deals\n",
			st.Won, st.Lost, st.Open, st.NoDeals)
		if st.DuplicateKeys > 0 || st.MissingKeys > 0 {
			fmt.Fprintf(w, "  %d accounts repeat a key (their deals go to the first), %d have none\n", st.DuplicateKeys, st.MissingKeys)
		}
		if len(r.LeftOut) > 0 {
			fmt.Fprintf(w, "  left out, never features: %s (deal columns are outcomes or not known to precede the sale)\n", strings.Join(r.LeftOut, ", "))
		}
	}
	if churn != "" {
		fmt.Fprintf(w, "joined %s on %q: %d accounts churned (first %q)\n", churn, r.EventKey, r.Churned, r.EventDate)
	}
	fmt.Fprintln(w)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return fmt.Sprintf("%q", s)
}
