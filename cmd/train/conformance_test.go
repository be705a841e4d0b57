package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/model"
	"github.com/icpengine/icp/profile"
)

// The conformance tolerances against the best of scikit-learn's
// HistGradientBoosting and XGBoost on the same split
// (datasets/synth/testdata/reference.json): the engine's holdout ROC AUC
// may be at most aucTolerance below, its log loss at most lossTolerance
// above.
const (
	aucTolerance  = 0.01
	lossTolerance = 0.005
)

// reference is what scripts/reference-fixtures.py records per dialect.
type reference struct {
	Rows          int               `json:"rows"`
	Seed          uint64            `json:"seed"`
	SHA256        map[string]string `json:"sha256"`
	Train         int               `json:"train"`
	Test          int               `json:"test"`
	TestPositives int               `json:"test_positives"`
	Metrics       map[string]struct {
		ROCAUC  float64 `json:"roc_auc"`
		LogLoss float64 `json:"log_loss"`
	} `json:"test_metrics"`
}

func readReference(t *testing.T) map[string]reference {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "datasets", "synth", "testdata", "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Dialects map[string]reference `json:"dialects"`
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	return ref.Dialects
}

// TestConformance trains every export dialect of the generator as a new
// user would, with no schema file, and checks the outcome found, the
// leakage flagged, the tags parsed, the artifact, the holdout metrics
// against scikit-learn and XGBoost on the very same rows, and the
// report's numbers.
func TestConformance(t *testing.T) {
	refs := readReference(t)
	tests := []struct {
		dialect string
		// outcome is the true outcome column; churn marks a churn table.
		outcome string
		churn   bool
		// leaks are the columns the dialect documents as known only after
		// the outcome: none may be a feature.
		leaks []string
		// tags is a tag column with its separator, and a tag whose
		// spellings differ in the file ("HUBSPOT", "HubSpot").
		tags, sep, tag string
		// join trains through the two-table join (--accounts with the
		// first file, --deals with the second) instead of --data.
		join bool
	}{
		{dialect: synth.DialectDefault, outcome: "outcome", leaks: []string{"ltv_usd", "sales_cycle_days", "churned"},
			tags: "tech_stack", sep: ";", tag: "hubspot"},
		{dialect: synth.DialectSalesforce, outcome: "Stage",
			leaks: []string{"Amount", "Contract Signed", "Customer Since", "Lifetime Value", "Probability (%)"},
			tags:  "Tech Stack", sep: ",", tag: "hubspot"},
		{dialect: synth.DialectHubSpot, outcome: "Lifecycle Stage",
			leaks: []string{"Became a Customer Date", "Total Revenue", "Days to Close", "Lead Status"},
			tags:  "Technologies", sep: ";", tag: "stripe"},
		{dialect: synth.DialectLeads, outcome: "Converted",
			leaks: []string{"Tags", "Lead Quality", "Asymmetrique Activity Index", "Asymmetrique Activity Score"},
			tags:  "Course Interests", sep: "|", tag: "mba"},
		{dialect: synth.DialectSubscription, outcome: "churned", churn: true,
			leaks: []string{"churn_date", "cancellation_reason", "lifetime_value", "nps_score"},
			tags:  "integrations", sep: ",", tag: "slack"},
		// The deal columns (Stage, Amount, Type, Forecast Category) stay
		// in the deals file: the join reads the outcome from them (as
		// deal_outcome, deal_close_date, won_amount) and makes no feature
		// of them.
		{dialect: synth.DialectTwoTable, outcome: "deal_outcome", join: true, leaks: []string{"won_amount"},
			tags: "Tech Stack", sep: ";", tag: "aws"},
		{dialect: synth.DialectChannels, outcome: "Deal Stage", leaks: []string{"Contract Value"},
			tags: "Tech Stack", sep: ";", tag: "salesforce"},
	}
	for _, tt := range tests {
		t.Run(tt.dialect, func(t *testing.T) {
			ref, ok := refs[tt.dialect]
			if !ok {
				t.Fatalf("reference.json has no %s", tt.dialect)
			}
			files := writeExport(t, tt.dialect, ref)
			out := t.TempDir()
			split := filepath.Join(out, "split.csv")
			var stdout, stderr bytes.Buffer
			args := []string{"--data", files[0]}
			if tt.join {
				args = []string{"--accounts", files[0], "--deals", files[1]}
			}
			args = append(args, "--out", out, "--label", "won", "--holdout-out", split)
			if err := run(context.Background(), args, &stdout, &stderr); err != nil {
				t.Fatalf("train %s: %v\n%s", tt.dialect, err, stderr.String())
			}
			p, err := profile.ReadFile(filepath.Join(out, "model.json"))
			if err != nil {
				t.Fatalf("serve would refuse the artifact: %v", err)
			}
			if err := p.WarmUp(context.Background(), 64); err != nil {
				t.Errorf("warm up: %v", err)
			}

			// The outcome.
			got := p.Label.WonColumn
			if tt.churn {
				got = p.Label.ChurnColumn
			}
			if got != tt.outcome {
				t.Errorf("outcome %q (label %+v), want %q", got, p.Label, tt.outcome)
			}

			// The leaks: none is a feature, each flagged as leakage or
			// read as an outcome; flagged ones come first in the output.
			if problem := leaksFirst(stdout.String()); problem != "" {
				t.Error(problem)
			}
			for _, name := range tt.leaks {
				c := p.Schema.Column(name)
				switch {
				case c == nil:
					t.Errorf("column %q is not in the schema", name)
				case c.Role != features.RoleLeakage && c.Role != features.RoleOutcome:
					t.Errorf("leaking column %q has role %s (%s), want leakage or outcome", name, c.Role, c.Reason)
				}
			}

			// Tags: split at the sniffed separator, one level per tag
			// whatever its case.
			c := p.Schema.Column(tt.tags)
			if c == nil || c.Role != features.RoleTags || c.Separator != tt.sep {
				t.Errorf("column %q = %+v, want tags separated by %q", tt.tags, c, tt.sep)
			}
			levels := tagLevels(p, tt.tags)
			keys := map[string]string{}
			for _, l := range levels {
				k := features.TagKey(l)
				if prev, dup := keys[k]; dup {
					t.Errorf("tags %q and %q are one tag", prev, l)
				}
				keys[k] = l
				if strings.Contains(l, tt.sep) {
					t.Errorf("tag %q holds the separator %q", l, tt.sep)
				}
			}
			if _, ok := keys[tt.tag]; !ok {
				t.Errorf("tags of %q = %v, want one for %q", tt.tags, levels, tt.tag)
			}

			// The split is the reference's, and the scores are the
			// engine's holdout probabilities.
			y, probs, nTrain := readSplit(t, split)
			pos := 0
			for _, v := range y {
				pos += int(v)
			}
			if nTrain != ref.Train || len(y) != ref.Test || pos != ref.TestPositives {
				t.Fatalf("split: %d training rows, %d holdout rows with %d positives; reference.json has %d, %d, %d",
					nTrain, len(y), pos, ref.Train, ref.Test, ref.TestPositives)
			}
			distinct := map[float64]bool{}
			for _, v := range probs {
				distinct[v] = true
			}
			if len(distinct) < 10 {
				t.Errorf("%d distinct holdout scores, want scores that vary", len(distinct))
			}
			auc, loss := model.ROCAUC(y, probs, nil), model.LogLoss(y, probs, nil)
			bestAUC, bestLoss := 0.0, math.Inf(1)
			for _, m := range ref.Metrics {
				bestAUC, bestLoss = max(bestAUC, m.ROCAUC), min(bestLoss, m.LogLoss)
			}
			t.Logf("%s: ROC AUC %.4f (best reference %.4f), log loss %.4f (best reference %.4f)", tt.dialect, auc, bestAUC, loss, bestLoss)
			if auc < bestAUC-aucTolerance {
				t.Errorf("holdout ROC AUC %.4f, more than %.3f below the best reference %.4f", auc, aucTolerance, bestAUC)
			}
			if loss > bestLoss+lossTolerance {
				t.Errorf("holdout log loss %.4f, more than %.3f above the best reference %.4f", loss, lossTolerance, bestLoss)
			}
			if math.Abs(auc-p.Validation.Calibrated.ROCAUC) > 1e-9 {
				t.Errorf("split file ROC AUC %.6f, artifact's calibrated holdout ROC AUC %.6f", auc, p.Validation.Calibrated.ROCAUC)
			}

			// The report's numbers.
			md, err := os.ReadFile(filepath.Join(out, "report.md"))
			if err != nil {
				t.Fatal(err)
			}
			for _, problem := range checkReport(string(md), p.Backtest.Rows) {
				t.Error(problem)
			}
		})
	}
}

