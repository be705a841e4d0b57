package main

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/icpengine/icp/datasets"
)

// output is where the scores go.
type output interface {
	// wantsCSV reports whether write takes CSV records rather than a table.
	wantsCSV() bool
	write(t *datasets.Table, csvRows []byte) error
	// close finishes the file and puts it in place; abort removes it.
	close() error
	abort()
}

// createOutput opens the output named path: "-" is standard output (CSV),
// a name ending in .parquet a Parquet file, .gz gzip CSV, anything else
// CSV. A file is written beside its final name and renamed on close, so a
// failed run leaves no half-written file.
func createOutput(path string, stdout io.Writer, l *layout) (output, error) {
	if path == "-" {
		o := &csvOutput{w: bufio.NewWriterSize(stdout, 1<<16)}
		return o, o.header(l)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, fmt.Errorf("create output: %w", err)
	}
	file := &fileTarget{f: f, path: path}
	lower := strings.ToLower(path)
	switch {
	case strings.HasSuffix(lower, ".parquet"):
		pw, err := datasets.NewParquetWriter(file.buffered(), l.names, l.kinds)
		if err != nil {
			file.abort()
			return nil, err
		}
		return &parquetOutput{pw: pw, file: file}, nil
	case strings.HasSuffix(lower, ".gz"):
		zw := gzip.NewWriter(file.buffered())
		o := &csvOutput{w: bufio.NewWriterSize(zw, 1<<16), zw: zw, file: file}
		return o, o.header(l)
	}
	o := &csvOutput{w: file.buffered(), file: file}
	return o, o.header(l)
}

// fileTarget is the temporary file of an output and its final name.
type fileTarget struct {
	f    *os.File
	bw   *bufio.Writer
	path string
}

func (t *fileTarget) buffered() *bufio.Writer {
	t.bw = bufio.NewWriterSize(t.f, 1<<16)
	return t.bw
}

func (t *fileTarget) finish() error {
	if err := t.bw.Flush(); err != nil {
		t.abort()
		return fmt.Errorf("write %s: %w", t.path, err)
	}
	if err := t.f.Close(); err != nil {
		os.Remove(t.f.Name())
		return fmt.Errorf("write %s: %w", t.path, err)
	}
	if err := os.Rename(t.f.Name(), t.path); err != nil {
		os.Remove(t.f.Name())
		return fmt.Errorf("write %s: %w", t.path, err)
	}
	return nil
}

func (t *fileTarget) abort() {
	t.f.Close()
	os.Remove(t.f.Name())
}

// csvOutput writes CSV, optionally gzip-compressed.
type csvOutput struct {
	w    *bufio.Writer
	zw   *gzip.Writer
	file *fileTarget // nil for standard output
}

func (o *csvOutput) wantsCSV() bool { return true }

func (o *csvOutput) header(l *layout) error {
	cw := csv.NewWriter(o.w)
	if err := cw.Write(l.names); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

func (o *csvOutput) write(_ *datasets.Table, rows []byte) error {
	if _, err := o.w.Write(rows); err != nil {
		return fmt.Errorf("write scores: %w", err)
	}
	return nil
}

func (o *csvOutput) close() error {
	if err := o.w.Flush(); err != nil {
		o.abort()
		return fmt.Errorf("write scores: %w", err)
	}
	if o.zw != nil {
		if err := o.zw.Close(); err != nil {
			o.abort()
			return fmt.Errorf("write scores: %w", err)
		}
	}
	if o.file != nil {
		return o.file.finish()
	}
	return nil
}

func (o *csvOutput) abort() {
	if o.file != nil {
		o.file.abort()
	}
}

// parquetOutput writes Parquet.
type parquetOutput struct {
	pw   *datasets.ParquetWriter
	file *fileTarget
}

func (o *parquetOutput) wantsCSV() bool { return false }

func (o *parquetOutput) write(t *datasets.Table, _ []byte) error {
	if t == nil {
		return nil
	}
	return o.pw.Write(t)
}

func (o *parquetOutput) close() error {
	if err := o.pw.Close(); err != nil {
		o.abort()
		return err
	}
	return o.file.finish()
}

func (o *parquetOutput) abort() { o.file.abort() }

// errorLog records the rows that could not be scored: in a CSV file
// (line, column, field, error), or the first ten on standard error.
type errorLog struct {
	f      *os.File
	w      *csv.Writer
	stderr io.Writer
	shown  int
}

// maxShownErrors is how many bad rows are printed without --errors.
const maxShownErrors = 10

func createErrors(path string, stderr io.Writer) (*errorLog, error) {
	l := &errorLog{stderr: stderr}
	if path == "" {
		return l, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create errors file: %w", err)
	}
	l.f = f
	l.w = csv.NewWriter(f)
	l.w.Write([]string{"line", "column", "field", "error"})
	return l, nil
}

func (l *errorLog) add(errs []*datasets.ParseError) error {
	for _, e := range errs {
		if l.w == nil {
			if l.shown < maxShownErrors {
				fmt.Fprintln(l.stderr, "score:", e)
			}
			l.shown++
			continue
		}
		line, col := "", ""
		if n := max(e.Line, e.Row); n > 0 {
			line = strconv.Itoa(n)
		}
		if e.Column > 0 {
			col = strconv.Itoa(e.Column)
		}
		if err := l.w.Write([]string{line, col, e.Field, e.Err.Error()}); err != nil {
			return fmt.Errorf("write errors file: %w", err)
		}
	}
	return nil
}

func (l *errorLog) close() error {
	if l.f == nil {
		return nil
	}
	l.w.Flush()
	err := l.w.Error()
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write errors file: %w", err)
	}
	return nil
}
