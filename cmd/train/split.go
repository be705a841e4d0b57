package main

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/train"
)

// writeSplit writes the validation split to path as CSV, one row per
// closed deal: line (the deal's line in the input file), part ("train" or
// "holdout"), y (the label, 1 or 0), prob (the calibrated probability the
// validation model gave a holdout deal; empty for training deals), then
// every feature column of the model's schema as the engine read it:
// numbers as numbers, dates as days since 1970-01-01, booleans as 1 or 0,
// categories with placeholders blank, tag lists cleaned and joined by the
// column's separator (see features.Schema.Clean). Another learner fitted
// on the train rows and scored on the holdout rows of this file meets
// exactly the engine's split and features (scripts/compare-shared.sh).
func writeSplit(path string, t *datasets.Table, p *profile.Profile, sp *train.Split) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write split: %w", err)
	}
	w := csv.NewWriter(f)
	feats := p.Schema.Features()
	head := []string{"line", "part", "y", "prob"}
	for _, c := range feats {
		head = append(head, c.Name)
	}
	_ = w.Write(head)
	cols := make([]*datasets.Column, len(feats))
	for k, c := range feats {
		cols[k] = t.Column(c.Name)
	}
	rec := make([]string, len(head))
	write := func(i int, part, prob string) {
		rec = rec[:0]
		rec = append(rec, strconv.Itoa(t.Line(i)), part, strconv.FormatFloat(sp.Label[i], 'g', -1, 64), prob)
		for k, c := range cols {
			rec = append(rec, cell(c, feats[k], i))
		}
		_ = w.Write(rec)
	}
	for _, i := range sp.Fit {
		write(i, "train", "")
	}
	for j, i := range sp.Hold {
		write(i, "holdout", strconv.FormatFloat(sp.HoldProbs[j], 'g', -1, 64))
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return fmt.Errorf("write split %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write split: %w", err)
	}
	return nil
}

// cell is one feature value as the engine read it, "" when missing.
func cell(c *datasets.Column, sc features.Column, i int) string {
	if c == nil || c.IsMissing(i) {
		return ""
	}
	if c.Kind == datasets.String {
		v := c.Str[i]
		if sc.Role == features.RoleTags {
			v = strings.TrimSpace(v)
		}
		return v
	}
	v := c.Num[i]
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
