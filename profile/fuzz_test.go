package profile_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/icpengine/icp"
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
