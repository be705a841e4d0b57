//go:build linux || darwin

package main

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/datasets/synth"
)

// buildTrain compiles this command into dir.
func buildTrain(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "train")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestSignalStopsCleanly sends SIGTERM or SIGINT to a running train, while
// it reads its data (a named pipe that never ends) or fits its models: it
// must exit promptly with status 1, say it was interrupted, and leave no
// file, temporary or not, in the output directory.
func TestSignalStopsCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := buildTrain(t, dir)
	tab, _ := synth.Generate(synth.Config{Rows: 20000, Seed: 5})
	var csv bytes.Buffer
	if err := datasets.WriteCSV(&csv, tab); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.csv")
	if err := os.WriteFile(big, csv.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "pipe.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		data  string
		sig   syscall.Signal
		after string // the stderr text after which the signal is sent; "" sends it at once
	}{
		{"SIGTERM while reading", fifo, syscall.SIGTERM, ""},
		{"SIGINT while reading", fifo, syscall.SIGINT, ""},
		{"SIGTERM while fitting", big, syscall.SIGTERM, "train: fit logistic on"},
		{"SIGINT while fitting", big, syscall.SIGINT, "train: fit logistic on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A writer keeps the pipe open without ever closing it, so
			// the read never ends.
			if tt.data == fifo {
				w, err := os.OpenFile(fifo, os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer w.Close()
				if _, err := w.WriteString("account_id,industry,outcome\n"); err != nil {
					t.Fatal(err)
				}
			}
			out := filepath.Join(t.TempDir(), "models", "q4")
			cmd := exec.Command(bin, "--data", tt.data, "--out", out, "--quiet")
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var lines []string
			seen := make(chan struct{})
			// read is closed once stderr reaches its end: Wait closes the
			// pipe, so it may only be called after the last line is read.
			read := make(chan struct{})
			go func() {
				defer close(read)
				sc := bufio.NewScanner(stderr)
				once := false
				for sc.Scan() {
					lines = append(lines, sc.Text())
					if !once && tt.after != "" && strings.HasPrefix(sc.Text(), tt.after) {
						once = true
						close(seen)
					}
				}
				if !once {
					close(seen)
				}
			}()
			if tt.after != "" {
				<-seen
			} else {
				time.Sleep(300 * time.Millisecond)
			}
			sent := time.Now()
			if err := cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			select {
			case <-read:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("train still running 10s after %v", tt.sig)
			}
			took := time.Since(sent)
			werr := cmd.Wait()
			code := 0
			if ee, ok := errors.AsType[*exec.ExitError](werr); ok {
				code = ee.ExitCode()
			}
			text := strings.Join(lines, "\n")
			if code != 1 || !strings.Contains(text, "train: interrupted, nothing written") {
				t.Fatalf("exit status %d after %v, stderr:\n%s\nwant status 1 and the interruption said", code, tt.sig, text)
			}
			if took > 3*time.Second {
				t.Errorf("train took %v to stop after %v, want under 3s", took, tt.sig)
			}
			entries, err := os.ReadDir(filepath.Dir(out))
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			if len(entries) > 0 {
				t.Errorf("train left %v in %s after %v", entries, filepath.Dir(out), tt.sig)
			}
		})
	}
}
