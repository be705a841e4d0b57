package sqlexport

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/profile"
)

// Options says which database and table the query is for.
type Options struct {
	// Dialect is Postgres or DuckDB.
	Dialect string
	// Table names the table of accounts, optionally with its schema
	// ("analytics.accounts"); each part is quoted.
	Table string
	// Margin adds the model's margin (log-odds) as a last column, margin.
	Margin bool
}

// The columns of the query's answer.
const (
	ColAccountID    = "account_id"
	ColModelVersion = "model_version"
	ColScore        = "score"
	ColPercentile   = "percentile"
	ColTier         = "tier"
	ColSegment      = "segment"
	ColAntiICP      = "anti_icp"
	ColMargin       = "margin"
)

// Query returns one SELECT statement that scores every row of the table
// as p scores it (see the package documentation), usable as the body of
// CREATE VIEW. Its columns are account_id (the schema's id column as
// trimmed text, "" when the row has none), model_version, score,
// percentile, tier (tier1, tier2, tier3 or non_fit), segment and anti_icp
// (the rule ids, NULL when no rule matches).
func Query(p *profile.Profile, opts Options) (string, error) {
	b, err := newBuilder(p, opts)
	if err != nil {
		return "", err
	}
	return b.query()
}

// CreateTable returns the CREATE TABLE statement of a table that holds the
// columns of p's training export, in their order: numbers as double
// precision, the id and everything else as text.
func CreateTable(p *profile.Profile, opts Options) (string, error) {
	if _, err := newDialect(opts.Dialect); err != nil {
		return "", err
	}
	if strings.TrimSpace(opts.Table) == "" {
		return "", errors.New("sql export: no table name")
	}
	var b strings.Builder
	b.WriteString("CREATE TABLE " + tableName(opts.Table) + " (\n")
	for k, c := range p.Schema.Columns {
		typ := "TEXT"
		if c.Kind == "number" && c.Name != p.Schema.ID {
			typ = "DOUBLE PRECISION"
		}
		sep := ","
		if k == len(p.Schema.Columns)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "  %s %s%s\n", ident(c.Name), typ, sep)
	}
	b.WriteString(");\n")
	return b.String(), nil
}

// layer is one SELECT of the query: the columns it adds to the previous
// layer's.
type layer struct {
	names, exprs []string
}

func (l *layer) add(name, expr string) {
	l.names = append(l.names, name)
	l.exprs = append(l.exprs, expr)
}

// source is a column of the table as the query reads it.
type source struct {
	name string // in the table
	kind string // the schema's kind: string, number, bool or date
	role features.Role
	sep  string // of a tag list
	// v names the value in the layers: a double for number, bool and
	// date columns (days), trimmed text for categories (NULL when
	// missing), the list of tag keys for tags.
	v string
	// present names the condition that a tag list is not missing.
	present string
}

// builder writes the query of one profile.
type builder struct {
	p   *profile.Profile
	d   dialect
	tbl string
	ph  []string // placeholders, lower-cased

	sources map[string]*source
	order   []*source
	base    layer // over the table: the columns, text trimmed
	raw     layer // values
	raw2    layer // tag keys; dates from epoch seconds
	enc     layer // encoded columns used, rules
	xs      map[int]string
	logs    []layer // the log step of the logistic model
	logOf   map[string]string

	withMargin bool
}

func newBuilder(p *profile.Profile, opts Options) (*builder, error) {
	d, err := newDialect(opts.Dialect)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(opts.Table) == "" {
		return nil, errors.New("sql export: no table name")
	}
	if p.Tiers.By == profile.TierByValue {
		// The query has no value model: its tiers would be the score's.
		return nil, errors.New("sql export: the model's tiers are on the expected value, which the query does not compute; train with --tier-by score to export it")
	}
	b := &builder{p: p, d: d, withMargin: opts.Margin, tbl: tableName(opts.Table), sources: make(map[string]*source),
		xs: make(map[int]string), logOf: make(map[string]string)}
	for _, v := range p.Encoder.Placeholders {
		b.ph = append(b.ph, strings.ToLower(v))
	}
	idExpr := "''"
	if id := p.Schema.ID; id != "" {
		b.base.add("_icp_cid", b.d.trim(ident(id)))
		idExpr = "CASE WHEN " + b.missingText("_icp_cid") + " THEN '' ELSE _icp_cid END"
	}
	b.raw.add("_icp_id", idExpr)
	return b, nil
}

// missingText is true when the trimmed text t is empty or a missing-value
// marker of a text column (datasets.IsMissing).
func (b *builder) missingText(t string) string {
	return "(" + t + " IS NULL OR " + t + " = '' OR " + t + " = '#N/A' OR " + b.d.in("lower("+t+")", []string{"-", "--", "n/a", "nan", "null"}) + ")"
}

