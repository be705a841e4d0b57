//go:build unix

package icp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestREADME runs the code blocks of README.md, in order, in a copy of the
// repository, and fails when a command fails or when the output the README
// shows for it no longer has the same structure.
//
// # Which blocks run
//
//   - A ```sh block is run with bash (set -euo pipefail); its standard
//     output is kept for an output block that follows.
//   - A ```console block is a transcript: each "$ " line (with the lines
//     after it while it ends in a backslash) is a command, run with its
//     standard error joined to its standard output, and the lines up to the
//     next "$ " line are that output. A command must succeed unless the
//     next one is "echo $?", whose shown output is then its exit status.
//   - A block preceded by the line <!-- not run: REASON --> is not run; the
//     reason is required, and the list of such blocks is kept short
//     (PostgreSQL, Jupyter, make test itself).
//   - A block preceded by <!-- output --> is the output of the last sh
//     block run before it: a ```json block must have the same structure as
//     that output (the same keys, values of the same types; numbers and
//     strings may differ; an array shown shorter than the real one is cut,
//     and each element shown must match one of the real ones), and any
//     other block the same lines once numbers (and hex digests) are masked.
//   - Every other block (```json, ```sql, plain ```) is illustrative: a
//     request body, a file's format, an answer abridged with "…". One that
//     holds a "$ " line fails the test: a transcript must be a console
//     block, so that it runs.
//
// In shown text, a line "..." stands for any number of lines and "…"
// within a line for any text. Every number is masked, so figures that vary
// from run to run (durations, rows per second) match, and so do hex
// digests (model versions, checksums).
//
// # How they run
//
// The binaries are built once into bin/ of the copy, which is first on
// PATH, and "go run ./cmd/NAME" runs bin/NAME. A line ending in the comment
// "# background" starts a long-running command (serve): the test runs it in
// the background, waits until /readyz answers, and stops it (SIGTERM)
// before the next block that starts one, and at the end. The address
// 127.0.0.1:8080 is replaced by a free port, which the servers also get
// as ICP_ADDR (the default of --addr), and ICP_DRAIN_DELAY=0s so that they
// stop at once. Variables exported by a
// block, and its working directory, carry over to the next. make test runs
// this test; go test -short skips it.
func TestREADME(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the README's commands")
	}
	for _, tool := range []string{"bash", "curl", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			skipWithNotice(t, "TestREADME", tool+" is not installed: the README's commands were not run")
		}
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := parseBlocks(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	repo := copyRepo(t)
	if err := buildCommands(filepath.Join(repo, "bin")); err != nil {
		t.Fatal(err)
	}
	r := newREADMERunner(t, repo)
	defer r.stopBackground()
	var last *block // the last sh block run, for an output block
	var lastOut string
	for i := range blocks {
		b := &blocks[i]
		switch b.kind {
		case kindNotRun:
			t.Logf("README.md:%d: not run: %s", b.line, b.reason)
		case kindIllustrative:
			if transcript.MatchString(b.text) {
				t.Errorf("README.md:%d: a block with a \"$ \" command line is not run: make it a console block, or mark it <!-- not run: REASON -->", b.line)
			}
		case kindSh:
			out, err := r.runSh(b)
			if err != nil {
				t.Fatalf("README.md:%d: %v", b.line, err)
			}
			last, lastOut = b, out
		case kindConsole:
			if err := r.runConsole(b); err != nil {
				t.Fatalf("README.md:%d: %v", b.line, err)
			}
			last = nil
		case kindOutput:
			if last == nil {
				t.Errorf("README.md:%d: an output block must follow an sh block that runs", b.line)
				continue
			}
			if err := compareOutput(b, lastOut); err != nil {
				t.Errorf("README.md:%d: the output shown differs from that of the block at line %d: %v", b.line, last.line, err)
			}
		}
	}
}

