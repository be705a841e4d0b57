package features

import (
	"bytes"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tagSeparators are the separators a tags cell may use, in the order they
// are preferred when a column holds several: ";" and "|" rarely occur
// inside a value, "," often does ("Boston, MA").
const tagSeparators = ";|,"

// TagKey returns the form under which tags are compared: trimmed,
// lower-case, each inner run of white space made one space. "AWS", " aws"
// and "Aws " are one tag; so are "Google  Cloud" and "google cloud".
// Fitting, encoding, serving and rule matching all compare tags this way.
func TagKey(tag string) string {
	var buf [64]byte
	k := appendTagKey(buf[:0], tag)
	if string(k) == tag {
		return tag
	}
	return string(k)
}

// appendTagKey appends the TagKey of tag to dst.
func appendTagKey(dst []byte, tag string) []byte {
	space := false
	for _, r := range strings.TrimSpace(tag) {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space {
			dst = append(dst, ' ')
			space = false
		}
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
	}
	return dst
}

// SplitTags splits a tags cell at sep into its tags, trimmed, dropping
// empty ones. An empty sep means ";".
func SplitTags(cell, sep string) []string {
	if sep == "" {
		sep = ";"
	}
	var out []string
	for rest, more := cell, true; more; {
		var tag string
		tag, rest, more = strings.Cut(rest, sep)
		if tag = strings.TrimSpace(tag); tag != "" {
			out = append(out, tag)
		}
	}
	return out
}

// HasTag reports whether the tags cell, split at sep, holds tag, comparing
// by TagKey. It does not allocate for tags of up to 64 bytes. An empty sep
// means ";".
func HasTag(cell, sep, tag string) bool {
	if sep == "" {
		sep = ";"
	}
	var wb [64]byte
	want := appendTagKey(wb[:0], tag)
	if len(want) == 0 {
		return false
	}
	for rest, more := cell, true; more; {
		var t string
		t, rest, more = strings.Cut(rest, sep)
		var tb [64]byte
		if bytes.Equal(appendTagKey(tb[:0], t), want) {
			return true
		}
	}
	return false
}

// spellings counts the spellings of each tag key and picks the most common
// one (ties: the first in byte order), the form shown to people.
type spellings map[string]map[string]int

func (s spellings) add(key, raw string) {
	m := s[key]
	if m == nil {
		m = make(map[string]int, 1)
		s[key] = m
	}
	m[strings.Join(strings.Fields(raw), " ")]++
}

func (s spellings) best(key string) string {
	best, n := key, 0
	for raw, c := range s[key] {
		if c > n || c == n && raw < best {
			best, n = raw, c
		}
	}
	return best
}

// tagSniff is what sniffTags found for one separator.
type tagSniff struct {
	sep       string
	withSep   int     // cells holding the separator
	distinct  int     // distinct tag keys
	mixed     float64 // share of tags in multi-tag cells whose key occurs at two positions or more
	meanRunes float64 // mean length of a tag
	present   int
}

// looksLikeTags reports whether the split looks like a tag list: a fifth
// of the cells or more hold a list, tags repeat across rows, they are short,
// and (unless the name says tags) the same tag appears at different places
// in the lists. The last test tells "Slack, AWS" from "Boston, MA": the
// parts of a composite value keep their place, tags do not.
func (t tagSniff) looksLikeTags(byName bool) bool {
	if byName {
		return t.withSep > 0
	}
	return t.present > 0 && t.withSep*5 >= t.present && t.distinct*2 <= t.present &&
		t.meanRunes <= 40 && t.mixed >= 0.25
}

// sniffTags measures each separator on the present, non-placeholder cells
// (cells maps each to its count) and returns the one that looks most like
// a tag list ("" when none), with its measures.
func sniffTags(cells map[string]int, ph placeholders, byName bool) (string, tagSniff) {
	var best tagSniff
	for _, r := range tagSeparators {
		sep := string(r)
		t := measureTags(cells, sep, ph)
		if t.looksLikeTags(byName) && t.withSep > best.withSep {
			best = t
		}
	}
	return best.sep, best
}

func measureTags(cells map[string]int, sep string, ph placeholders) tagSniff {
	t := tagSniff{sep: sep}
	positions := make(map[string]uint64) // key -> bit set of positions (0..63)
	counts := make(map[string]int)       // key -> occurrences in multi-tag cells
	var runes, ntags int
	for cell, n := range cells {
		t.present += n
		if !strings.Contains(cell, sep) {
			k := TagKey(cell)
			if _, ok := positions[k]; !ok {
				positions[k] = 0
			}
			runes += n * utf8.RuneCountInString(k)
			ntags += n
			continue
		}
		t.withSep += n
		pos := 0
		for _, tag := range SplitTags(cell, sep) {
			if ph.has(tag) {
				continue
			}
			k := TagKey(tag)
			positions[k] |= 1 << min(pos, 63)
			counts[k] += n
			runes += n * utf8.RuneCountInString(k)
			ntags += n
			pos++
		}
	}
	t.distinct = len(positions)
	if ntags > 0 {
		t.meanRunes = float64(runes) / float64(ntags)
	}
	var mixed, all int
	for k, n := range counts {
		all += n
		if p := positions[k]; p&(p-1) != 0 {
			mixed += n
		}
	}
	if all > 0 {
		t.mixed = float64(mixed) / float64(all)
	}
	return t
}

// tagLevels counts the tags of a column on the given rows by key and
// returns the keys seen at least minCount times, most frequent first (ties
// by spelling), with the most common spelling of each.
func tagLevels(cells func(emit func(raw string)), minCount int) (keys, shown []string, counts map[string]int) {
	counts = make(map[string]int)
	sp := make(spellings)
	cells(func(raw string) {
		k := TagKey(raw)
		counts[k]++
		sp.add(k, raw)
	})
	for k, n := range counts {
		if n >= minCount {
			keys = append(keys, k)
		}
	}
	label := make(map[string]string, len(keys))
	for _, k := range keys {
		label[k] = sp.best(k)
	}
	sort.Slice(keys, func(a, b int) bool {
		ca, cb := counts[keys[a]], counts[keys[b]]
		if ca != cb {
			return ca > cb
		}
		return label[keys[a]] < label[keys[b]]
	})
	shown = make([]string, len(keys))
	for j, k := range keys {
		shown[j] = label[k]
	}
	return keys, shown, counts
}
