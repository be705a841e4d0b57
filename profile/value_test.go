package profile_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/train"
)

// editJSON returns an edit of a profile's JSON text that decodes it,
// applies f to the object and encodes it again.
func editJSON(t *testing.T, f func(p map[string]any)) func(string) string {
	return func(s string) string {
		var p map[string]any
		if err := json.Unmarshal([]byte(s), &p); err != nil {
			t.Fatal(err)
		}
		f(p)
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
}

func obj(v any) map[string]any { return v.(map[string]any) }

// TestDecodeRejectsValueModels checks that decoding refuses a value model
// that cannot score rows or saturates, and tiers by value without one.
func TestDecodeRejectsValueModels(t *testing.T) {
	p, _ := trained(t, 3000, 7, train.TargetWon)
	if !p.HasValueModel() {
		t.Fatalf("no value model: %+v", p.Value)
	}
	var buf bytes.Buffer
	if err := p.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	art := buf.Bytes()
	if _, err := profile.Decode(bytes.NewReader(art)); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	model := func(p map[string]any) map[string]any { return obj(obj(p["value"])["model"]) }
	tests := []struct {
		name string
		edit func(p map[string]any)
		want string
	}{
		{"no smearing", func(p map[string]any) { model(p)["smearing"] = 0 }, "smearing factor"},
		{"huge smearing", func(p map[string]any) { model(p)["smearing"] = 1e9 }, "smearing factor"},
		{"a classifier's loss", func(p map[string]any) { obj(model(p)["gbm"])["loss"] = "logloss" }, "value model does not fit"},
		{"another width", func(p map[string]any) { obj(model(p)["gbm"])["features"] = 3 }, "value model does not fit"},
		{"a huge base", func(p map[string]any) { obj(model(p)["gbm"])["base"] = 80 }, "base"},
		{"a huge leaf", func(p map[string]any) {
			tree := obj(obj(model(p)["gbm"])["trees"].([]any)[0])
			leaves := tree["v"].([]any)
			leaves[len(leaves)-1] = 1e4
		}, "leaf value"},
		{"tiers by value without a model", func(p map[string]any) {
			delete(obj(p["value"]), "model")
			obj(p["tiers"])["by"] = profile.TierByValue
		}, "without a value model"},
		{"tiers by something else", func(p map[string]any) { obj(p["tiers"])["by"] = "revenue" }, `tiers by "revenue"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := profile.Decode(bytes.NewReader(reseal(t, art, editJSON(t, tt.edit))))
			if err == nil || !errors.Is(err, icp.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decode error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
