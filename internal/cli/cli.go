package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
)

// Exit statuses of every command.
const (
	ExitOK      = 0 // done, or --help and --version answered
	ExitFailure = 1 // the run failed
	ExitUsage   = 2 // a bad command line
)

// ErrDone is Parse's answer when it has printed the help or the version:
// the command has nothing more to do, and Exit returns ExitOK.
var ErrDone = errors.New("done")

// ErrReported marks a failure that the command has already explained on
// standard error: Exit returns ExitFailure and prints nothing more. Wrap
// it (fmt.Errorf("...: %w", cli.ErrReported)) to keep a description.
var ErrReported = errors.New("failure already reported")

// UsageError is a bad command line: an unknown flag, a bad value, a
// missing argument. Exit prints it with a pointer to --help and returns
// ExitUsage.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// Exit reports err on stderr, prefixed once with the command's name, and
// returns the exit status: ExitOK for nil and ErrDone, ExitUsage for a
// UsageError, ExitFailure otherwise. Errors from library packages do not
// name the command; Exit does it, so that a message reads
// "train: read accounts.csv: line 3: ..." and never "train: train: ...".
func Exit(name string, err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, ErrDone):
		return ExitOK
	case errors.Is(err, ErrReported):
		return ExitFailure
	}
	if _, ok := errors.AsType[*UsageError](err); ok {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		fmt.Fprintf(stderr, "run '%s --help' for the flags and an example\n", name)
		return ExitUsage
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	return ExitFailure
}

// Command describes a command for its --help and --version.
type Command struct {
	// Name is the command as typed: "train", or "icpctl keys create".
	Name string
	// Summary is one paragraph saying what the command does.
	Summary string
	// Usage lists the synopsis lines, e.g. "train --data FILE --out DIR [flags]".
	Usage []string
	// Example is one or more command lines that work as shown.
	Example string
	// Notes, when set, is a paragraph printed after the flags.
	Notes string
	// VersionHint, when set, is what a value given to --version means to
	// say: the flag once named something else, and the message points to
	// its new name ("name the model with --model-version").
	VersionHint string
	// Env, when set, lets every flag not given on the command line come
	// from the environment (see Env); Parse applies it and the help names
	// each flag's variable.
	Env *Env
	// EnvUsed lists the variables Parse took flags from, for a log line
	// (names only: values may be secrets).
	EnvUsed []string
}

// FlagSet returns a flag set for the command that reports its errors to
// Parse instead of printing them, with --version defined.
func (c *Command) FlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Var(&versionFlag{hint: c.VersionHint}, "version", "print the version and build information, and exit")
	return fs
}

// Parse parses args into fs, made by FlagSet. It answers -h, -help and
// --help with the help on stdout, and --version with the version, both
// returning ErrDone; a parse error or positional arguments (unless
// allowArgs) become a UsageError. With c.Env, flags not given on the
// command line are then set from the environment.
func (c *Command) Parse(fs *flag.FlagSet, args []string, stdout io.Writer, allowArgs bool) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.WriteHelp(stdout, fs)
			return ErrDone
		}
		return &UsageError{Err: err}
	}
	if v, ok := fs.Lookup("version").Value.(*versionFlag); ok && v.set {
		if v.hint != "" && fs.NArg() > 0 {
			return Usagef("--version takes no value (%q): it prints the build information; %s", fs.Arg(0), v.hint)
		}
		WriteVersion(stdout, c.Name)
		return ErrDone
	}
	if !allowArgs && fs.NArg() > 0 {
		return Usagef("unexpected arguments %q", fs.Args())
	}
	if c.Env != nil {
		used, err := c.Env.Apply(fs)
		if err != nil {
			return &UsageError{Err: err}
		}
		c.EnvUsed = used
	}
	return nil
}

// WriteHelp writes the command's help: the summary, the usage, the
// example, then every flag with its description and default.
func (c *Command) WriteHelp(w io.Writer, fs *flag.FlagSet) {
	var b strings.Builder
	if c.Summary != "" {
		b.WriteString(wrap(c.Summary, 76))
		b.WriteString("\n\n")
	}
	b.WriteString("Usage:\n")
	usage := c.Usage
	if len(usage) == 0 {
		usage = []string{c.Name + " [flags]"}
	}
	for _, u := range usage {
		b.WriteString("  " + u + "\n")
	}
	if c.Example != "" {
		b.WriteString("\nExample:\n")
		for _, line := range strings.Split(strings.TrimRight(c.Example, "\n"), "\n") {
			b.WriteString("  " + line + "\n")
		}
	}
	b.WriteString("\nFlags:\n")
	writeFlags(&b, fs, c.Env)
	b.WriteString("  -h, --help\n        print this help, and exit\n")
	if c.Notes != "" {
		b.WriteString("\n" + wrap(c.Notes, 76) + "\n")
	}
	io.WriteString(w, b.String())
}

