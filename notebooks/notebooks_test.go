package notebooks

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/train"
)

// noticeEnv names the directory where a skipped suite leaves a notice;
// make test prints the notices after the tests, where they stay visible.
const noticeEnv = "ICP_TEST_NOTICES"

// skipWithNotice skips the test and leaves msg where make test prints it.
func skipWithNotice(t *testing.T, msg string) {
	t.Helper()
	if dir := os.Getenv(noticeEnv); dir != "" {
		line := "notebooks: " + msg + "\n"
		if err := os.WriteFile(filepath.Join(dir, "notebooks.txt"), []byte(line), 0o644); err != nil {
			t.Logf("write notice: %v", err)
		}
	}
	t.Skip(msg)
}

// kernel reports why Jupyter cannot run the notebooks here, or "" when it
// can: it runs a one-cell notebook that imports pandas and matplotlib.
func kernel(t *testing.T, jupyter string) string {
	t.Helper()
	dir := t.TempDir()
	probe := filepath.Join(dir, "probe.ipynb")
	nb := `{"cells":[{"cell_type":"code","execution_count":null,"id":"probe","metadata":{},"outputs":[],` +
		`"source":["import pandas, matplotlib"]}],"metadata":{"kernelspec":{"display_name":"Python 3","language":"python","name":"python3"}},` +
		`"nbformat":4,"nbformat_minor":5}`
	if err := os.WriteFile(probe, []byte(nb), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, jupyter, "nbconvert", "--to", "notebook", "--execute", "--output", filepath.Join(dir, "out.ipynb"), probe).CombinedOutput()
	switch {
	case err == nil:
		return ""
	case bytes.Contains(out, []byte("NoSuchKernel")):
		return "Jupyter has no Python kernel (install python3-ipykernel)"
	case bytes.Contains(out, []byte("No module named 'pandas'")), bytes.Contains(out, []byte("No module named 'matplotlib'")):
		return "the Jupyter kernel lacks pandas or matplotlib (install python3-pandas python3-matplotlib)"
	}
	t.Fatalf("jupyter nbconvert of a probe notebook: %v\n%s", err, out)
	return ""
}

