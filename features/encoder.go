package features

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
)

// EncoderConfig tunes the encoder. The zero value is ready to use.
type EncoderConfig struct {
	// MinLevelCount is how many training rows a category level or a tag
	// needs to get its own column; rarer ones share the "other" column.
	// Zero means 10.
	MinLevelCount int
	// MaxLevels caps the levels of one categorical column (the most
	// frequent are kept). Zero means 40.
	MaxLevels int
	// SkewThreshold is the sample skewness above which a non-negative
	// numeric column is log-transformed (log1p). Zero means 1.
	SkewThreshold float64
}

// Feature describes one column of the encoded matrix.
type Feature struct {
	// Name is readable: "employees", "employees missing", "industry=SaaS",
	// "industry other", "tech_stack has hubspot".
	Name string `json:"name"`
	// Source is the original column.
	Source string `json:"source"`
}

// ColumnEncoder encodes one feature column. Which fields are used depends
// on Role.
//
// Layout of its output columns, starting at Offset:
//   - numeric and date: the standardized value, then a missing indicator
//     when Missing is set;
//   - boolean: 0 or 1 (missing imputed with Median), then the indicator;
//   - categorical: one column per level, one "other" column for rare and
//     unseen levels, then the indicator;
//   - tags: one column per tag, then the indicator.
type ColumnEncoder struct {
	Name   string `json:"name"`
	Role   Role   `json:"role"`
	Kind   string `json:"kind"`
	Offset int    `json:"offset"`
	// Missing adds a missing-indicator column (the training data had
	// missing values).
	Missing bool `json:"missing"`
	// Median imputes missing numbers, on the raw scale.
	Median float64 `json:"median,omitempty"`
	// Log applies log1p before standardizing.
	Log bool `json:"log,omitempty"`
	// Mean and Std standardize the (log-transformed) value.
	Mean        float64 `json:"mean,omitempty"`
	Std         float64 `json:"std,omitempty"`
	NonNegative bool    `json:"non_negative,omitempty"`
	// Levels are the categorical levels or tags with their own column.
	Levels    []string `json:"levels,omitempty"`
	Separator string   `json:"separator,omitempty"`

	// index maps a level (a tag's TagKey) to its position in Levels.
	index map[string]int
	ph    placeholders
}

// Width returns how many encoded columns c produces.
func (c *ColumnEncoder) Width() int {
	w := 0
	switch c.Role {
	case RoleCategorical:
		w = len(c.Levels) + 1
	case RoleTags:
		w = len(c.Levels)
	default:
		w = 1
	}
	if c.Missing {
		w++
	}
	return w
}

// Encoder turns accounts into rows of numbers. It is fitted on training
// rows, saved in the model artifact, and used unchanged when serving.
type Encoder struct {
	Columns []ColumnEncoder `json:"columns"`
	Width   int             `json:"width"`
	// Placeholders are the schema's text values read as missing in
	// categorical and tag columns, compared without case and surrounding
	// space.
	Placeholders []string `json:"placeholders,omitempty"`
}