// writeFlags lists the flags of fs in name order, as flag.PrintDefaults
// does but with two dashes, and with each flag's environment variable.
func writeFlags(b *strings.Builder, fs *flag.FlagSet, env *Env) {
	var flags []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) { flags = append(flags, f) })
	sort.Slice(flags, func(i, j int) bool { return flags[i].Name < flags[j].Name })
	for _, f := range flags {
		name, usage := flag.UnquoteUsage(f)
		if _, ok := f.Value.(*versionFlag); ok {
			name = ""
		}
		fmt.Fprintf(b, "  --%s", f.Name)
		if name != "" {
			fmt.Fprintf(b, " %s", name)
		}
		b.WriteString("\n")
		text := usage
		if d := Default(f); d != "" {
			text += fmt.Sprintf(" (default %s)", d)
		}
		if env != nil && f.Name != "version" {
			text += fmt.Sprintf(" [$%s]", env.Name(f.Name))
		}
		for _, line := range strings.Split(wrap(text, 68), "\n") {
			b.WriteString("        " + line + "\n")
		}
	}
}

// Default returns the flag's default as the help shows it, "" for a zero
// value (an empty string, 0, false, 0s).
func Default(f *flag.Flag) string {
	switch f.DefValue {
	case "", "0", "false", "0s":
		return ""
	}
	if g, ok := f.Value.(flag.Getter); ok {
		if _, isStr := g.Get().(string); isStr {
			return fmt.Sprintf("%q", f.DefValue)
		}
	}
	return f.DefValue
}

// wrap fills text into lines of at most width bytes, breaking at spaces;
// existing line breaks are kept.
func wrap(text string, width int) string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			switch {
			case line == "":
				line = word
			case len(line)+1+len(word) > width:
				out = append(out, line)
				line = word
			default:
				line += " " + word
			}
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// versionFlag is --version: a boolean flag that refuses a value other
// than true or false, with a hint when the name once meant something else.
type versionFlag struct {
	set  bool
	hint string
}

func (v *versionFlag) String() string   { return "false" }
func (v *versionFlag) IsBoolFlag() bool { return true }
func (v *versionFlag) Get() any         { return v.set }

func (v *versionFlag) Set(s string) error {
	switch s {
	case "true", "1":
		v.set = true
	case "false", "0":
		v.set = false
	default:
		if v.hint != "" {
			return fmt.Errorf("takes no value (%q): it prints the build information; %s", s, v.hint)
		}
		return errors.New("takes no value")
	}
	return nil
}

// WriteVersion writes one line naming the command, the module's version,
// its VCS revision and the Go toolchain, from the binary's build
// information.
func WriteVersion(w io.Writer, name string) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	io.WriteString(w, Version(name, bi)+"\n")
}

// Version formats the version line of the build information bi (nil when
// the binary has none): "train v1.2.0 (github.com/icpengine/icp), revision
// 0123456789ab (modified), built 2026-12-07T12:00:00Z with go1.26.8
// linux/amd64". A binary built by go run or go test has the version
// "(devel)" and no revision.
func Version(name string, bi *debug.BuildInfo) string {
	if bi == nil {
		return fmt.Sprintf("%s: no build information (%s %s/%s)", name, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	}
	version := bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	var rev, when string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", name, version)
	if bi.Main.Path != "" {
		fmt.Fprintf(&b, " (%s)", bi.Main.Path)
	}
	if rev == "" {
		b.WriteString(", revision unknown")
	} else {
		fmt.Fprintf(&b, ", revision %s", rev)
		if modified {
			b.WriteString(" (modified)")
		}
	}
	if when != "" {
		fmt.Fprintf(&b, ", committed %s", when)
	}
	goVersion := bi.GoVersion
	if goVersion == "" {
		goVersion = runtime.Version()
	}
	fmt.Fprintf(&b, ", built with %s %s/%s", goVersion, runtime.GOOS, runtime.GOARCH)
	return b.String()
}