// skipWithNotice skips the test, leaving a notice that make test prints
// (see the Makefile) when ICP_TEST_NOTICES names a directory.
func skipWithNotice(t *testing.T, name, why string) {
	t.Helper()
	if dir := os.Getenv("ICP_TEST_NOTICES"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, name), []byte(name+": skipped: "+why+"\n"), 0o644)
	}
	t.Skip(why)
}

// The kinds of README blocks (see TestREADME).
const (
	kindSh = iota
	kindConsole
	kindOutput
	kindNotRun
	kindIllustrative
)

// block is one fenced code block of the README.
type block struct {
	line   int // of the opening fence, 1-based
	info   string
	text   string
	kind   int
	reason string // why a block is not run
}

var (
	fence      = regexp.MustCompile("^(```+)\\s*([A-Za-z0-9_-]*)\\s*$")
	notRun     = regexp.MustCompile(`^<!--\s*not run:\s*(.*?)\s*-->$`)
	outputMark = regexp.MustCompile(`^<!--\s*output\s*-->$`)
	transcript = regexp.MustCompile(`(?m)^\$ `)
	background = regexp.MustCompile(`(?m)^(.*\S)\s+#\s*background\b.*$`)
	goRun      = regexp.MustCompile(`\bgo run \./cmd/([a-z]+)\b`)
)

// parseBlocks returns the fenced code blocks of a Markdown text, each
// classified by its info string and the marker comment on the last
// non-blank line before it.
func parseBlocks(md string) ([]block, error) {
	lines := strings.Split(md, "\n")
	var blocks []block
	prev := "" // the last non-blank line outside blocks
	for i := 0; i < len(lines); i++ {
		m := fence.FindStringSubmatch(lines[i])
		if m == nil {
			if s := strings.TrimSpace(lines[i]); s != "" {
				prev = s
			}
			continue
		}
		b := block{line: i + 1, info: m[2]}
		j := i + 1
		for ; j < len(lines) && strings.TrimSpace(lines[j]) != m[1]; j++ {
		}
		if j == len(lines) {
			return nil, fmt.Errorf("README.md:%d: a code block is never closed", i+1)
		}
		b.text = strings.Join(lines[i+1:j], "\n")
		switch nr := notRun.FindStringSubmatch(prev); {
		case nr != nil:
			b.kind, b.reason = kindNotRun, nr[1]
			if b.reason == "" {
				return nil, fmt.Errorf("README.md:%d: <!-- not run: --> needs a reason", b.line)
			}
		case outputMark.MatchString(prev):
			b.kind = kindOutput
		case b.info == "sh":
			b.kind = kindSh
		case b.info == "console":
			b.kind = kindConsole
		default:
			b.kind = kindIllustrative
		}
		blocks = append(blocks, b)
		prev = ""
		i = j
	}
	return blocks, nil
}

