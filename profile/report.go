package profile

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// WriteReport writes the ICP report as Markdown: the data and label, the
// inferred schema, validation metrics, segments, tiers and what drives the
// score.
func (p *Profile) WriteReport(w io.Writer) error {
	var b strings.Builder
	d, v := p.Data, p.Validation
	fmt.Fprintf(&b, "# Ideal Customer Profile — model %s\n\n", p.Version)
	fmt.Fprintf(&b, "Learned from %d accounts in `%s` (%d with a closed outcome", d.Rows, d.Source, d.Labeled)
	if d.From != "" {
		fmt.Fprintf(&b, ", closed %s to %s", d.From, d.To)
	}
	fmt.Fprintf(&b, "). On the newest deals, which it did not see in training, it ranks with ROC AUC %s, and the top-scored tenth of them hold %s× the base rate of %s.\n\n",
		fmt3(v.Holdout.ROCAUC), fmt2(v.Holdout.LiftTopDecile), p.targetNoun())
	if len(p.Segments) > 0 {
		fmt.Fprintf(&b, "It found %d segments of %s:\n\n", len(p.Segments), p.targetNoun())
		for _, s := range p.Segments {
			fmt.Fprintf(&b, "- **%s** (%s): %d accounts, %s of them %s, %s× the base rate.\n",
				s.Name, s.ID, s.Accounts, pct(s.PositiveRate), p.Label.Target, fmt2(s.Lift))
		}
		b.WriteString("\n")
	} else {
		fmt.Fprintf(&b, "No segments: too few %s to cluster.\n\n", p.targetNoun())
	}

	b.WriteString("## Data and label\n\n")
	b.WriteString("| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| source | `%s` |\n", d.Source)
	fmt.Fprintf(&b, "| data hash | `%s` |\n", p.DataHash)
	fmt.Fprintf(&b, "| rows | %d |\n", d.Rows)
	fmt.Fprintf(&b, "| labeled (closed) | %d |\n", d.Labeled)
	fmt.Fprintf(&b, "| open (scored, not trained on) | %d |\n", p.Label.Open)
	fmt.Fprintf(&b, "| positives / negatives | %d / %d (%s positive) |\n", p.Label.Positives, p.Label.Negatives,
		pct(float64(p.Label.Positives)/float64(max(1, p.Label.Positives+p.Label.Negatives))))
	if d.From != "" {
		fmt.Fprintf(&b, "| close dates | %s to %s |\n", d.From, d.To)
	}
	fmt.Fprintf(&b, "| encoded features | %d |\n", d.Features)
	fmt.Fprintf(&b, "| seed | %d |\n\n", p.Seed)
	fmt.Fprintf(&b, "**Label (%s):** %s.\n\n", p.Label.Target, p.Label.Definition)
	if len(p.Label.Values) > 0 {
		fmt.Fprintf(&b, "Values of `%s`: ", p.Label.WonColumn)
		var parts []string
		for _, lv := range p.Label.Values {
			val := lv.Value
			if val == "" {
				val = "(empty)"
			}
			parts = append(parts, fmt.Sprintf("`%s` %d (%s)", val, lv.Count, lv.Meaning))
		}
		b.WriteString(strings.Join(parts, ", ") + ".\n\n")
	}

	b.WriteString("## Columns\n\n| column | role | kind | why |\n|---|---|---|---|\n")
	for _, c := range p.Schema.Columns {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", c.Name, c.Role, c.Kind, c.Reason)
	}
	b.WriteString("\n")

	b.WriteString("## Validation\n\n")
	fmt.Fprintf(&b, "Split: %s", v.Split)
	if v.From != "" {
		fmt.Fprintf(&b, " (closed %s to %s)", v.From, v.To)
	}
	b.WriteString(". Every candidate model was fitted on the older deals and scored on the holdout; the one with the least calibrated log loss was then refitted on all closed deals and serves.\n\n")
	b.WriteString("| model | calibration | holdout ROC AUC | PR AUC | log loss | calibrated log loss | Brier | lift, top decile | |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, c := range v.Candidates {
		sel := ""
		if c.Selected {
			sel = "**selected**"
		}
		name := c.Kind
		if c.Rounds > 0 {
			name = fmt.Sprintf("%s (%d trees)", c.Kind, c.Rounds)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name, c.Calibration,
			fmt3(c.Holdout.ROCAUC), fmt3(c.Holdout.PRAUC), fmt3(c.Holdout.LogLoss), fmt3(c.Calibrated.LogLoss),
			fmt3(c.Calibrated.Brier), fmt2(c.Holdout.LiftTopDecile), sel)
	}
	fmt.Fprintf(&b, "\nThe selected model on its training split: ROC AUC %s, log loss %s (holdout: %s, %s).\n\n",
		fmt3(v.Train.ROCAUC), fmt3(v.Train.LogLoss), fmt3(v.Holdout.ROCAUC), fmt3(v.Holdout.LogLoss))
	b.WriteString("### Calibration on the holdout\n\n")
	fmt.Fprintf(&b, "Calibration: %s. Each half of the holdout is scored by a calibration fitted on the other half, then binned by decile of the score:\n\n", p.Model.Calibration.Method)
	b.WriteString("| scores | accounts | predicted | observed |\n|---|---|---|---|\n")
	for _, r := range v.Reliability {
		fmt.Fprintf(&b, "| %s–%s | %d | %s | %s |\n", fmt3(r.Lo), fmt3(r.Hi), r.N, pct(r.Predicted), pct(r.Observed))
	}
	b.WriteString("\n")

	b.WriteString("## Segments\n\n")
	if len(p.Segments) == 0 {
		fmt.Fprintf(&b, "None: fewer %s than clustering needs.\n\n", p.targetNoun())
	}
	for _, s := range p.Segments {
		fmt.Fprintf(&b, "### %s: %s\n\n", s.ID, s.Name)
		fmt.Fprintf(&b, "%d %s (%s of all). Of the %d closed accounts nearest this centre, %s are %s (%s× the base rate).\n\n",
			s.Size, p.targetNoun(), pct(s.Share), s.Accounts, pct(s.PositiveRate), p.Label.Target, fmt2(s.Lift))
		if len(s.Traits) > 0 {
			b.WriteString("| trait | in segment | all accounts |\n|---|---|---|\n")
			for _, t := range s.Traits {
				fmt.Fprintf(&b, "| %s | %s | %s |\n", t.Text, traitValue(t, t.Segment), traitValue(t, t.Base))
			}
			b.WriteString("\n")
		}
	}

	b.WriteString("## Tiers\n\n| tier | score at least | share of training accounts |\n|---|---|---|\n")
	for k, th := range []float64{p.Tiers.Tier1, p.Tiers.Tier2, p.Tiers.Tier3} {
		fmt.Fprintf(&b, "| tier%d | %s | %s |\n", k+1, fmt3(th), pct(p.Tiers.Shares[k]))
	}
	fmt.Fprintf(&b, "| non_fit | below %s | %s |\n\n", fmt3(p.Tiers.Tier3), pct(1-p.Tiers.Shares[0]-p.Tiers.Shares[1]-p.Tiers.Shares[2]))

	b.WriteString("## What drives the score\n\n")
	fmt.Fprintf(&b, "Mean absolute contribution of each column to the margin (log-odds), over %d training accounts, largest first:\n\n", p.Importance.Rows)
	b.WriteString("| column | mean absolute contribution |\n|---|---|\n")
	for _, c := range p.Importance.Columns {
		fmt.Fprintf(&b, "| `%s` | %.3f |\n", c.Column, c.MeanAbs)
	}
	b.WriteString("\n## Limitations\n\n")
	b.WriteString("- The model learns from past closed deals: it reflects who sales chose to pursue, not the whole market.\n")
	b.WriteString("- Churn and LTV of recent customers are still unfolding, so recent wins may be labeled ideal too early.\n")
	b.WriteString("- Segments are clusters of the encoded features; their traits describe them but are not exact rules.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func (p *Profile) targetNoun() string {
	switch p.Label.Target {
	case TargetWon:
		return "won accounts"
	case TargetRetained:
		return "retained customers"
	}
	return "ideal customers"
}

func traitValue(t Trait, v float64) string {
	if t.Measure == "median" {
		return "median " + fmtNum(v)
	}
	return pct(v)
}

func pct(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}

func fmt2(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.2f", v)
}

func fmt3(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.3f", v)
}

// WriteSummary prints a few lines for the trainer's console: rows, label
// balance, validation metrics, segments and tier thresholds.
func (p *Profile) WriteSummary(w io.Writer) {
	l, v := p.Label, p.Validation
	fmt.Fprintf(w, "model %s: %d rows, %d closed (%d positive, %d negative), %d open\n",
		p.Version, p.Data.Rows, p.Data.Labeled, l.Positives, l.Negatives, l.Open)
	fmt.Fprintf(w, "label: %s\n", l.Definition)
	fmt.Fprintf(w, "validation: %s\n", v.Split)
	for _, c := range v.Candidates {
		mark := " "
		if c.Selected {
			mark = "*"
		}
		fmt.Fprintf(w, " %s %-8s ROC AUC %s, PR AUC %s, log loss %s (calibrated, %s: %s), Brier %s, top-decile lift %s\n",
			mark, c.Kind, fmt3(c.Holdout.ROCAUC), fmt3(c.Holdout.PRAUC), fmt3(c.Holdout.LogLoss), c.Calibration,
			fmt3(c.Calibrated.LogLoss), fmt3(c.Calibrated.Brier), fmt2(c.Holdout.LiftTopDecile))
	}
	fmt.Fprintf(w, "segments: %d\n", len(p.Segments))
	for _, s := range p.Segments {
		fmt.Fprintf(w, "  %s %s: %d %s, %s×\n", s.ID, s.Name, s.Size, p.targetNoun(), fmt2(s.Lift))
	}
	fmt.Fprintf(w, "tiers: tier1 >= %s, tier2 >= %s, tier3 >= %s\n", fmt3(p.Tiers.Tier1), fmt3(p.Tiers.Tier2), fmt3(p.Tiers.Tier3))
}
