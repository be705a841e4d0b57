package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/internal/cli"
	"github.com/icpengine/icp/profile"
)

// layout is the columns of the output.
type layout struct {
	names        []string
	kinds        []datasets.Kind
	attributions int
	keep         []string
	// value is set when the model has a value model: the expected and
	// predicted values follow anti_icp, and the expected value's largest
	// attributions follow the score's.
	value bool
}

func newLayout(p *profile.Profile, cfg config) (*layout, error) {
	l := &layout{attributions: cfg.attributions, keep: cfg.keep, value: p.HasValueModel()}
	add := func(name string, k datasets.Kind) {
		l.names = append(l.names, name)
		l.kinds = append(l.kinds, k)
	}
	add("account_id", datasets.String)
	add("model_version", datasets.String)
	add("score", datasets.Number)
	add("percentile", datasets.Number)
	add("tier", datasets.String)
	add("segment", datasets.String)
	add("anti_icp", datasets.String)
	if l.value {
		add("expected_value", datasets.Number)
		add("predicted_value", datasets.Number)
	}
	for k := 1; k <= cfg.attributions; k++ {
		add(fmt.Sprintf("attr%d_feature", k), datasets.String)
		add(fmt.Sprintf("attr%d_value", k), datasets.String)
		add(fmt.Sprintf("attr%d_contribution", k), datasets.Number)
	}
	for k := 1; l.value && k <= cfg.attributions; k++ {
		add(fmt.Sprintf("ev_attr%d_feature", k), datasets.String)
		add(fmt.Sprintf("ev_attr%d_value", k), datasets.String)
		add(fmt.Sprintf("ev_attr%d_contribution", k), datasets.Number)
	}
	seen := make(map[string]bool, len(l.names))
	for _, n := range l.names {
		seen[n] = true
	}
	for _, n := range cfg.keep {
		if seen[n] {
			return nil, cli.Usagef("--keep %q: the output has a column of that name", n)
		}
		seen[n] = true
		add(n, datasets.String)
	}
	return l, nil
}

// part is one chunk, scored.
type part struct {
	seq          int
	table        *datasets.Table // the output rows, for Parquet
	csv          []byte          // the output rows as CSV records
	errs         []*datasets.ParseError
	read, scored int
	err          error
}

