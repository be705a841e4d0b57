package profile_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/model/gbm"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/train"
)

// FuzzDecode checks that Decode never panics and that whatever it accepts
// encodes and decodes again to the same artifact.
func FuzzDecode(f *testing.F) {
	p, _ := trained(f, 1500, 5, train.TargetIdeal)
	var art bytes.Buffer
	if err := p.Encode(&art); err != nil {
		f.Fatal(err)
	}
	f.Add(art.Bytes())
	f.Add([]byte(`{"format":"icp-model","format_version":1,"checksum":"sha256:00","profile":{}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := profile.Decode(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, icp.ErrInvalid) {
				t.Fatalf("Decode error %v does not match ErrInvalid", err)
			}
			return
		}
		var again bytes.Buffer
		if err := p.Encode(&again); err != nil {
			t.Fatalf("Encode of a decoded profile: %v", err)
		}
		if _, err := profile.Decode(&again); err != nil {
			t.Fatalf("Decode of a re-encoded profile: %v", err)
		}
	})
}

// fuzzTrees builds up to 3 trees over nf features from b, 5 bytes a node
// (feature, two child offsets, a leaf flag, a value), so that the fuzzer
// changes the shape of the trees: shared children, unreached nodes, long
// chains, children out of range. Covers add up where the shape allows.
func fuzzTrees(b []byte, nf int) []gbm.Tree {
	var out []gbm.Tree
	for len(b) >= 5 && len(out) < 3 {
		n := 1 + int(b[0])%40
		b = b[1:]
		var t gbm.Tree
		for i := 0; i < n && len(b) >= 5; i++ {
			f, l, r, leaf, v := b[0], b[1], b[2], b[3], b[4]
			b = b[5:]
			if leaf%3 == 0 || i == n-1 {
				node(&t, -1, -1, -1, float64(int8(v))/32, 1)
				continue
			}
			node(&t, int32(int(f)%(nf+1)), int32(i+1+int(l)%6), int32(i+1+int(r)%6), 0, 0)
			t.Threshold[i] = float64(int8(v)) / 8
		}
		for i := len(t.Feature) - 1; i >= 0; i-- {
			l, r := int(t.Left[i]), int(t.Right[i])
			if t.Feature[i] >= 0 && l < len(t.Feature) && r < len(t.Feature) {
				t.Cover[i] = t.Cover[l] + t.Cover[r]
			}
		}
		out = append(out, t)
	}
	return out
}

// FuzzArtifactTrees builds artifacts from trees whose shape the fuzzer
// chooses (fuzzTrees), with a base value, then edits one byte of the
// sealed profile (at, to) and seals it again, as a forger would. Whatever
// Decode and WarmUp accept must score without a panic and with finite
// numbers; whatever they refuse must be refused as invalid, and nothing
// may take more memory or time than the budget allows.
func FuzzArtifactTrees(f *testing.F) {
	p := trainedGBM(f)
	f.Add([]byte{3, 0, 1, 1, 1, 0, 0, 0, 0, 0, 20, 0, 0, 0, 0, 236}, int8(-16), uint32(0), byte(0))
	dag := []byte{12}
	for range 12 {
		dag = append(dag, 2, 0, 1, 1, 8)
	}
	f.Add(dag, int8(0), uint32(0), byte(0))
	f.Add([]byte{}, int8(0), uint32(40), byte('9'))
	f.Fuzz(func(t *testing.T, shape []byte, base int8, at uint32, to byte) {
		q := *p
		cal := q.Model.Calibration
		q.Model = profile.NewGBMModel(&gbm.Model{Base: float64(base) / 8, Trees: fuzzTrees(shape, p.Encoder.Width),
			Loss: "logloss", NumFeatures: p.Encoder.Width}, p.Encoder)
		q.Model.Calibration = cal
		body, err := json.Marshal(&q)
		if err != nil {
			t.Fatal(err)
		}
		if to != 0 {
			body[int(at)%len(body)] = to
		}
		art, err := profile.Seal(body)
		if err != nil {
			return // the edit broke the JSON: nothing to seal
		}
		got, _, err := profile.DecodeBytes(art)
		if err != nil {
			if !errors.Is(err, icp.ErrInvalid) {
				t.Fatalf("DecodeBytes error %v does not match ErrInvalid", err)
			}
			return
		}
		if err := got.WarmUp(t.Context(), 4); err != nil {
			return
		}
		for i := range 3 {
			s, err := got.Score(t.Context(), got.WarmUpAccount(i+4))
			if err != nil {
				t.Fatalf("Score after a warm-up that passed: %v", err)
			}
			if math.IsNaN(s.Score) || math.IsNaN(s.Margin) || math.IsInf(s.Margin, 0) {
				t.Fatalf("Score = %+v after a warm-up that passed", s)
			}
		}
	})
}
