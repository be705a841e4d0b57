package datasets_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/icpengine/icp/datasets"
)

// FuzzChunks feeds arbitrary input to the chunk reader: it must not
// panic, and every row it reads is either in a chunk or an error.
func FuzzChunks(f *testing.F) {
	f.Add([]byte("id,n,d,b,tags\na,1,2024-01-01,yes,x;y\nb,two,,no,\n"))
	f.Add([]byte("{\"id\": \"a\", \"n\": 3, \"tags\": [\"x\"]}\n{\"n\": {}}\nnope\n"))
	f.Add([]byte("\x1f\x8b\x08\x00"))
	f.Add([]byte("id;n\n\"a;1\n"))
	kinds := map[string]datasets.Kind{"id": datasets.String, "n": datasets.Number, "d": datasets.Date, "b": datasets.Bool, "tags": datasets.String}
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := datasets.OpenChunks(bytes.NewReader(in), "fuzz", datasets.ChunkOptions{Kinds: kinds, Rows: 3})
		if err != nil {
			return
		}
		for {
			ch, err := c.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				return
			}
			if got := ch.Table.Rows() + len(ch.Errors); got != ch.Read && len(ch.Table.Columns) > 0 {
				t.Fatalf("chunk of %d rows holds %d good and %d bad", ch.Read, ch.Table.Rows(), len(ch.Errors))
			}
			if len(ch.Table.Lines) != ch.Table.Rows() && len(ch.Table.Columns) > 0 {
				t.Fatalf("%d lines for %d rows", len(ch.Table.Lines), ch.Table.Rows())
			}
		}
	})
}
