package main

import (
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/icpengine/icp/datasets"
)

// reading reads the training files and counts their bytes for the
// progress lines.
type reading struct {
	read, size atomic.Int64
}

// status says how much of the files has been read, "" when their size is
// unknown (a pipe).
func (r *reading) status() string {
	size := r.size.Load()
	if size <= 0 {
		return ""
	}
	return fmt.Sprintf("%.0f%% of %.1f MB read", 100*float64(r.read.Load())/float64(size), float64(size)/1e6)
}

// table reads the export at path as datasets.ReadFile does, counting the
// bytes: CSV and gzip CSV as a stream (so a named pipe or /dev/stdin
// works too), a Parquet file in place.
func (r *reading) table(path string) (*datasets.Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		var magic [4]byte
		if n, _ := f.ReadAt(magic[:], 0); string(magic[:n]) == "PAR1" {
			t, err := datasets.ReadFile(path, nil)
			r.read.Add(st.Size())
			r.size.Add(st.Size())
			return t, err
		}
		r.size.Add(st.Size())
	}
	return datasets.Read(countingReader{f, &r.read}, path, nil)
}

// countingReader adds the bytes it reads to n.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