// copyRepo copies the repository's files into a temporary directory: the
// files git tracks and the new ones it does not ignore (but for those at
// the top and in data/, which the README's commands write), or every file
// without git.
func copyRepo(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "repo")
	var files []string
	tracked, err := exec.Command("git", "ls-files", "-c", "-z").Output()
	if err == nil {
		for _, f := range strings.Split(string(tracked), "\x00") {
			if f != "" {
				files = append(files, f)
			}
		}
		// New files not yet committed, but not what following the README
		// by hand leaves at the top (a store, generated tables) or in
		// data/.
		others, err := exec.Command("git", "ls-files", "-o", "--exclude-standard", "-z").Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range strings.Split(string(others), "\x00") {
			if strings.Contains(f, "/") && !strings.HasPrefix(f, "data/") {
				files = append(files, f)
			}
		}
	} else {
		err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "." || slices.Contains([]string{"bin", "tmp", "models"}, path)) {
				return filepath.SkipDir
			}
			if d.Type().IsRegular() {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted in the work tree
		}
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		to := filepath.Join(dst, f)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, st.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// buildCommands builds every command of cmd/ once per test binary and
// copies them into dir.
func buildCommands(dir string) error {
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "icp-commands-")
		if buildErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", buildDir+string(filepath.Separator), "./cmd/...").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/...: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		return buildErr
	}
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(buildDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(buildDir, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// readmeRunner runs the blocks in the copy of the repository.
type readmeRunner struct {
	t     *testing.T
	repo  string
	work  string // state, logs and scripts
	addr  string
	env   []string
	count int
}

func newREADMERunner(t *testing.T, repo string) *readmeRunner {
	work := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	// A clean environment: none of the caller's ICP_ variables (a key, a
	// store) reaches the commands.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ICP_") && !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"PATH="+filepath.Join(repo, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"),
		"ICP_DRAIN_DELAY=0s",
		"ICP_ADDR="+addr,
		"ICP_README_STATE="+filepath.Join(work, "state.sh"),
		"ICP_README_PIDS="+filepath.Join(work, "pids"),
		"ICP_README_BGLOG="+filepath.Join(work, "background.log"),
		"ICP_README_ADDR="+addr,
	)
	return &readmeRunner{t: t, repo: repo, work: work, addr: addr, env: env}
}

// prelude starts every script: the state of the block before, and the
// function that waits for a background command to be ready.
const prelude = `if [ -f "$ICP_README_STATE" ]; then source "$ICP_README_STATE"; fi
icp_background() {
  echo "$1" >>"$ICP_README_PIDS"
  for _ in $(seq 1 300); do
    if curl -fsS -o /dev/null "http://$ICP_README_ADDR/readyz" 2>/dev/null; then return 0; fi
    if ! kill -0 "$1" 2>/dev/null; then echo "the background command stopped:" >&2; tail -20 "$ICP_README_BGLOG" >&2; return 1; fi
    sleep 0.1
  done
  echo "the background command was not ready within 30s:" >&2
  tail -20 "$ICP_README_BGLOG" >&2
  return 1
}
`

// epilogue saves the exported variables and the working directory.
const epilogue = `
{ export -p | grep -v ' ICP_README_\| PATH=\| OLDPWD\| PWD=\| SHLVL='; printf 'cd %q\n' "$PWD"; } >"$ICP_README_STATE"
`

// rewrite turns a block's commands into what the test runs: the built
// binaries for go run, the test's port, background commands.
func (r *readmeRunner) rewrite(text string) string {
	text = goRun.ReplaceAllString(text, "$1")
	text = strings.ReplaceAll(text, "127.0.0.1:8080", r.addr)
	return background.ReplaceAllString(text, "$1 >>\"$$ICP_README_BGLOG\" 2>&1 &\nicp_background $$!")
}

// runSh runs an sh block and returns its standard output.
func (r *readmeRunner) runSh(b *block) (string, error) {
	if background.MatchString(b.text) {
		r.stopBackground()
	}
	script := "set -euo pipefail\n" + prelude + r.rewrite(b.text) + "\n" + epilogue
	stdout, stderr, err := r.bash(script)
	if err != nil {
		return "", fmt.Errorf("%v\nscript:\n%s\nstdout:\n%s\nstderr:\n%s", err, r.rewrite(b.text), tail(stdout), tail(stderr))
	}
	return stdout, nil
}

// consoleCommand is one command of a transcript and the output shown.
type consoleCommand struct {
	cmd, shown string
}

// runConsole runs a transcript and compares each command's output.
func (r *readmeRunner) runConsole(b *block) error {
	var cmds []consoleCommand
	lines := strings.Split(b.text, "\n")
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "$ ") {
			if len(cmds) == 0 {
				return fmt.Errorf("a console block must start with a \"$ \" command")
			}
			cmds[len(cmds)-1].shown += lines[i] + "\n"
			continue
		}
		cmd := strings.TrimPrefix(lines[i], "$ ")
		for strings.HasSuffix(cmd, "\\") && i+1 < len(lines) {
			i++
			cmd += "\n" + lines[i]
		}
		cmds = append(cmds, consoleCommand{cmd: cmd})
	}
	if background.MatchString(b.text) {
		r.stopBackground()
	}
	r.count++
	outDir := filepath.Join(r.work, "console-"+strconv.Itoa(r.count))
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	var script strings.Builder
	script.WriteString("set -o pipefail\n" + prelude)
	for k, c := range cmds {
		out := filepath.Join(outDir, strconv.Itoa(k))
		fmt.Fprintf(&script, "{ %s\n} >%q 2>&1\nicp_status=$?\necho $icp_status >%q\n(exit $icp_status)\n", r.rewrite(c.cmd), out, out+".status")
	}
	script.WriteString(epilogue)
	if _, stderr, err := r.bash(script.String()); err != nil {
		return fmt.Errorf("%v\n%s", err, tail(stderr))
	}
	for k, c := range cmds {
		out := filepath.Join(outDir, strconv.Itoa(k))
		got, err := os.ReadFile(out)
		if err != nil {
			return fmt.Errorf("$ %s: did not run: %v", c.cmd, err)
		}
		st, err := os.ReadFile(out + ".status")
		if err != nil {
			return err
		}
		status := strings.TrimSpace(string(st))
		shownStatus := k+1 < len(cmds) && strings.TrimSpace(cmds[k+1].cmd) == "echo $?"
		if status != "0" && !shownStatus {
			return fmt.Errorf("$ %s: exit status %s\n%s", c.cmd, status, tail(string(got)))
		}
		if strings.TrimSpace(c.cmd) == "echo $?" {
			// An exit status is shown as it is, never masked.
			if g, w := strings.TrimSpace(string(got)), strings.TrimSpace(c.shown); g != w {
				return fmt.Errorf("$ %s after $ %s: %s, shown %s", c.cmd, cmds[k-1].cmd, g, w)
			}
			continue
		}
		if err := matchText(c.shown, string(got)); err != nil {
			return fmt.Errorf("$ %s: the output shown differs: %v\noutput:\n%s", c.cmd, err, tail(string(got)))
		}
	}
	return nil
}

