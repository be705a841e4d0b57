package notebooks

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/train"
)

// TestNotebooks runs each notebook against a freshly trained model: with
// Jupyter (jupyter nbconvert --execute) when it is installed, otherwise by
// running the notebook's code cells in order with python3.
func TestNotebooks(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is needed to run the notebooks")
	}
	tab, _ := synth.Generate(synth.Config{Rows: 1500, Seed: 8})
	p, err := train.Train(tab, features.Infer(tab, features.InferConfig{}), train.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(t.TempDir(), "model.json")
	if err := p.WriteFile(model); err != nil {
		t.Fatal(err)
	}
	books, _ := filepath.Glob("*.ipynb")
	if len(books) == 0 {
		t.Fatal("no notebooks found")
	}
	for _, nb := range books {
		t.Run(nb, func(t *testing.T) {
			var cmd *exec.Cmd
			if jupyter, err := exec.LookPath("jupyter"); err == nil {
				out := filepath.Join(t.TempDir(), "out.ipynb")
				cmd = exec.Command(jupyter, "nbconvert", "--to", "notebook", "--execute", "--output", out, nb)
			} else {
				t.Logf("jupyter not found; running the code cells of %s with python3", nb)
				cmd = exec.Command(python, "-c", codeCells(t, nb))
			}
			cmd.Env = append(os.Environ(), "ICP_MODEL="+model)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", nb, err, out)
			}
		})
	}
}

func codeCells(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var nb struct {
		Cells []struct {
			Type   string   `json:"cell_type"`
			Source []string `json:"source"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(b, &nb); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var code []string
	for _, c := range nb.Cells {
		if c.Type == "code" {
			code = append(code, strings.Join(c.Source, ""))
		}
	}
	return strings.Join(code, "\n")
}