// writeExport writes the dialect's export at the reference's size and
// seed, checks that its files are the ones the reference figures were
// computed on, and returns the paths of its files, the account-level one
// first.
func writeExport(t *testing.T, dialect string, ref reference) []string {
	t.Helper()
	e, err := synth.GenerateExport(dialect, synth.Config{Rows: ref.Rows, Seed: ref.Seed})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var paths []string
	for k, s := range e.Sheets {
		name := dialect + ".csv"
		if k > 0 {
			name = dialect + "_" + s.Name + ".csv"
		}
		var b bytes.Buffer
		if err := s.WriteCSV(&b); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b.Bytes())
		if got, want := hex.EncodeToString(sum[:]), ref.SHA256[name]; got != want {
			t.Fatalf("sha256(%s) = %s, reference.json has %s: rerun scripts/reference-fixtures.py", name, got, want)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	return paths
}

// tagLevels returns the encoder's levels of a tags column.
func tagLevels(p *profile.Profile, name string) []string {
	for _, ce := range p.Encoder.Columns {
		if ce.Name == name {
			return ce.Levels
		}
	}
	return nil
}

// readSplit reads a --holdout-out file: the labels and probabilities of
// the holdout rows, and the number of training rows.
func readSplit(t *testing.T, path string) (y, probs []float64, nTrain int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) < 2 || strings.Join(recs[0][:4], ",") != "line,part,y,prob" {
		t.Fatalf("split file head %v, want line,part,y,prob first", recs[0])
	}
	for _, r := range recs[1:] {
		switch r[1] {
		case "train":
			nTrain++
		case "holdout":
			yv, err1 := strconv.ParseFloat(r[2], 64)
			pv, err2 := strconv.ParseFloat(r[3], 64)
			if err1 != nil || err2 != nil {
				t.Fatalf("split row %v: %v %v", r, err1, err2)
			}
			y, probs = append(y, yv), append(probs, pv)
		default:
			t.Fatalf("split row %v: part %q", r, r[1])
		}
	}
	return y, probs, nTrain
}