// bash runs a script in the copy of the repository (or the directory the
// state moved to) within a deadline.
func (r *readmeRunner) bash(script string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Dir, cmd.Env = r.repo, r.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("still running after 3 minutes: %w", err)
	}
	return o.String(), e.String(), err
}

// stopBackground stops the background commands started so far: SIGTERM,
// then SIGKILL after 30 s.
func (r *readmeRunner) stopBackground() {
	path := filepath.Join(r.work, "pids")
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil || pid <= 0 {
			continue
		}
		if syscall.Kill(pid, syscall.SIGTERM) != nil {
			continue
		}
		deadline := time.Now().Add(30 * time.Second)
		for syscall.Kill(pid, 0) == nil {
			if time.Now().After(deadline) {
				r.t.Errorf("background process %d still running 30s after SIGTERM", pid)
				syscall.Kill(pid, syscall.SIGKILL)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	os.Remove(path)
}

// tail is the end of a long output.
func tail(s string) string {
	const max = 4000
	if len(s) > max {
		return "…" + s[len(s)-max:]
	}
	return s
}

// compareOutput compares an output block with the output it shows.
func compareOutput(b *block, got string) error {
	if b.info != "json" {
		return matchText(b.text, got)
	}
	var shown, real any
	if err := json.Unmarshal([]byte(b.text), &shown); err != nil {
		return fmt.Errorf("the block is not JSON: %v", err)
	}
	if err := json.Unmarshal([]byte(got), &real); err != nil {
		return fmt.Errorf("the output is not JSON (%v):\n%s", err, tail(got))
	}
	if diffs := sameShape("", shown, real); len(diffs) > 0 {
		return fmt.Errorf("%s\noutput:\n%s", strings.Join(diffs, "\n"), tail(got))
	}
	return nil
}

// sameShape lists where got differs in structure from shown: keys, and
// the types of values.
func sameShape(path string, shown, got any) []string {
	switch s := shown.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: shown an object, is %s", orRoot(path), jsonType(got))}
		}
		var diffs []string
		for k := range s {
			if _, ok := g[k]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s.%s: shown, absent from the output", orRoot(path), k))
			}
		}
		for k := range g {
			if _, ok := s[k]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s.%s: in the output, not shown", orRoot(path), k))
			}
		}
		for k, v := range s {
			if gv, ok := g[k]; ok {
				diffs = append(diffs, sameShape(path+"."+k, v, gv)...)
			}
		}
		slices.Sort(diffs)
		return diffs
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: shown an array, is %s", orRoot(path), jsonType(got))}
		}
		if len(s) > len(g) {
			return []string{fmt.Sprintf("%s: shown %d elements, the output has %d", orRoot(path), len(s), len(g))}
		}
		var diffs []string
		for i, e := range s {
			if !slices.ContainsFunc(g, func(ge any) bool { return len(sameShape("", e, ge)) == 0 }) {
				diffs = append(diffs, fmt.Sprintf("%s[%d]: no element of the output has its structure", orRoot(path), i))
			}
		}
		return diffs
	}
	if jsonType(shown) != jsonType(got) {
		return []string{fmt.Sprintf("%s: shown %s, is %s", orRoot(path), jsonType(shown), jsonType(got))}
	}
	return nil
}