// Fit fits an encoder for the feature columns of s on the given rows of t
// (nil rows means all).
func Fit(t *datasets.Table, s *Schema, rows []int, cfg EncoderConfig) (*Encoder, error) {
	if cfg.MinLevelCount == 0 {
		cfg.MinLevelCount = 10
	}
	if cfg.MaxLevels == 0 {
		cfg.MaxLevels = 40
	}
	if cfg.SkewThreshold == 0 {
		cfg.SkewThreshold = 1
	}
	if rows == nil {
		rows = make([]int, t.Rows())
		for i := range rows {
			rows[i] = i
		}
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("fit encoder: no rows: %w", icp.ErrInvalid)
	}
	e := &Encoder{Placeholders: append([]string(nil), s.Placeholders...)}
	ph := placeholders(e.Placeholders)
	for _, sc := range s.Features() {
		col := t.Column(sc.Name)
		if col == nil {
			return nil, fmt.Errorf("fit encoder: column %q: not in the table: %w", sc.Name, icp.ErrInvalid)
		}
		ce := ColumnEncoder{Name: sc.Name, Role: sc.Role, Kind: col.Kind.String(), NonNegative: sc.NonNegative}
		switch sc.Role {
		case RoleNumeric, RoleDate, RoleBoolean:
			fitNumeric(&ce, col, rows, cfg)
		case RoleCategorical:
			fitLevels(&ce, rows, cfg, func(i int, emit func(string)) {
				if v := col.Text(i); v != "" && (col.Kind != datasets.String || !ph.has(v)) {
					emit(v)
				}
			})
			ce.Levels = topLevels(ce.Levels, cfg.MaxLevels)
		case RoleTags:
			ce.Separator = sc.Separator
			if ce.Separator == "" {
				ce.Separator = ";"
			}
			fitTags(&ce, col, rows, cfg, ph)
		}
		ce.Offset = e.Width
		e.Width += ce.Width()
		e.Columns = append(e.Columns, ce)
	}
	if e.Width == 0 {
		return nil, fmt.Errorf("fit encoder: no feature columns: %w", icp.ErrInvalid)
	}
	e.index()
	return e, nil
}

func fitNumeric(ce *ColumnEncoder, col *datasets.Column, rows []int, cfg EncoderConfig) {
	vals := make([]float64, 0, len(rows))
	for _, i := range rows {
		if v := numValue(col, ce.Role, i); !math.IsNaN(v) {
			vals = append(vals, v)
		}
	}
	ce.Missing = len(vals) < len(rows)
	if len(vals) == 0 {
		ce.Std = 1
		return
	}
	sort.Float64s(vals)
	ce.Median = stat.Quantile(0.5, stat.Empirical, vals, nil)
	if ce.Role == RoleBoolean {
		// Booleans stay 0/1 so that rules and attributions read plainly.
		ce.Mean, ce.Std = 0, 1
		return
	}
	if ce.Role == RoleNumeric && vals[0] >= 0 && stat.Skew(vals, nil) > cfg.SkewThreshold {
		ce.Log = true
	}
	// Standardize over the imputed values, as the model will see them.
	tv := make([]float64, len(rows))
	for k, v := range vals {
		tv[k] = ce.transform(v)
	}
	for k := len(vals); k < len(rows); k++ {
		tv[k] = ce.transform(ce.Median)
	}
	ce.Mean, ce.Std = stat.MeanStdDev(tv, nil)
	if !(ce.Std > 1e-12) {
		ce.Std = 1
	}
}

// transform applies the log step (when set) to a raw value.
func (c *ColumnEncoder) transform(v float64) float64 {
	if c.Log {
		return math.Log1p(math.Max(v, 0))
	}
	return v
}

// fitLevels counts the values emitted for each row and keeps those seen at
// least MinLevelCount times, most frequent first (ties by name).
func fitLevels(ce *ColumnEncoder, rows []int, cfg EncoderConfig, each func(i int, emit func(string))) {
	counts := make(map[string]int)
	for _, i := range rows {
		n := 0
		each(i, func(v string) { counts[v]++; n++ })
		if n == 0 {
			ce.Missing = true
		}
	}
	for v, n := range counts {
		if n >= cfg.MinLevelCount {
			ce.Levels = append(ce.Levels, v)
		}
	}
	sort.Slice(ce.Levels, func(a, b int) bool {
		ca, cb := counts[ce.Levels[a]], counts[ce.Levels[b]]
		if ca != cb {
			return ca > cb
		}
		return ce.Levels[a] < ce.Levels[b]
	})
}

