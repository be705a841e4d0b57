package profile_test

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"

	"github.com/icpengine/icp/model"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/train"
)

// copyProfile returns a deep copy of p through its artifact.
func copyProfile(t *testing.T, p *profile.Profile) *profile.Profile {
	t.Helper()
	var b bytes.Buffer
	if err := p.Encode(&b); err != nil {
		t.Fatal(err)
	}
	q, err := profile.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestWarmUp(t *testing.T) {
	p, _ := trained(t, 2000, 42, train.TargetWon)
	if err := p.WarmUp(t.Context(), 8); err != nil {
		t.Fatalf("WarmUp(trained) = %v, want nil", err)
	}
	// The warm-up accounts differ: the medians with each level in turn.
	if a, b := p.WarmUpAccount(1), p.WarmUpAccount(2); a["industry"] == b["industry"] {
		t.Fatalf("warm-up accounts 1 and 2 share industry %v, want the levels in turn", a["industry"])
	}

	tests := []struct {
		name  string
		spoil func(p *profile.Profile)
		want  string
	}{
		{"calibration gives NaN", func(p *profile.Profile) {
			p.Model.Calibration = profile.Calibration{Method: profile.CalibrationPlatt, Platt: &model.Platt{A: math.NaN()}}
		}, "warm up: account 0"},
		{"calibration missing", func(p *profile.Profile) {
			p.Model.Calibration = profile.Calibration{Method: profile.CalibrationPlatt}
		}, "scoring panicked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := copyProfile(t, p)
			tt.spoil(q)
			err := q.WarmUp(t.Context(), 4)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("WarmUp(broken) = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := p.WarmUp(ctx, 2); err == nil {
		t.Fatal("WarmUp(cancelled context) = nil, want the context's error")
	}
}

func TestDecodeChecksumIsTheProfileChecksum(t *testing.T) {
	p, _ := trained(t, 2000, 42, train.TargetWon)
	var b bytes.Buffer
	if err := p.Encode(&b); err != nil {
		t.Fatal(err)
	}
	q, sum, err := profile.DecodeChecksum(&b)
	if err != nil {
		t.Fatal(err)
	}
	want, err := q.Checksum()
	if err != nil || sum != want {
		t.Fatalf("profile.DecodeChecksum() checksum = %s, Checksum() = %s, %v; want equal", sum, want, err)
	}
}
