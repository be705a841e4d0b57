package server

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// FuzzRecordReader checks the stream splitter on arbitrary bodies: it never
// panics, records never exceed the cap, NDJSON records are the body's
// lines, and every CSV record it returns either parses as one record or is
// reported malformed, never a panic.
func FuzzRecordReader(f *testing.F) {
	for _, seed := range []string{
		"", "\n", "a\nb", "a\r\nb\r\n", `{"a":1}` + "\n" + `{"b":"x\ny"}`,
		"x,\"y\nz\",w\nq,r,s\n", "\"unterminated\n", "a\"b,c\n", strings.Repeat("x", 40) + "\n" + "y",
		"\ufeffaccount_id,industry\nA,\"Fin,\"\"Tech\"\"\"\n",
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, isCSV bool) {
		const maxRecord = 32
		rd := newRecordReader(bytes.NewReader(body), maxRecord, isCSV)
		var lines [][]byte
		tooLong := 0
		for n := 0; ; n++ {
			if n > len(body)+1 {
				t.Fatalf("more records than bytes in %q", body)
			}
			rec, err := rd.next()
			if errors.Is(err, errEndOfBody) {
				break
			}
			if err != nil {
				t.Fatalf("next() = %v, want records or the end", err)
			}
			if len(rec.data) > maxRecord {
				t.Fatalf("record of %d bytes, over the cap %d", len(rec.data), maxRecord)
			}
			if rec.tooLong {
				tooLong++
				continue
			}
			lines = append(lines, bytes.Clone(rec.data))
			if isCSV {
				_, _ = parseCSVRecord(rec.data) // must not panic
			}
		}
		if rd.line > bytes.Count(body, []byte{'\n'})+1 {
			t.Errorf("line = %d, more than the body's %d lines", rd.line, bytes.Count(body, []byte{'\n'})+1)
		}
		if isCSV || tooLong > 0 {
			return
		}
		// NDJSON: the records are the body's lines, without line ends.
		want := bytes.Split(bytes.TrimSuffix(body, []byte{'\n'}), []byte{'\n'})
		if len(body) == 0 {
			want = nil
		}
		if len(lines) != len(want) {
			t.Fatalf("%d records, want the %d lines of %q", len(lines), len(want), body)
		}
		for i := range want {
			if w := bytes.TrimSuffix(want[i], []byte{'\r'}); !bytes.Equal(lines[i], w) {
				t.Errorf("record %d = %q, want %q", i, lines[i], w)
			}
		}
	})
}

// FuzzScoreBatchStreams posts arbitrary NDJSON, CSV and JSON array bodies
// to the batch route: no answer may be a 5xx, and a 200 stream must hold
// valid lines (NDJSON) or valid CSV.
func FuzzScoreBatchStreams(f *testing.F) {
	for _, seed := range []string{
		`[{"account_id":"a","employees":3},{"x":1}]`, `[1,"a",null,[],{}]`, `[{"a":1},]`, `[`, `[{]`,
		`{"account_id":"a"}` + "\n" + `{"employees":1e400}` + "\nnot json\n",
		"account_id,employees\na,3\nb,\"4\n", "account_id,,x\n", "\xff\xfe",
	} {
		for ct := range 3 {
			f.Add([]byte(seed), uint8(ct))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, ct uint8) {
		s, _ := newTestServer(t, Config{MaxBodyBytes: 256, MaxBatch: 8})
		types := []string{"application/json", "application/x-ndjson", "text/csv"}
		typ := types[int(ct)%len(types)]
		rec := serve(s.Handler(), request{method: http.MethodPost, path: batchPath, ct: typ, body: bytes.NewReader(body)})
		if rec.Code >= 500 {
			t.Fatalf("%s %q: status %d: %s", typ, body, rec.Code, rec.Body)
		}
		if rec.Code != http.StatusOK {
			return
		}
		switch typ {
		case "text/csv":
			r := csv.NewReader(rec.Body)
			for {
				_, err := r.Read()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("CSV answer %q: %v", rec.Body.String(), err)
				}
			}
		case "application/x-ndjson":
			for line := range bytes.Lines(rec.Body.Bytes()) {
				if !jsonValidLine(line) {
					t.Fatalf("answer line %q is not JSON", line)
				}
			}
		}
	})
}

func jsonValidLine(line []byte) bool {
	_, err := decodeAccount(bytes.TrimSuffix(line, []byte{'\n'}))
	var malformed *bodyError
	return !errors.As(err, &malformed)
}
