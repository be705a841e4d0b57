package cli

import (
	"flag"
	"fmt"
	"slices"
	"strings"
)

// Env sets the flags not given on the command line from environment
// variables named after them: with the prefix "ICP_", --max-body-bytes
// is ICP_MAX_BODY_BYTES and --db is ICP_DB. A flag on the command line
// wins over its variable, and a variable set to the empty string counts
// as unset. Only a main reads the environment: it passes os.LookupEnv as
// Lookup, and tests pass a map's lookup.
type Env struct {
	// Prefix starts every variable's name, e.g. "ICP_".
	Prefix string
	// Lookup reads a variable; nil reads none.
	Lookup func(name string) (string, bool)
}

// Name returns the variable of the flag named flagName.
func (e *Env) Name(flagName string) string {
	return e.Prefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Apply sets every flag of fs that the command line did not set and whose
// variable is set, and returns the names of the variables it used, in
// flag order. An error names the variable and its flag, never its value,
// which may be a secret (a PostgreSQL URL with a password).
func (e *Env) Apply(fs *flag.FlagSet) ([]string, error) {
	if e == nil || e.Lookup == nil {
		return nil, nil
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var used []string
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || given[f.Name] || f.Name == "version" {
			return
		}
		name := e.Name(f.Name)
		v, ok := e.Lookup(name)
		if !ok || v == "" {
			return
		}
		if serr := fs.Set(f.Name, v); serr != nil {
			err = fmt.Errorf("environment variable %s (--%s): %v", name, f.Name, serr)
			return
		}
		used = append(used, name)
	})
	return used, err
}

// Names returns the variable of every flag of fs but --version, in flag
// name order, for documentation.
func (e *Env) Names(fs *flag.FlagSet) []string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name != "version" {
			names = append(names, e.Name(f.Name))
		}
	})
	slices.Sort(names)
	return names
}
