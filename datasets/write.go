package datasets

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
)

// WriteCSV writes t as comma-separated values: a header of column names,
// then one record per row. Numbers use the shortest form that reads back
// exactly (integers without a fraction, "1200" rather than "1200.0"),
// dates are 2006-01-02, or RFC 3339 in UTC when they carry a time of day,
// bools are true and false, and missing values are empty cells.
func WriteCSV(w io.Writer, t *Table) error {
	cw := csv.NewWriter(w)
	rec := make([]string, len(t.Columns))
	for j, c := range t.Columns {
		rec[j] = c.Name
	}
	if err := cw.Write(rec); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	var buf []byte
	for i := range t.Rows() {
		for j, c := range t.Columns {
			switch c.Kind {
			case String:
				rec[j] = c.Str[i]
				continue
			}
			v := c.Num[i]
			if math.IsNaN(v) {
				rec[j] = ""
				continue
			}
			buf = appendValue(buf[:0], c.Kind, v)
			rec[j] = string(buf)
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write csv: row %d: %w", i+1, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// appendValue appends the text of a non-missing value of a Number, Bool or
// Date column.
func appendValue(dst []byte, k Kind, v float64) []byte {
	switch k {
	case Bool:
		return strconv.AppendBool(dst, v != 0)
	case Date:
		t := dayTime(v)
		if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
			return t.AppendFormat(dst, "2006-01-02")
		}
		return t.AppendFormat(dst, time.RFC3339Nano)
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.AppendInt(dst, int64(v), 10)
	}
	return strconv.AppendFloat(dst, v, 'g', -1, 64)
}