// fitTags keeps the tags seen on at least MinLevelCount training rows,
// compared by TagKey and shown with their most common spelling, most
// frequent first (ties by spelling).
func fitTags(ce *ColumnEncoder, col *datasets.Column, rows []int, cfg EncoderConfig, ph placeholders) {
	_, ce.Levels, _ = tagLevels(func(emit func(string)) {
		for _, i := range rows {
			n := 0
			for _, tag := range SplitTags(col.Str[i], ce.Separator) {
				if !ph.has(tag) {
					emit(tag)
					n++
				}
			}
			if n == 0 {
				ce.Missing = true
			}
		}
	}, cfg.MinLevelCount)
}

func topLevels(levels []string, max int) []string {
	if len(levels) > max {
		return levels[:max]
	}
	return levels
}

func (e *Encoder) index() {
	for k := range e.Columns {
		c := &e.Columns[k]
		c.index = make(map[string]int, len(c.Levels))
		for j, l := range c.Levels {
			if c.Role == RoleTags {
				l = TagKey(l)
			}
			if _, dup := c.index[l]; !dup {
				c.index[l] = j
			}
		}
		c.ph = placeholders(e.Placeholders)
	}
}

// UnmarshalJSON decodes an encoder and checks that its layout is whole.
func (e *Encoder) UnmarshalJSON(b []byte) error {
	type plain Encoder
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*e = Encoder(p)
	off := 0
	for k := range e.Columns {
		c := &e.Columns[k]
		if !c.Role.IsFeature() {
			return fmt.Errorf("encoder column %q: role %q is not a feature role", c.Name, c.Role)
		}
		if c.Offset != off {
			return fmt.Errorf("encoder column %q: offset %d, want %d", c.Name, c.Offset, off)
		}
		if (c.Role == RoleNumeric || c.Role == RoleDate || c.Role == RoleBoolean) && !(c.Std > 0) {
			return fmt.Errorf("encoder column %q: standard deviation %g is not positive", c.Name, c.Std)
		}
		off += c.Width()
	}
	if off != e.Width {
		return fmt.Errorf("encoder: width %d, columns give %d", e.Width, off)
	}
	e.index()
	return nil
}

// Features describes each encoded column, in order.
func (e *Encoder) Features() []Feature {
	out := make([]Feature, 0, e.Width)
	for _, c := range e.Columns {
		add := func(name string) { out = append(out, Feature{Name: name, Source: c.Name}) }
		switch c.Role {
		case RoleCategorical:
			for _, l := range c.Levels {
				add(c.Name + "=" + l)
			}
			add(c.Name + " other")
		case RoleTags:
			for _, l := range c.Levels {
				add(c.Name + " has " + l)
			}
		default:
			add(c.Name)
		}
		if c.Missing {
			add(c.Name + " missing")
		}
	}
	return out
}

// Transform encodes every row of t into dst, which must be t.Rows() by
// Width; nil dst allocates. A feature column absent from t is treated as
// missing in every row.
func (e *Encoder) Transform(t *datasets.Table, dst *mat.Dense) (*mat.Dense, error) {
	n := t.Rows()
	if dst == nil {
		dst = mat.NewDense(max(n, 1), e.Width, nil)
	} else if r, c := dst.Dims(); r != n || c != e.Width {
		panic("features: destination size mismatch")
	}
	at := 0
	for k := range e.Columns {
		ce := &e.Columns[k]
		var col *datasets.Column
		col, at = ColumnFrom(t, ce.Name, at)
		if col != nil && col.Kind.String() != ce.Kind && !(ce.Role == RoleCategorical) {
			return nil, fmt.Errorf("encode column %q: holds %ss, the model was trained on %ss: %w",
				ce.Name, col.Kind, ce.Kind, icp.ErrInvalid)
		}
		for i := 0; i < n; i++ {
			ce.encode(col, i, dst.RawRowView(i)[ce.Offset:ce.Offset+ce.Width()])
		}
	}
	return dst, nil
}

// EncodeRow encodes row i of t into dst, which must have length Width.
func (e *Encoder) EncodeRow(t *datasets.Table, i int, dst []float64) {
	if len(dst) != e.Width {
		panic("features: destination length mismatch")
	}
	at := 0
	for k := range e.Columns {
		ce := &e.Columns[k]
		var col *datasets.Column
		col, at = ColumnFrom(t, ce.Name, at)
		ce.encode(col, i, dst[ce.Offset:ce.Offset+ce.Width()])
	}
}

