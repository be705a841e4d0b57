package profile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/model/gbm"
)

// FormatVersion is the artifact format this package writes and reads.
// A change that old readers cannot follow bumps it.
const FormatVersion = 1

// formatName marks a file as an ICP model artifact.
const formatName = "icp-model"

// maxArtifactBytes caps what Decode reads, so a wrong file cannot exhaust
// memory.
const maxArtifactBytes = 512 << 20

// The budget of a profile's decoding, checked on the JSON text before any
// of it is decoded (see scanArtifact), so that a hostile artifact whose
// checksum matches is refused without taking the memory it asks for.
const (
	// maxNesting bounds how deeply objects and arrays nest.
	maxNesting = 32
	// maxArrayLen bounds the elements of an array: it admits a segment
	// centre or a coefficient vector of gbm.MaxFeatures encoded columns,
	// several times over.
	maxArrayLen = 4 * gbm.MaxFeatures
	// decodeBudget bounds the memory the decoded profile takes, as
	// estimated from its tokens (see tokenCost).
	decodeBudget = 256 << 20
)

// envelope is the artifact file: the profile as indented JSON, and its
// checksum (see profileSum).
type envelope struct {
	Format        string          `json:"format"`
	FormatVersion int             `json:"format_version"`
	Checksum      string          `json:"checksum"`
	Profile       json.RawMessage `json:"profile"`
}

// Encode writes p as a versioned, checksummed JSON artifact. The same
// profile always gives the same bytes. The profile is marshalled once: its
// compact JSON is what the checksum covers, indented for the file.
func (p *Profile) Encode(w io.Writer) error {
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode profile: %w", err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\n  \"format\": %q,\n  \"format_version\": %d,\n  \"checksum\": %q,\n  \"profile\": ",
		formatName, FormatVersion, compactSum(body))
	if err := json.Indent(&b, body, "  ", "  "); err != nil {
		return fmt.Errorf("encode profile: %w", err)
	}
	b.WriteString("\n}\n")
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("encode profile: %w", err)
	}
	return nil
}

// Checksum returns the artifact's checksum, its identity.
func (p *Profile) Checksum() (string, error) {
	body, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("checksum: %w", err)
	}
	return compactSum(body), nil
}

// Decode reads an artifact written by Encode. It refuses, with an error
// matching icp.ErrInvalid, a file that is not an artifact, one of another
// format version, one whose checksum does not match (corrupted or edited),
// and one whose parts do not fit together.
func Decode(r io.Reader) (*Profile, error) {
	p, _, err := DecodeChecksum(r)
	return p, err
}

// DecodeChecksum is Decode that also returns the checksum it verified,
// which equals the decoded profile's Checksum without encoding it again.
func DecodeChecksum(r io.Reader) (*Profile, string, error) {
	b, err := readArtifact(r)
	if err != nil {
		return nil, "", err
	}
	return DecodeBytes(b)
}

// DecodeBytes is DecodeChecksum of an artifact held in memory, which it
// reads without copying. It refuses an artifact larger than 512 MiB, one
// whose JSON nests deeper than 32 levels, holds an array longer than its
// place allows (a tree's nodes, the trees; any array beyond 4 times
// gbm.MaxFeatures) or would take more than 256 MiB once decoded: these
// checks run on the text, before the profile is decoded and before its
// checksum is computed, so a hostile file costs little more than its own
// bytes.
func DecodeBytes(b []byte) (*Profile, string, error) {
	if len(b) > maxArtifactBytes {
		return nil, "", invalid("larger than %d MiB", maxArtifactBytes>>20)
	}
	env, body, err := scanArtifact(b)
	if err != nil {
		return nil, "", err
	}
	switch {
	case env.Format != formatName:
		return nil, "", invalid("not an ICP model artifact (format %q, want %q)", env.Format, formatName)
	case env.FormatVersion > FormatVersion:
		return nil, "", invalid("format version %d is newer than this program reads (%d): upgrade the program", env.FormatVersion, FormatVersion)
	case env.FormatVersion != FormatVersion:
		return nil, "", invalid("format version %d is not supported (this program reads %d): retrain the model", env.FormatVersion, FormatVersion)
	case body == nil:
		return nil, "", invalid("no profile")
	}
	var compact bytes.Buffer
	compact.Grow(len(body))
	if err := json.Compact(&compact, body); err != nil {
		return nil, "", invalid("profile: %v", err)
	}
	got := compactSum(compact.Bytes())
	if got != env.Checksum {
		return nil, "", invalid("checksum mismatch: the file was modified or corrupted (recorded %s, computed %s)", env.Checksum, got)
	}
	dec := json.NewDecoder(&compact)
	dec.DisallowUnknownFields()
	var p Profile
	if err := dec.Decode(&p); err != nil {
		return nil, "", invalid("profile: %v", err)
	}
	if err := p.check(); err != nil {
		return nil, "", invalid("profile: %v", err)
	}
	return &p, got, nil
}

