package icp

import "time"

// The model aliases. An alias names the registered version that plays a
// role; a version may hold several aliases or none.
const (
	// AliasChampion is the version every serve replica scores with.
	AliasChampion = "champion"
	// AliasShadow is the challenger: replicas score it too, off the
	// request path, and only log the result.
	AliasShadow = "shadow"
)

// ModelAction is what a registry history entry records.
type ModelAction string

// The actions of the registry history.
const (
	// ActionRegister stores a new version (or finds it already stored).
	ActionRegister ModelAction = "register"
	// ActionPromote points the champion alias at a version.
	ActionPromote ModelAction = "promote"
	// ActionRollback points the champion alias back at the version it
	// held before the promotion of the current one.
	ActionRollback ModelAction = "rollback"
	// ActionShadow points the shadow alias at a version.
	ActionShadow ModelAction = "shadow"
	// ActionUnshadow removes the shadow alias.
	ActionUnshadow ModelAction = "unshadow"
	// ActionLoad records a serve replica loading (or failing to load) the
	// version an alias names.
	ActionLoad ModelAction = "load"
)

// The results of a registry history entry.
const (
	ResultOK     = "ok"
	ResultFailed = "failed"
)

// ModelRecord is a registered model version. Versions are immutable: the
// artifact's checksum is its identity, and registering the same artifact
// twice finds the first record.
type ModelRecord struct {
	// Checksum is the artifact's checksum ("sha256:" and 64 hex digits).
	Checksum string `json:"checksum"`
	// Version is the model version the artifact names (m-...), the one
	// every score answer carries.
	Version string `json:"version"`
	// Size is the artifact's length in bytes.
	Size int64 `json:"size"`
	// Summary is a short description: the model kind and its holdout
	// figures.
	Summary      string    `json:"summary"`
	RegisteredAt time.Time `json:"registered_at"`
	RegisteredBy string    `json:"registered_by"`
	// Aliases are the aliases that name this version now, sorted.
	Aliases []string `json:"aliases"`
}

// ModelEvent is one entry of the registry's append-only history: who did
// what to which version, when, and how it ended.
type ModelEvent struct {
	ID     int64       `json:"id"`
	At     time.Time   `json:"at"`
	Actor  string      `json:"actor"`
	Action ModelAction `json:"action"`
	// Alias is the alias the action moved or loaded ("" for register).
	Alias string `json:"alias,omitempty"`
	// Checksum is the version acted on; Previous is the version the alias
	// named before ("" when none).
	Checksum string `json:"checksum,omitempty"`
	Previous string `json:"previous,omitempty"`
	// Result is ResultOK or ResultFailed; Detail says why, or what.
	Result string `json:"result"`
	Detail string `json:"detail,omitempty"`
}