// ColumnFrom returns the column of t named name, searching from index from
// onwards and then from the start, and the index after it (from when there
// is none). Columns looked up in the table's order, as an encoder's and a
// schema's are, are each found at once when every call passes back the
// index the previous one returned: a search from the start for every
// column of every row takes time quadratic in the columns, seconds per
// row for a table of 10,000.
func ColumnFrom(t *datasets.Table, name string, from int) (*datasets.Column, int) {
	n := len(t.Columns)
	for k := range n {
		j := (from + k) % n
		if c := t.Columns[j]; c.Name == name {
			return c, j + 1
		}
	}
	return nil, from
}

// encode writes row i of col (nil: missing) into out.
func (c *ColumnEncoder) encode(col *datasets.Column, i int, out []float64) {
	for j := range out {
		out[j] = 0
	}
	missing := col == nil || col.IsMissing(i)
	switch c.Role {
	case RoleNumeric, RoleDate, RoleBoolean:
		v := c.Median
		if !missing {
			v = numValue(col, c.Role, i)
		}
		out[0] = (c.transform(v) - c.Mean) / c.Std
	case RoleCategorical:
		if !missing && col.Kind == datasets.String && c.ph.has(col.Str[i]) {
			missing = true
		}
		if !missing {
			if j, ok := c.index[col.Text(i)]; ok {
				out[j] = 1
			} else {
				out[len(c.Levels)] = 1
			}
		}
	case RoleTags:
		if !missing {
			missing = !c.encodeTags(col.Str[i], out)
		}
	}
	if c.Missing && missing {
		out[len(out)-1] = 1
	}
}

// encodeTags sets the column of each known tag of cell, compared by
// TagKey, as SplitTags splits it but without its slice. It reports whether
// the cell holds any tag that is not a placeholder.
func (c *ColumnEncoder) encodeTags(cell string, out []float64) bool {
	sep := c.Separator
	if sep == "" {
		sep = ";"
	}
	found := false
	for rest, more := cell, true; more; {
		var tag string
		tag, rest, more = strings.Cut(rest, sep)
		if c.ph.has(tag) {
			continue
		}
		found = true
		var buf [64]byte
		if j, ok := c.index[string(appendTagKey(buf[:0], tag))]; ok {
			out[j] = 1
		}
	}
	return found
}

// Raw returns the value a person would read for encoded column j at
// encoded value v: for a numeric column the value on the original scale
// (undoing standardization and the log step), for the others v itself.
func (e *Encoder) Raw(j int, v float64) float64 {
	for k := range e.Columns {
		c := &e.Columns[k]
		if j < c.Offset || j >= c.Offset+c.Width() {
			continue
		}
		if j != c.Offset || c.Role == RoleCategorical || c.Role == RoleTags || c.Role == RoleBoolean {
			return v
		}
		x := v*c.Std + c.Mean
		if c.Log {
			x = math.Expm1(x)
		}
		return x
	}
	panic("features: encoded column out of range")
}

// numValue reads a numeric value for the encoder: dates in years since 1970.
func numValue(col *datasets.Column, role Role, i int) float64 {
	v := col.Num[i]
	if role == RoleDate {
		return v / 365.25
	}
	return v
}

// MarkMissing sets to NaN, in an encoded row, the value of each numeric or
// date column whose missing indicator is set, for learners that route
// missing values themselves (trees). The indicator stays set.
func (e *Encoder) MarkMissing(x []float64) {
	for k := range e.Columns {
		c := &e.Columns[k]
		if c.Missing && (c.Role == RoleNumeric || c.Role == RoleDate) && x[c.Offset+1] == 1 {
			x[c.Offset] = math.NaN()
		}
	}
}
