package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/profile"
)

// Store is what the registry needs from persistence (package store
// implements it).
type Store interface {
	RegisterModel(ctx context.Context, rec icp.ModelRecord, artifact []byte) (icp.ModelRecord, bool, error)
	Models(ctx context.Context) ([]icp.ModelRecord, error)
	ModelArtifact(ctx context.Context, checksum string) ([]byte, error)
	ResolveModel(ctx context.Context, ref string) (string, error)
	ModelAliases(ctx context.Context) (map[string]string, error)
	SetModelAlias(ctx context.Context, alias, checksum string, action icp.ModelAction, actor, detail string) (icp.ModelEvent, error)
	RollbackModelAlias(ctx context.Context, alias, actor, detail string) (icp.ModelEvent, error)
	AppendModelEvent(ctx context.Context, ev icp.ModelEvent) (icp.ModelEvent, error)
	ModelHistory(ctx context.Context, limit int) ([]icp.ModelEvent, error)
}

// DefaultWarmUp is how many accounts a model scores when it is validated,
// when no other number is given.
const DefaultWarmUp = 16

// Model is a loaded, validated version.
type Model struct {
	Profile  *profile.Profile
	Checksum string
	// LoadedAt is when it was validated.
	LoadedAt time.Time
}

// warmUpBudget bounds the warm-up of a model being loaded. Decoding is
// bounded by the artifact's budget (see profile.DecodeBytes) and each score
// by the trees' (see gbm.Model.Validate); a model that still takes longer
// to score a few accounts would not serve.
const warmUpBudget = 30 * time.Second

// Load decodes an artifact, verifies its checksum and structure within the
// decoding budget, and warms it up with warmUp scores (DefaultWarmUp when
// warmUp <= 0), each checked, within warmUpBudget (see
// profile.Profile.WarmUp). Every failure of the artifact matches
// icp.ErrInvalid; a ctx done first gives its own error.
func Load(ctx context.Context, artifact []byte, warmUp int) (*Model, error) {
	p, sum, err := profile.DecodeBytes(artifact)
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	if warmUp <= 0 {
		warmUp = DefaultWarmUp
	}
	wctx, cancel := context.WithTimeout(ctx, warmUpBudget)
	defer cancel()
	if err := p.WarmUp(wctx, warmUp); err != nil {
		switch {
		case ctx.Err() != nil:
			return nil, fmt.Errorf("load model %s: %w", sum, err)
		case wctx.Err() != nil:
			return nil, fmt.Errorf("load model %s: %w: warm-up of %d accounts took longer than %v", sum, icp.ErrInvalid, warmUp, warmUpBudget)
		}
		return nil, fmt.Errorf("load model %s: %w: %w", sum, icp.ErrInvalid, err)
	}
	return &Model{Profile: p, Checksum: sum, LoadedAt: time.Now()}, nil
}

// Summary describes a model in one line for listings.
func Summary(p *profile.Profile) string {
	return fmt.Sprintf("%s model, %d training rows, holdout ROC AUC %.3f", p.Model.Kind, p.Data.Rows, p.Validation.Holdout.ROCAUC)
}

// Config configures a Registry.
type Config struct {
	// Store keeps the versions, aliases and history. It is required.
	Store Store
	// WarmUp is how many accounts a version scores when it is validated.
	// Zero means DefaultWarmUp.
	WarmUp int
}

// Registry is the operators' side of the model registry: every change is
// validated, then recorded with who made it. It is safe for concurrent
// use.
type Registry struct {
	st     Store
	warmUp int

	// validated remembers the last checksums that passed validation: a
	// version is immutable and the checks are deterministic, so promoting
	// it again (a rollback by promotion, a ping-pong) need not decode it
	// again.
	mu        sync.Mutex
	validated []string
}

// rememberValidated is how many validated checksums a Registry keeps.
const rememberValidated = 16

// isValidated reports whether sum passed validation recently.
func (r *Registry) isValidated(sum string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.validated, sum)
}

// markValidated records that sum passed validation.
func (r *Registry) markValidated(sum string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if slices.Contains(r.validated, sum) {
		return
	}
	if len(r.validated) == rememberValidated {
		r.validated = r.validated[1:]
	}
	r.validated = append(r.validated, sum)
}

// New returns a Registry. It fails when cfg.Store is nil.
func New(cfg Config) (*Registry, error) {
	if cfg.Store == nil {
		return nil, errors.New("new registry: nil Store")
	}
	return &Registry{st: cfg.Store, warmUp: cfg.WarmUp}, nil
}