var (
	percentRE = regexp.MustCompile(`(\d+(?:\.\d+)?)%`)
	tierRowRE = regexp.MustCompile(`^\| (tier[123]|non_fit)[^|]* \| (\d+) \|`)
	cellsRE   = regexp.MustCompile(`\s{2,}`)
)

// checkReport returns what is wrong with a Markdown report's numbers: a
// percentage above 100%, or a tier row of the holdout table counting more
// deals than the holdout holds (holdout rows).
func checkReport(md string, holdout int) []string {
	var problems []string
	for _, m := range percentRE.FindAllStringSubmatch(md, -1) {
		if v, _ := strconv.ParseFloat(m[1], 64); v > 100 {
			problems = append(problems, "report: a share of "+m[0])
		}
	}
	inTiers := false
	for _, line := range strings.Split(md, "\n") {
		switch {
		case strings.HasPrefix(line, "On the ") && strings.Contains(line, "holdout"):
			inTiers = true
		case !strings.HasPrefix(line, "|"):
			if inTiers && line != "" {
				inTiers = false
			}
		case inTiers:
			if m := tierRowRE.FindStringSubmatch(line); m != nil {
				if n, _ := strconv.Atoi(m[2]); n > holdout {
					problems = append(problems, "report: "+m[1]+" counts "+m[2]+" deals of a holdout of "+strconv.Itoa(holdout)+": "+line)
				}
			}
		}
	}
	return problems
}

// leaksFirst checks that train's schema table lists the leakage columns
// before every other column; it returns the problem, or "".
func leaksFirst(out string) string {
	lines := strings.Split(out, "\n")
	other := ""
	for k, line := range lines {
		if !strings.HasPrefix(line, "column ") {
			continue
		}
		for _, row := range lines[k+1:] {
			f := cellsRE.Split(strings.TrimSpace(row), -1)
			if len(f) < 2 {
				break
			}
			isLeak := f[1] == string(features.RoleLeakage)
			if !isLeak && other == "" {
				other = row
			}
			if isLeak && other != "" {
				return "leakage column listed after another column in train's output: " + row
			}
		}
		return ""
	}
	return "train printed no schema table"
}

func TestCheckReport(t *testing.T) {
	tests := []struct {
		name string
		give string
		want int
	}{
		{"fine", "On the 300 holdout deals (the newest), scored:\n\n| tier | deals |\n|---|---|\n| tier1 | 30 | 50.0% |\n", 0},
		{"share", "a share of all wins 492.5%\n", 1},
		{"tier row", "On the 300 holdout deals (the newest), scored:\n\n| tier | deals |\n|---|---|\n| tier2 | 1500 | 10.0% |\n", 1},
	}
	for _, tt := range tests {
		if got := checkReport(tt.give, 300); len(got) != tt.want {
			t.Errorf("%s: checkReport = %v, want %d problems", tt.name, got, tt.want)
		}
	}
}