func orRoot(path string) string {
	if path == "" {
		return "(top)"
	}
	return path
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	}
	return "an object"
}

var (
	hexDigest = regexp.MustCompile(`\b[0-9a-f]{8,}\b`)
	number    = regexp.MustCompile(`[0-9][0-9.,]*`)
)

// mask replaces hex digests by "#" and numbers by "0".
func mask(line string) string {
	line = hexDigest.ReplaceAllStringFunc(line, func(s string) string {
		if strings.ContainsAny(s, "0123456789") {
			return "#"
		}
		return s
	})
	return number.ReplaceAllString(line, "0")
}

// matchText matches the text shown against the real output, line by
// line once masked, "..." lines standing for any lines and "…" for any
// text within a line.
func matchText(shown, got string) error {
	want := splitLines(shown)
	have := splitLines(got)
	pats := make([]*regexp.Regexp, len(want))
	for i, w := range want {
		if w == "..." {
			continue
		}
		parts := strings.Split(mask(w), "…")
		for k := range parts {
			parts[k] = regexp.QuoteMeta(parts[k])
		}
		pats[i] = regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
	}
	for i := range have {
		have[i] = mask(have[i])
	}
	// best is the furthest line of want matched, for the message.
	best := 0
	memo := map[[2]int]bool{}
	var match func(i, j int) bool
	match = func(i, j int) bool {
		if v, ok := memo[[2]int{i, j}]; ok {
			return v
		}
		var ok bool
		switch {
		case i == len(want):
			ok = j == len(have)
		case want[i] == "...":
			ok = match(i+1, j) || j < len(have) && match(i, j+1)
		default:
			ok = j < len(have) && pats[i].MatchString(have[j]) && match(i+1, j+1)
			if j < len(have) && pats[i].MatchString(have[j]) {
				best = max(best, i+1)
			}
		}
		memo[[2]int{i, j}] = ok
		return ok
	}
	if match(0, 0) {
		return nil
	}
	if best < len(want) {
		return fmt.Errorf("no output line matches the shown line %d, %q (numbers masked)", best+1, want[best])
	}
	return fmt.Errorf("the output has more lines than shown")
}

// splitLines splits text into lines without trailing white space or
// trailing blank lines.
func splitLines(s string) []string {
	lines := strings.Split(strings.TrimRight(s, "\n \t"), "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " \t\r")
	}
	if len(lines) == 1 && lines[0] == "" {
		return nil
	}
	return lines
}