// Register validates an artifact (see Load) and stores it as a version. It
// reports whether the version is new; registering a stored version again
// returns its record. An artifact that fails validation is not stored and
// the error matches icp.ErrInvalid.
func (r *Registry) Register(ctx context.Context, artifact []byte, actor string) (icp.ModelRecord, bool, error) {
	m, err := Load(ctx, artifact, r.warmUp)
	if err != nil {
		return icp.ModelRecord{}, false, fmt.Errorf("register: %w", err)
	}
	r.markValidated(m.Checksum)
	// A caller whose deadline passed during validation gets an error:
	// nothing is stored for it.
	if err := ctx.Err(); err != nil {
		return icp.ModelRecord{}, false, fmt.Errorf("register %s: %w", m.Checksum, err)
	}
	rec := icp.ModelRecord{Checksum: m.Checksum, Version: m.Profile.Version, Summary: Summary(m.Profile), RegisteredBy: actor}
	return r.st.RegisterModel(ctx, rec, artifact)
}

// Promote makes the version ref names (see store.Store.ResolveModel) the
// champion, once it loads and warms up here. A version that fails is not
// promoted: the failure is recorded in the history and returned, matching
// icp.ErrInvalid.
func (r *Registry) Promote(ctx context.Context, ref, actor, reason string) (icp.ModelEvent, error) {
	return r.point(ctx, icp.AliasChampion, icp.ActionPromote, ref, actor, reason)
}

// Shadow makes the version ref names the shadow (challenger), validated as
// Promote validates.
func (r *Registry) Shadow(ctx context.Context, ref, actor, reason string) (icp.ModelEvent, error) {
	return r.point(ctx, icp.AliasShadow, icp.ActionShadow, ref, actor, reason)
}

// point validates the version ref names and points alias at it.
func (r *Registry) point(ctx context.Context, alias string, action icp.ModelAction, ref, actor, reason string) (icp.ModelEvent, error) {
	sum, err := r.st.ResolveModel(ctx, ref)
	if err != nil {
		return icp.ModelEvent{}, fmt.Errorf("%s: %w", action, err)
	}
	if err := r.validate(ctx, sum); err != nil {
		ev := icp.ModelEvent{Actor: actor, Action: action, Alias: alias, Checksum: sum, Result: icp.ResultFailed, Detail: err.Error()}
		if _, aerr := r.st.AppendModelEvent(ctx, ev); aerr != nil {
			return icp.ModelEvent{}, fmt.Errorf("%s %s: %w (and recording it: %v)", action, sum, err, aerr)
		}
		return icp.ModelEvent{}, fmt.Errorf("%s %s: %w", action, sum, err)
	}
	return r.st.SetModelAlias(ctx, alias, sum, action, actor, reason)
}

// validate loads a stored version as a replica will, unless it passed
// recently.
func (r *Registry) validate(ctx context.Context, sum string) error {
	if r.isValidated(sum) {
		return nil
	}
	if _, err := loadStored(ctx, r.st, sum, r.warmUp); err != nil {
		return err
	}
	r.markValidated(sum)
	return nil
}

// loadStored fetches the version sum from st and loads it (see Load),
// refusing an artifact stored under another checksum than its own.
func loadStored(ctx context.Context, st Store, sum string, warmUp int) (*Model, error) {
	b, err := st.ModelArtifact(ctx, sum)
	if err != nil {
		return nil, err
	}
	m, err := Load(ctx, b, warmUp)
	if err != nil {
		return nil, err
	}
	if m.Checksum != sum {
		return nil, fmt.Errorf("stored under %s but its checksum is %s: %w", sum, m.Checksum, icp.ErrInvalid)
	}
	return m, nil
}

// Rollback points the champion back at the version it named before the
// promotion of the current one. It returns an error matching
// icp.ErrNotFound when there is none.
func (r *Registry) Rollback(ctx context.Context, actor, reason string) (icp.ModelEvent, error) {
	return r.st.RollbackModelAlias(ctx, icp.AliasChampion, actor, reason)
}

// Unshadow removes the shadow alias: replicas stop scoring a challenger.
func (r *Registry) Unshadow(ctx context.Context, actor, reason string) (icp.ModelEvent, error) {
	return r.st.SetModelAlias(ctx, icp.AliasShadow, "", icp.ActionUnshadow, actor, reason)
}

// Models lists the versions, newest first, with their aliases.
func (r *Registry) Models(ctx context.Context) ([]icp.ModelRecord, error) { return r.st.Models(ctx) }

// History returns the latest limit history entries, newest first (all
// when limit <= 0).
func (r *Registry) History(ctx context.Context, limit int) ([]icp.ModelEvent, error) {
	return r.st.ModelHistory(ctx, limit)
}