// src returns the column of the table with the given name, adding its
// value to the layers on first use; nil when the schema does not know it
// (a rule on it sees a missing value).
func (b *builder) src(name string) (*source, error) {
	if s, ok := b.sources[name]; ok {
		return s, nil
	}
	sc := b.p.Schema.Column(name)
	if sc == nil {
		return nil, nil
	}
	s := &source{name: name, kind: sc.Kind, role: sc.Role, sep: sc.Separator, v: fmt.Sprintf("_icp_v%d", len(b.order))}
	if s.sep == "" {
		s.sep = ";"
	}
	col := ident(name)
	c := "_icp_c" + strconv.Itoa(len(b.order))
	if s.kind == "number" {
		b.base.add(c, col)
	} else {
		b.base.add(c, b.d.trim(col))
	}
	switch {
	case s.kind == "number":
		b.raw.add(s.v, "NULLIF("+c+", "+b.d.num(nan())+")")
	case s.kind == "bool":
		t := "lower(" + c + ")"
		b.raw.add(s.v, "CASE WHEN "+b.d.in(t, []string{"t", "true", "y", "yes", "1"})+" THEN "+b.d.num(1)+
			" WHEN "+b.d.in(t, []string{"f", "false", "n", "no", "0"})+" THEN "+b.d.num(0)+" END")
	case s.kind == "date":
		e := "_icp_e" + strconv.Itoa(len(b.order))
		b.raw.add(e, b.d.epoch(c))
		b.raw2.add(s.v, b.d.days(e))
	case s.kind == "string" && s.role == features.RoleTags:
		if strings.TrimFunc(s.sep, unicode.IsSpace) != s.sep || strings.ToLower(s.sep) != s.sep || strings.ToUpper(s.sep) != s.sep {
			return nil, fmt.Errorf("sql export: column %q: tag separator %q is not supported (white space or letters)", name, s.sep)
		}
		for _, p := range b.p.Encoder.Placeholders {
			for _, ce := range b.p.Encoder.Columns {
				if ce.Name == name && slices.ContainsFunc(ce.Levels, func(l string) bool { return features.TagKey(l) == features.TagKey(p) }) {
					return nil, fmt.Errorf("sql export: column %q: the tag %q reads as the placeholder %q", name, features.TagKey(p), p)
				}
			}
		}
		tok := "_icp_p" + strconv.Itoa(len(b.order))
		s.present = "_icp_f" + strconv.Itoa(len(b.order))
		b.raw.add(tok, b.d.tagTokens(c, s.sep))
		b.raw2.add(s.v, b.d.tagKeys(tok, s.sep))
		b.raw2.add(s.present, b.d.tagPresent(tok, s.sep, b.ph))
	case s.kind == "string":
		miss := b.missingText(c)
		if len(b.ph) > 0 {
			miss = "(" + miss + " OR " + b.d.in("lower("+c+")", b.ph) + ")"
		}
		b.raw.add(s.v, "CASE WHEN "+miss+" THEN NULL ELSE "+c+" END")
	default:
		return nil, fmt.Errorf("sql export: column %q: kind %q is not supported", name, s.kind)
	}
	b.sources[name] = s
	b.order = append(b.order, s)
	return s, nil
}

// missing is the SQL condition (never NULL) of a missing value of s.
func (b *builder) missing(s *source) string {
	if s.kind == "string" && s.role == features.RoleTags {
		return "(NOT " + s.present + ")"
	}
	return "(" + s.v + " IS NULL)"
}

// query assembles the layers.
func (b *builder) query() (string, error) {
	if b.p.Encoder == nil || b.p.Schema == nil {
		return "", errors.New("sql export: profile without schema or encoder")
	}
	for _, ce := range b.p.Encoder.Columns {
		if _, err := b.src(ce.Name); err != nil {
			return "", err
		}
	}
	margin, err := b.margin()
	if err != nil {
		return "", err
	}
	seg, err := b.ruleCase(segmentRules(b.p))
	if err != nil {
		return "", err
	}
	anti, err := b.ruleCase(antiRules(b.p))
	if err != nil {
		return "", err
	}
	b.enc.add("_icp_segment", seg)
	b.enc.add("_icp_anti", anti)

	var m layer
	m.add("_icp_margin", margin)
	var sc layer
	score, err := b.score("_icp_margin")
	if err != nil {
		return "", err
	}
	sc.add("_icp_score", score)
	tier, err := b.tier("_icp_margin")
	if err != nil {
		return "", err
	}
	sc.add("_icp_tier", tier)

	layers := []layer{b.base, b.raw, b.raw2}
	layers = append(layers, b.logs...)
	layers = append(layers, b.enc, m, sc)
	var q strings.Builder
	from := b.tbl
	for k, l := range layers {
		if len(l.names) == 0 {
			continue
		}
		var sel strings.Builder
		if k > 0 {
			sel.WriteString("*")
		}
		for j := range l.names {
			if sel.Len() > 0 {
				sel.WriteString(",\n    ")
			}
			sel.WriteString(l.exprs[j] + " AS " + l.names[j])
		}
		alias := fmt.Sprintf("_icp_l%d", k)
		if k == 0 {
			from = "SELECT " + sel.String() + "\n  FROM " + from + b.d.fence()
		} else {
			from = "SELECT " + sel.String() + "\n  FROM (\n" + from + "\n) AS " + alias + b.d.fence()
		}
	}
	extra := ""
	if b.withMargin {
		extra = ",\n  _icp_margin AS " + ColMargin
	}
	fmt.Fprintf(&q, "SELECT _icp_id AS %s,\n  %s AS %s,\n  _icp_score AS %s,\n  %s AS %s,\n  _icp_tier AS %s,\n  _icp_segment AS %s,\n  _icp_anti AS %s%s\nFROM (\n%s\n) AS _icp_scored",
		ColAccountID, str(b.p.Version), ColModelVersion, ColScore, b.percentile("_icp_score"), ColPercentile,
		ColTier, ColSegment, ColAntiICP, extra, from)
	return q.String(), nil
}
