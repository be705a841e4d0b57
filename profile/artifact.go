package profile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/icpengine/icp"
)

// FormatVersion is the artifact format this package writes and reads.
// A change that old readers cannot follow bumps it.
const FormatVersion = 1

// formatName marks a file as an ICP model artifact.
const formatName = "icp-model"

// maxArtifactBytes caps what Decode reads, so a wrong file cannot exhaust
// memory.
const maxArtifactBytes = 512 << 20

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
	b, err := io.ReadAll(io.LimitReader(r, maxArtifactBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("decode artifact: %w", err)
	}
	if len(b) > maxArtifactBytes {
		return nil, "", invalid("larger than %d MiB", maxArtifactBytes>>20)
	}
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, "", invalid("not JSON: %v", err)
	}
	switch {
	case env.Format != formatName:
		return nil, "", invalid("not an ICP model artifact (format %q, want %q)", env.Format, formatName)
	case env.FormatVersion > FormatVersion:
		return nil, "", invalid("format version %d is newer than this program reads (%d): upgrade the program", env.FormatVersion, FormatVersion)
	case env.FormatVersion != FormatVersion:
		return nil, "", invalid("format version %d is not supported (this program reads %d): retrain the model", env.FormatVersion, FormatVersion)
	}
	got, err := profileSum(env.Profile)
	if err != nil {
		return nil, "", invalid("profile: %v", err)
	}
	if got != env.Checksum {
		return nil, "", invalid("checksum mismatch: the file was modified or corrupted (recorded %s, computed %s)", env.Checksum, got)
	}
	dec := json.NewDecoder(bytes.NewReader(env.Profile))
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

// check verifies that the parts of a decoded profile fit together, so that
// scoring cannot index out of range or return NaN.
func (p *Profile) check() error {
	switch {
	case p.Version == "":
		return errors.New("no version")
	case p.Schema == nil:
		return errors.New("no schema")
	case p.Encoder == nil:
		return errors.New("no encoder")
	case p.Drift == nil:
		return errors.New("no drift reference")
	}
	w := p.Encoder.Width
	if err := p.Model.bind(p.Encoder); err != nil {
		return err
	}
	for _, ce := range p.Encoder.Columns {
		sc := p.Schema.Column(ce.Name)
		if sc == nil || sc.Role != ce.Role || sc.Kind != ce.Kind {
			return fmt.Errorf("encoder column %q does not match the schema", ce.Name)
		}
	}
	for k, s := range p.Segments {
		if len(s.Centroid) != w {
			return fmt.Errorf("segment %d has %d centre coordinates for %d encoded columns", k, len(s.Centroid), w)
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
	if !(t.Tier1 >= t.Tier2 && t.Tier2 >= t.Tier3) {
		return fmt.Errorf("tier thresholds %g, %g, %g are not decreasing", t.Tier1, t.Tier2, t.Tier3)
	}
	if len(p.ScoreQuantiles) < 2 || !sort.Float64sAreSorted(p.ScoreQuantiles) {
		return errors.New("score quantiles missing or unsorted")
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