// readArtifact reads at most maxArtifactBytes+1 bytes of r, in one buffer
// of the size r reports when it does (a file, a bytes.Reader), so that a
// large artifact is not held twice while the buffer grows.
func readArtifact(r io.Reader) ([]byte, error) {
	size := -1
	switch v := r.(type) {
	case interface{ Len() int }:
		size = v.Len()
	case interface{ Stat() (os.FileInfo, error) }:
		if fi, err := v.Stat(); err == nil && fi.Mode().IsRegular() {
			size = int(min(fi.Size(), maxArtifactBytes+1))
		}
	}
	if size > maxArtifactBytes {
		return nil, invalid("larger than %d MiB", maxArtifactBytes>>20)
	}
	var buf bytes.Buffer
	if size >= 0 {
		buf.Grow(size + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(io.LimitReader(r, maxArtifactBytes+1)); err != nil {
		return nil, fmt.Errorf("decode artifact: %w", err)
	}
	if buf.Len() > maxArtifactBytes {
		return nil, invalid("larger than %d MiB", maxArtifactBytes>>20)
	}
	return buf.Bytes(), nil
}

// scanArtifact reads the envelope of the artifact b in one streaming pass
// and returns it with the profile's JSON text, a part of b. While it
// passes over the profile it checks the decoding budget: nesting, array
// lengths and the estimated size of what decoding would build. The
// envelope's unknown members are skipped, as encoding/json skips them; a
// repeated member name anywhere is refused.
func scanArtifact(b []byte) (envelope, []byte, error) {
	var env envelope
	var body []byte
	dec := jsontext.NewDecoder(bytes.NewBuffer(b))
	notJSON := func(err error) error {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return invalid("not JSON: %v", err)
	}
	tok, err := dec.ReadToken()
	if err != nil {
		return env, nil, notJSON(err)
	}
	if k := tok.Kind(); k != '{' {
		what := map[jsontext.Kind]string{'[': "an array", '"': "a string", '0': "a number", 't': "true", 'f': "false", 'n': "null"}[k]
		return env, nil, invalid("not an ICP model artifact (%s, not an object)", what)
	}
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return env, nil, notJSON(err)
		}
		// A token is valid until the next read.
		name := tok.String()
		switch name {
		case "format", "checksum":
			v, err := dec.ReadToken()
			if err != nil {
				return env, nil, notJSON(err)
			}
			if v.Kind() != '"' {
				return env, nil, invalid("%s: want a string", name)
			}
			if name == "format" {
				env.Format = v.String()
			} else {
				env.Checksum = v.String()
			}
		case "format_version":
			v, err := dec.ReadToken()
			if err != nil {
				return env, nil, notJSON(err)
			}
			if v.Kind() != '0' {
				return env, nil, invalid("format_version: want an integer")
			}
			n := v.Int() // Int panics on a token that is not a number
			if float64(n) != v.Float() {
				return env, nil, invalid("format_version: want an integer")
			}
			env.FormatVersion = int(max(min(n, math.MaxInt32), math.MinInt32))
		case "profile":
			from := dec.InputOffset()
			if err := budgetValue(dec); err != nil {
				return env, nil, err
			}
			body = bytes.TrimLeft(b[from:dec.InputOffset()], " \t\r\n:")
		default:
			if err := dec.SkipValue(); err != nil {
				return env, nil, notJSON(err)
			}
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return env, nil, notJSON(err)
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		if err == nil {
			err = errors.New("data after the artifact")
		}
		return env, nil, notJSON(err)
	}
	return env, body, nil
}

// arrayPath names the array holding the value at p, a JSON pointer into an
// artifact, as a field path of the profile: "/profile/model/gbm/trees/0/f/7"
// is "model.gbm.trees[0].f".
func arrayPath(p jsontext.Pointer) string {
	toks := slices.Collect(p.Tokens())
	if len(toks) > 0 && toks[0] == "profile" {
		toks = toks[1:]
	}
	if len(toks) > 0 {
		toks = toks[:len(toks)-1]
	}
	var b strings.Builder
	for _, tok := range toks {
		if tok != "" && strings.Trim(tok, "0123456789") == "" {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	if b.Len() == 0 {
		return "the profile"
	}
	return b.String()
}

// The estimated memory, in bytes, that encoding/json takes to decode one
// token into the profile, slice growth included: a value in an array or a
// field (a number, a literal, a string header), a slice header, and an
// object, the size of the largest struct an artifact holds in a slice
// (TestTokenCostCoversStructs checks it).
const (
	costValue  = 16
	costArray  = 24
	costObject = 1024
)

// budgetValue reads the next value of dec, a profile, checking the
// decoding budget (see DecodeBytes). Arrays are bounded by what their
// place holds: the trees of a boosted model by gbm.MaxTrees, the node
// arrays of a tree by gbm.MaxTreeNodes, any other by maxArrayLen.
func budgetValue(dec *jsontext.Decoder) error {
	type frame struct {
		array bool
		// name is the member being read in an object; n counts the
		// elements of an array and limit bounds them.
		name     string
		n, limit int
		// trees and tree mark the array of trees and one tree.
		trees, tree bool
	}
	var (
		stack []frame
		cost  int64
	)
	for {
		before := dec.InputOffset()
		tok, err := dec.ReadToken()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return invalid("not JSON: %v", err)
		}
		k := tok.Kind()
		var top *frame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		// A string read as a member name names what follows.
		if top != nil && !top.array && k == '"' && top.name == "" {
			top.name = tok.String()
			continue
		}
		if top != nil && top.array && k != ']' {
			if top.n++; top.n > top.limit {
				return invalid("profile: %s holds more than %d elements", arrayPath(dec.StackPointer()), top.limit)
			}
		}
		switch k {
		case '{', '[':
			if len(stack) >= maxNesting {
				return invalid("profile: nested deeper than %d levels at %s", maxNesting, arrayPath(dec.StackPointer()))
			}
			f := frame{array: k == '['}
			if k == '{' {
				cost += costObject
				f.tree = top != nil && top.trees
			} else {
				cost += costArray
				f.limit = maxArrayLen
				switch {
				case top != nil && top.tree:
					f.limit = gbm.MaxTreeNodes
				case top != nil && top.name == "trees" && len(stack) >= 2 && stack[len(stack)-2].name == "gbm":
					f.trees, f.limit = true, gbm.MaxTrees
				}
			}
			stack = append(stack, f)
		case '}', ']':
			stack = stack[:len(stack)-1]
		case '"':
			cost += costValue + (dec.InputOffset() - before)
		default:
			cost += costValue
		}
		if cost > decodeBudget {
			return invalid("profile: would take more than %d MiB to decode", decodeBudget>>20)
		}
		if len(stack) == 0 {
			return nil
		}
		if top := &stack[len(stack)-1]; !top.array && k != '{' {
			// The member's value is read: the next string is a name.
			top.name = ""
		}
	}
}

// profileSum is the checksum of a profile: "sha256:" and the hex SHA-256 of
// its compact JSON, so that re-indenting the file keeps it valid while any
// change of content does not.
func profileSum(body []byte) (string, error) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil {
		return "", err
	}
	return compactSum(compact.Bytes()), nil
}

// compactSum is profileSum of JSON that is compact already, as
// json.Marshal writes it.
func compactSum(compact []byte) string {
	sum := sha256.Sum256(compact)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("decode artifact: %s: %w", fmt.Sprintf(format, args...), icp.ErrInvalid)
}

// The bounds of a decoded profile's parts besides the model (see check).
const (
	// maxVersionLen bounds a version name, as the registry stores it.
	maxVersionLen = 200
	// maxQuantiles bounds the stored score quantiles.
	maxQuantiles = 10001
	// maxRules bounds the segments and the anti-ICP rules.
	maxRules = 1000
)

// check verifies that the parts of a decoded profile fit together and lie
// within sane bounds, so that scoring cannot index out of range, return
// NaN, or put every account in one tier by construction: a version name
// the registry can store; an encoder no wider than gbm.MaxFeatures; a
// model that fits it (see Model.bind); segment centres of the encoder's
// width; tier thresholds within [0, 1] and decreasing; score quantiles
// within [0, 1] and sorted; label counts that are not negative.
func (p *Profile) check() error {
	switch {
	case p.Version == "":
		return errors.New("no version")
	case len(p.Version) > maxVersionLen || !utf8.ValidString(p.Version) || strings.IndexFunc(p.Version, unicode.IsControl) >= 0:
		return fmt.Errorf("version: want 1 to %d printable characters", maxVersionLen)
	case p.Schema == nil:
		return errors.New("no schema")
	case p.Encoder == nil:
		return errors.New("no encoder")
	case p.Drift == nil:
		return errors.New("no drift reference")
	case p.Encoder.Width < 1 || p.Encoder.Width > gbm.MaxFeatures:
		return fmt.Errorf("encoder width %d: want 1 to %d", p.Encoder.Width, gbm.MaxFeatures)
	case len(p.Segments) > maxRules || len(p.AntiICP.Rules) > maxRules:
		return fmt.Errorf("%d segments and %d anti-ICP rules: want at most %d of each", len(p.Segments), len(p.AntiICP.Rules), maxRules)
	case p.Label.Positives < 0 || p.Label.Negatives < 0 || p.Label.Open < 0:
		return errors.New("negative label counts")
	}
	w := p.Encoder.Width
	if err := p.Model.bind(p.Encoder); err != nil {
		return err
	}
	at := 0
	for _, ce := range p.Encoder.Columns {
		var sc *features.Column
		sc, at = p.Schema.ColumnFrom(ce.Name, at)
		if sc == nil || sc.Role != ce.Role || sc.Kind != ce.Kind {
			return fmt.Errorf("encoder column %q does not match the schema", ce.Name)
		}
	}
	for k, s := range p.Segments {
		if len(s.Centroid) != w {
			return fmt.Errorf("segment %d has %d centre coordinates for %d encoded columns", k, len(s.Centroid), w)
		}
		for j, v := range s.Centroid {
			if math.Abs(v) > maxEncoded {
				return fmt.Errorf("segment %d: centre coordinate %d is %g, beyond ±%g", k, j, v, float64(maxEncoded))
			}
		}
		if err := s.Rule.validate(); err != nil {
			return fmt.Errorf("segment %d: %w", k, err)
		}
	}
	for k := range p.AntiICP.Rules {
		if err := p.AntiICP.Rules[k].Rule.validate(); err != nil {
			return fmt.Errorf("anti-ICP rule %d: %w", k, err)
		}
	}
	t := p.Tiers
	if err := p.Value.check(p.Encoder, t); err != nil {
		return err
	}
	switch {
	case !(t.Tier1 >= t.Tier2 && t.Tier2 >= t.Tier3):
		return fmt.Errorf("tier thresholds %g, %g, %g are not decreasing", t.Tier1, t.Tier2, t.Tier3)
	case t.By != "" && t.By != TierByValue:
		return fmt.Errorf("tiers by %q: want %q or none", t.By, TierByValue)
	case t.By == TierByValue && (t.Tier3 < 0 || math.IsInf(t.Tier1, 0)):
		return fmt.Errorf("tier thresholds %g, %g, %g: want expected values of at least 0", t.Tier1, t.Tier2, t.Tier3)
	case t.By == "" && (t.Tier3 < 0 || t.Tier1 > 1):
		return fmt.Errorf("tier thresholds %g, %g, %g: want scores within [0, 1]", t.Tier1, t.Tier2, t.Tier3)
	}
	q := p.ScoreQuantiles
	switch {
	case len(q) < 2 || len(q) > maxQuantiles || !sort.Float64sAreSorted(q):
		return fmt.Errorf("score quantiles missing, unsorted or more than %d", maxQuantiles)
	case q[0] < 0 || q[len(q)-1] > 1:
		return fmt.Errorf("score quantiles %g to %g: want scores within [0, 1]", q[0], q[len(q)-1])
	}
	return nil
}

// WriteFile writes the artifact to path atomically: a reader sees the old
// file or the new one, never a part.
func (p *Profile) WriteFile(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write artifact: %w", err)
	}
	f, err := os.CreateTemp(dir, ".model-*.json")
	if err != nil {
		return fmt.Errorf("write artifact: %w", err)
	}
	defer os.Remove(f.Name()) // no-op after the rename
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return fmt.Errorf("write artifact: %w", err)
	}
	if err := p.Encode(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write artifact: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write artifact: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write artifact: %w", err)
	}
	return nil
}

// ReadFile reads and verifies an artifact file.
func ReadFile(path string) (*Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read artifact: %w", err)
	}
	defer f.Close()
	p, err := Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}
