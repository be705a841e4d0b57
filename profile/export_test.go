package profile

import (
	"encoding/json"

	"github.com/icpengine/icp"
)

// WarmUpAccount gives the external tests the i-th warm-up account.
func (p *Profile) WarmUpAccount(i int) icp.Account { return p.warmUpAccount(i) }

// Reseal recomputes the checksum of an edited artifact, as an attacker or
// a careless hand edit would, so that tests reach the structural checks.
func Reseal(art []byte, edit func(profile string) string) ([]byte, error) {
	var env envelope
	if err := json.Unmarshal(art, &env); err != nil {
		return nil, err
	}
	body := edit(string(env.Profile))
	sum, err := profileSum([]byte(body))
	if err != nil {
		return nil, err
	}
	env.Profile = json.RawMessage(body)
	env.Checksum = sum
	return json.Marshal(env)
}

// Seal makes a compact artifact of a profile's JSON body, checksummed, as
// a forger would write one by hand.
func Seal(body []byte) ([]byte, error) {
	sum, err := profileSum(body)
	if err != nil {
		return nil, err
	}
	return json.Marshal(envelope{Format: formatName, FormatVersion: FormatVersion, Checksum: sum, Profile: body})
}
