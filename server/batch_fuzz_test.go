package server

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// FuzzLineReader checks the NDJSON splitter on arbitrary bodies: it never
// panics, lines never exceed the cap, and the lines are the body's lines
// without their line ends.
func FuzzLineReader(f *testing.F) {
	for _, seed := range []string{
		"", "\n", "a\nb", "a\r\nb\r\n", `{"a":1}` + "\n" + `{"b":"x\ny"}`,
		"\"unterminated\n", strings.Repeat("x", 40) + "\n" + "y",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		const maxLine = 32
		rd := newLineReader(bytes.NewReader(body), maxLine)
		var lines [][]byte
		tooLong := 0
		for n := 0; ; n++ {
			if n > len(body)+1 {
				t.Fatalf("more lines than bytes in %q", body)
			}
			l, err := rd.next()
			if errors.Is(err, errEndOfBody) {
				break
			}
			if err != nil {
				t.Fatalf("next() = %v, want lines or the end", err)
			}
			if len(l.data) > maxLine {
				t.Fatalf("line of %d bytes, over the cap %d", len(l.data), maxLine)
			}
			if l.tooLong {
				tooLong++
				continue
			}
			lines = append(lines, bytes.Clone(l.data))
		}
		if rd.line > bytes.Count(body, []byte{'\n'})+1 {
			t.Errorf("line = %d, more than the body's %d lines", rd.line, bytes.Count(body, []byte{'\n'})+1)
		}
		if tooLong > 0 {
			return
		}
		want := bytes.Split(bytes.TrimSuffix(body, []byte{'\n'}), []byte{'\n'})
		if len(body) == 0 {
			want = nil
		}
		if len(lines) != len(want) {
			t.Fatalf("%d lines, want the %d lines of %q", len(lines), len(want), body)
		}
		for i := range want {
			if w := bytes.TrimSuffix(want[i], []byte{'\r'}); !bytes.Equal(lines[i], w) {
				t.Errorf("line %d = %q, want %q", i, lines[i], w)
			}
		}
	})
}

// FuzzCSVStream checks the CSV reader of the batch route against
// encoding/csv reading the whole body at once: the same records, the same
// parse errors at the same lines, and a record refused as too long only
// when the body holds a record over the cap.
func FuzzCSVStream(f *testing.F) {
	for _, seed := range []string{
		"", "\n", "a,b\nc,d", "x,\"y\nz\",w\nq,r,s\n", "\"unterminated\n", "a\"b,c\n",
		strings.Repeat("x", 40) + "\n" + "y", "\ufeffaccount_id,industry\nA,\"Fin,\"\"Tech\"\"\"\n",
		"a\r\nb\r\n\r\nc", "\"" + strings.Repeat("y\n", 30) + "\"\nz",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		const maxRecord = 32
		type result struct {
			rec  []string
			line int
			err  string
		}
		var want []result
		longest := int64(0)
		ref := csv.NewReader(bytes.NewReader(body))
		ref.FieldsPerRecord = -1
		for prev := int64(0); ; {
			rec, err := ref.Read()
			longest = max(longest, ref.InputOffset()-prev)
			prev = ref.InputOffset()
			if errors.Is(err, io.EOF) {
				break
			}
			r := result{rec: rec}
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				r.rec, r.line, r.err = nil, pe.StartLine, err.Error()
			} else if err != nil {
				t.Fatalf("encoding/csv: %v", err)
			} else {
				r.line, _ = ref.FieldPos(0)
			}
			want = append(want, r)
		}
		rd := newCSVStream(bytes.NewReader(body), maxRecord)
		for i := 0; ; i++ {
			rec, line, err := rd.next()
			if errors.Is(err, errEndOfBody) {
				if i != len(want) {
					t.Fatalf("%d records, want %d", i, len(want))
				}
				return
			}
			if errors.Is(err, errRecordTooLong) {
				if longest <= maxRecord {
					t.Fatalf("record %d refused as too long, but no record of %q is over %d bytes", i, body, maxRecord)
				}
				return
			}
			if i >= len(want) {
				t.Fatalf("record %d = %q, %v; want the end", i, rec, err)
			}
			got := result{rec: rec, line: line}
			if err != nil {
				got.err = err.Error()
			}
			if !slices.Equal(got.rec, want[i].rec) || got.line != want[i].line || got.err != want[i].err {
				t.Fatalf("record %d = %+v, want %+v (encoding/csv)", i, got, want[i])
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