// score reads, scores and writes every chunk: one goroutine reads, the
// workers score chunks in parallel (each through the profile's scoring
// core), and this one writes them back in order. At most about twice the
// workers' number of chunks are in memory at once.
func score(ctx context.Context, p *profile.Profile, in *datasets.Chunks, l *layout, out output, errs *errorLog, prog *progress, cfg config) (summary, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type job struct {
		seq int
		ch  *datasets.Chunk
	}
	jobs := make(chan job, cfg.workers)
	results := make(chan part, cfg.workers)
	var readErr error
	go func() {
		defer close(jobs)
		for seq := 0; ; seq++ {
			ch, err := in.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				readErr = err
				return
			}
			select {
			case jobs <- job{seq, ch}:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	parquetRows := in.Format() == datasets.FormatParquet
	for range cfg.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				pt := scoreChunk(p, j.ch, l, out.wantsCSV(), parquetRows)
				pt.seq = j.seq
				results <- pt
			}
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	var sum summary
	var runErr error
	pending := make(map[int]part)
	next := 0
	for pt := range results {
		if runErr != nil {
			continue // drain
		}
		pending[pt.seq] = pt
		for {
			q, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if q.err != nil {
				runErr = q.err
				cancel()
				break
			}
			if err := out.write(q.table, q.csv); err != nil {
				runErr = err
				cancel()
				break
			}
			if err := errs.add(q.errs); err != nil {
				runErr = err
				cancel()
				break
			}
			sum.read += q.read
			sum.scored += q.scored
			sum.failed += len(q.errs)
			prog.add(q.read)
		}
	}
	if runErr == nil {
		runErr = readErr
	}
	if err := ctx.Err(); runErr == nil && err != nil {
		runErr = fmt.Errorf("interrupted after %d rows: %w", sum.read, err)
	}
	return sum, runErr
}

// scoreChunk checks, cleans and scores one chunk and lays out its rows.
func scoreChunk(p *profile.Profile, ch *datasets.Chunk, l *layout, asCSV, rowNumbers bool) part {
	pt := part{read: ch.Read, errs: ch.Errors}
	t, kept := ch.Table, ch.Kept
	if bad := negatives(p, t, rowNumbers); len(bad) > 0 {
		var keep []int
		for i := range t.Rows() {
			if e, ok := bad[i]; ok {
				pt.errs = append(pt.errs, e)
				continue
			}
			keep = append(keep, i)
		}
		t, kept = t.Take(keep), kept.Take(keep)
		sortErrors(pt.errs)
	}
	if t.Rows() == 0 {
		return pt
	}
	scores, err := p.ScoreTable(clean(p.Schema, t), nil, l.attributions > 0)
	if err != nil {
		pt.err = fmt.Errorf("%s: %w", t.Source, err)
		return pt
	}
	pt.scored = len(scores)
	if asCSV {
		pt.csv = l.csv(scores, kept)
	} else {
		pt.table = l.table(scores, kept)
	}
	return pt
}

// clean is features.Schema.Clean without its rewriting of each tag in its
// most common spelling, which scoring does not need (the encoder and the
// rules compare tags by features.TagKey) and which took a third of a
// chunk's time: a tag list holding no tag but placeholders becomes
// missing, as Clean makes it, and the other columns go through Clean.
func clean(s *features.Schema, t *datasets.Table) *datasets.Table {
	view := &datasets.Table{Source: t.Source, Lines: t.Lines}
	isTags := make([]bool, len(t.Columns))
	for k, c := range t.Columns {
		if sc := s.Column(c.Name); sc != nil && sc.Role == features.RoleTags && c.Kind == datasets.String {
			isTags[k] = true
			continue
		}
		view.Columns = append(view.Columns, c)
	}
	cleaned := s.Clean(view)
	out := &datasets.Table{Source: t.Source, Lines: t.Lines, Columns: make([]*datasets.Column, len(t.Columns))}
	next := 0
	for k, c := range t.Columns {
		if !isTags[k] {
			out.Columns[k] = cleaned.Columns[next]
			next++
			continue
		}
		out.Columns[k] = c
		sep := s.Column(c.Name).Separator
		for i, cell := range c.Str {
			if cell != "" && onlyPlaceholders(cell, sep, s.Placeholders) {
				if out.Columns[k] == c {
					out.Columns[k] = &datasets.Column{Name: c.Name, Kind: c.Kind, Str: append([]string(nil), c.Str...)}
				}
				out.Columns[k].Str[i] = ""
			}
		}
	}
	return out
}

// onlyPlaceholders reports whether a tag list holds no tag but
// placeholders (compared as the schema compares them: trimmed, in any
// case).
func onlyPlaceholders(cell, sep string, ph []string) bool {
	for _, tag := range features.SplitTags(cell, sep) {
		if !slices.ContainsFunc(ph, func(p string) bool { return strings.EqualFold(tag, p) }) {
			return false
		}
	}
	return true
}

// negatives finds the rows with a negative value in a column of counts or
// amounts, which serving refuses too.
func negatives(p *profile.Profile, t *datasets.Table, rowNumbers bool) map[int]*datasets.ParseError {
	var bad map[int]*datasets.ParseError
	for _, c := range t.Columns {
		sc := p.Schema.Column(c.Name)
		if sc == nil || !sc.NonNegative || c.Kind != datasets.Number {
			continue
		}
		for i, v := range c.Num {
			if v < 0 {
				if _, seen := bad[i]; seen {
					continue
				}
				if bad == nil {
					bad = make(map[int]*datasets.ParseError)
				}
				e := &datasets.ParseError{Source: t.Source, Field: c.Name,
					Err: fmt.Errorf("must not be negative, got %g", v)}
				if rowNumbers {
					e.Row = t.Line(i)
				} else {
					e.Line = t.Line(i)
				}
				bad[i] = e
			}
		}
	}
	return bad
}

// sortErrors orders errors by their place in the input.
func sortErrors(errs []*datasets.ParseError) {
	at := func(e *datasets.ParseError) int { return max(e.Line, e.Row) }
	for i := 1; i < len(errs); i++ {
		for j := i; j > 0 && at(errs[j]) < at(errs[j-1]); j-- {
			errs[j], errs[j-1] = errs[j-1], errs[j]
		}
	}
}

// each passes the output cells of one score to text or num, in order.
func (l *layout) each(s *icp.Score, kept *datasets.Table, i int, text func(string), num func(float64)) {
	text(s.AccountID)
	text(s.ModelVersion)
	num(s.Score)
	num(s.Percentile)
	text(string(s.Tier))
	if s.Segment != nil {
		text(s.Segment.ID)
	} else {
		text("")
	}
	if s.AntiICP != nil {
		text(s.AntiICP.ID)
	} else {
		text("")
	}
	if l.value {
		if v := s.ValueScore; v != nil {
			num(v.ExpectedValue)
			num(v.PredictedValue)
		} else {
			num(nanValue())
			num(nanValue())
		}
	}
	l.attributionCells(s.Attributions, text, num)
	if l.value {
		var ev []icp.Attribution
		if s.ValueScore != nil && s.ValueAttributions != nil {
			ev = s.ValueAttributions.Attributions
		}
		l.attributionCells(ev, text, num)
	}
	for _, c := range kept.Columns {
		text(c.Str[i])
	}
}

// attributionCells passes the cells of the largest attributions, empty
// beyond the last.
func (l *layout) attributionCells(attrs []icp.Attribution, text func(string), num func(float64)) {
	for k := range l.attributions {
		if k < len(attrs) {
			a := attrs[k]
			text(a.Feature)
			text(valueText(a.Value))
			num(a.Contribution)
		} else {
			text("")
			text("")
			num(nanValue())
		}
	}
}

// csv writes the rows as CSV records.
func (l *layout) csv(scores []icp.Score, kept *datasets.Table) []byte {
	var buf bytes.Buffer
	buf.Grow(len(scores) * 96)
	w := csv.NewWriter(&buf)
	rec := make([]string, 0, len(l.names))
	var nb []byte
	for i := range scores {
		rec = rec[:0]
		l.each(&scores[i], kept, i,
			func(s string) { rec = append(rec, s) },
			func(v float64) {
				if v != v {
					rec = append(rec, "")
					return
				}
				nb = strconv.AppendFloat(nb[:0], v, 'g', -1, 64)
				rec = append(rec, string(nb))
			})
		w.Write(rec)
	}
	w.Flush()
	return buf.Bytes()
}

// table lays the rows out as a table of the output's columns.
func (l *layout) table(scores []icp.Score, kept *datasets.Table) *datasets.Table {
	t := &datasets.Table{Columns: make([]*datasets.Column, len(l.names))}
	for k, n := range l.names {
		c := &datasets.Column{Name: n, Kind: l.kinds[k]}
		if c.Kind == datasets.String {
			c.Str = make([]string, 0, len(scores))
		} else {
			c.Num = make([]float64, 0, len(scores))
		}
		t.Columns[k] = c
	}
	for i := range scores {
		k := 0
		l.each(&scores[i], kept, i,
			func(s string) { t.Columns[k].Str = append(t.Columns[k].Str, s); k++ },
			func(v float64) { t.Columns[k].Num = append(t.Columns[k].Num, v); k++ })
	}
	return t
}

// valueText is an attribution's raw value as text.
func valueText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

func nanValue() float64 {
	var zero float64
	return zero / zero
}