// trainKind trains a model of one kind on a generated table and writes it.
func trainKind(t *testing.T, tab *datasets.Table, kind, dir string) string {
	t.Helper()
	p, err := train.Train(tab, features.Infer(tab, features.InferConfig{}),
		train.Config{Seed: 1, Models: train.ModelConfig{Kinds: []string{kind}}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Model.Kind != kind {
		t.Fatalf("trained a %s model, want %s", p.Model.Kind, kind)
	}
	path := filepath.Join(dir, kind+".json")
	if err := p.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// serve starts the serve command on model and returns its base URL; it is
// stopped when the test ends.
func serve(t *testing.T, bin, model string) string {
	t.Helper()
	cmd := exec.Command(bin, "--model", model, "--addr", "127.0.0.1:0", "--allow-unauthenticated",
		"--log-format", "json", "--drain-delay", "0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	var logs bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.Write(sc.Bytes())
			logs.WriteByte('\n')
			var line struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving" {
				addr <- line.Addr
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		<-done
		_ = cmd.Wait()
	})
	select {
	case a := <-addr:
		return "http://" + a
	case <-done:
		t.Fatalf("serve stopped before serving:\n%s", logs.String())
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start within 30s")
	}
	return ""
}

// TestNotebooks executes each notebook with Jupyter (jupyter nbconvert
// --execute) on a boosted-trees and a logistic model trained here, each
// served by the serve command started here, and once without a server. It
// is skipped, with a notice make test prints, where Jupyter or its Python
// kernel with pandas and matplotlib is missing.
func TestNotebooks(t *testing.T) {
	jupyter, err := exec.LookPath("jupyter")
	if err != nil {
		skipWithNotice(t, "jupyter not found; the notebook was not run (install jupyter-nbconvert python3-ipykernel python3-pandas python3-matplotlib)")
	}
	if reason := kernel(t, jupyter); reason != "" {
		skipWithNotice(t, reason+"; the notebook was not run")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("go is needed to build serve for the notebooks")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "serve")
	if out, err := exec.Command(goBin, "build", "-o", bin, "github.com/icpengine/icp/cmd/serve").CombinedOutput(); err != nil {
		t.Fatalf("go build serve: %v\n%s", err, out)
	}
	tab, _ := synth.Generate(synth.Config{Rows: 1500, Seed: 8})
	accounts := filepath.Join(dir, "accounts.csv")
	var csv bytes.Buffer
	if err := datasets.WriteCSV(&csv, tab); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(accounts, csv.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	books, _ := filepath.Glob("*.ipynb")
	if len(books) == 0 {
		t.Fatal("no notebooks found")
	}
	tests := []struct {
		kind   string
		server bool
		// want are texts the executed notebook's outputs hold.
		want []string
	}{
		{"gbm", true, []string{"model m-", ": gbm", "scored 1500 accounts", "sum of contributions"}},
		{"logistic", true, []string{": logistic", "scored 1500 accounts", "sum of contributions"}},
		{"gbm", false, []string{"Skipped: no score API"}},
	}
	models := map[string]string{}
	for _, nb := range books {
		for _, tt := range tests {
			name := fmt.Sprintf("%s/%s/server=%v", nb, tt.kind, tt.server)
			t.Run(name, func(t *testing.T) {
				model, ok := models[tt.kind]
				if !ok {
					model = trainKind(t, tab, tt.kind, dir)
					models[tt.kind] = model
				}
				env := append(os.Environ(), "ICP_MODEL="+model, "ICP_ACCOUNTS="+accounts, "ICP_URL=", "ICP_API_KEY=")
				if tt.server {
					env = append(env, "ICP_URL="+serve(t, bin, model))
				}
				out := filepath.Join(t.TempDir(), "out.ipynb")
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				defer cancel()
				cmd := exec.CommandContext(ctx, jupyter, "nbconvert", "--to", "notebook", "--execute", "--output", out, nb)
				cmd.Env = env
				if b, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("jupyter nbconvert --execute %s: %v\n%s", nb, err, b)
				}
				text, images, err := outputs(out)
				if err != nil {
					t.Fatal(err)
				}
				for _, w := range tt.want {
					if !strings.Contains(text, w) {
						t.Errorf("the outputs of %s lack %q:\n%s", nb, w, text)
					}
				}
				// Tiers, calibration and drivers (and the traits of each
				// segment), plus the attributions with a server.
				wantImages := 3
				if tt.server {
					wantImages = 4
				}
				if images < wantImages {
					t.Errorf("%s drew %d charts, want at least %d", nb, images, wantImages)
				}
			})
		}
	}
}

// outputs reads an executed notebook and returns the text of its outputs
// and the number of images among them. It fails on an error output.
func outputs(path string) (string, int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", 0, err
	}
	var nb struct {
		Cells []struct {
			Outputs []struct {
				Type  string         `json:"output_type"`
				Text  any            `json:"text"`
				Data  map[string]any `json:"data"`
				EName string         `json:"ename"`
			} `json:"outputs"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(b, &nb); err != nil {
		return "", 0, fmt.Errorf("%s: %w", path, err)
	}
	var text strings.Builder
	images := 0
	for _, c := range nb.Cells {
		for _, o := range c.Outputs {
			if o.Type == "error" {
				return "", 0, errors.New("error output: " + o.EName)
			}
			text.WriteString(joinText(o.Text))
			if _, ok := o.Data["image/png"]; ok {
				images++
			}
			text.WriteString(joinText(o.Data["text/plain"]))
		}
	}
	return text.String(), images, nil
}

// joinText joins a notebook text field: a string or a list of strings.
func joinText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		var b strings.Builder
		for _, s := range x {
			if s, ok := s.(string); ok {
				b.WriteString(s)
			}
		}
		return b.String()
	}
	return ""
}
