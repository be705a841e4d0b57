package registry

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/icpengine/icp"
)

// ShadowResult is one account scored by the champion on the request path
// and by the shadow off it.
type ShadowResult struct {
	Champion icp.Score
	// Shadow is the challenger's score; Err is set instead when it failed.
	Shadow icp.Score
	Err    error
}

// LiveConfig configures a Live.
type LiveConfig struct {
	// OnShadow receives each shadow comparison (to log and count it). Nil
	// discards them. It runs on the shadow goroutine, never on a request's.
	OnShadow func(ShadowResult)
	// OnShadowDrop is called, on the request's goroutine, for each account
	// dropped because the shadow's queue was full; it must be quick (a
	// counter). Nil counts only in ShadowDropped.
	OnShadowDrop func()
	// ShadowQueue bounds the accounts waiting for the shadow; more are
	// dropped, so that a slow challenger never slows serving. Zero means
	// 1024.
	ShadowQueue int
}

// Live is the model a replica serves, swapped atomically: each call sees
// either the old model or the new one, never a mix, and no call waits for
// a swap. It implements the server's scorer. It is safe for concurrent
// use.
type Live struct {
	cur      atomic.Pointer[Model]
	shadow   atomic.Pointer[Model]
	queue    chan shadowJob
	onShadow func(ShadowResult)
	onDrop   func()
	dropped  atomic.Int64
}

type shadowJob struct {
	acc      icp.Account
	champion icp.Score
}

// NewLive returns a Live serving m, which must not be nil. Call RunShadow
// to score a shadow model when one is set.
func NewLive(m *Model, cfg LiveConfig) *Live {
	if m == nil {
		panic("registry: NewLive with a nil model")
	}
	if cfg.ShadowQueue <= 0 {
		cfg.ShadowQueue = 1024
	}
	l := &Live{queue: make(chan shadowJob, cfg.ShadowQueue), onShadow: cfg.OnShadow, onDrop: cfg.OnShadowDrop}
	l.cur.Store(m)
	return l
}

// Current returns the champion being served.
func (l *Live) Current() *Model { return l.cur.Load() }

// Swap makes m the champion and returns the one it replaces. Calls under
// way finish on the model they started with.
func (l *Live) Swap(m *Model) *Model {
	if m == nil {
		panic("registry: Swap with a nil model")
	}
	return l.cur.Swap(m)
}

// Shadow returns the shadow model, or nil.
func (l *Live) Shadow() *Model { return l.shadow.Load() }

// SetShadow makes m the shadow; nil removes it.
func (l *Live) SetShadow(m *Model) { l.shadow.Store(m) }

// ShadowDropped returns how many accounts the shadow did not score
// because its queue was full.
func (l *Live) ShadowDropped() int64 { return l.dropped.Load() }

// Score scores acc with the champion and, when a shadow is set, queues
// acc for it without waiting.
func (l *Live) Score(ctx context.Context, acc icp.Account) (icp.Score, error) {
	s, err := l.cur.Load().Profile.Score(ctx, acc)
	if err == nil && l.shadow.Load() != nil {
		l.offer(acc, s)
	}
	return s, err
}

// ScoreBatch scores accs with the champion of the moment (see
// profile.Profile.ScoreBatch) and queues each scored account for the
// shadow, when one is set. Every score names its model: a batch scored in
// parts while a swap lands may hold both versions.
func (l *Live) ScoreBatch(ctx context.Context, accs []icp.Account, attributions bool, dst []icp.Score, errs []error) error {
	err := l.cur.Load().Profile.ScoreBatch(ctx, accs, attributions, dst, errs)
	if err == nil && l.shadow.Load() != nil {
		for i, acc := range accs {
			if errs[i] == nil {
				l.offer(acc, dst[i])
			}
		}
	}
	return err
}

// CheckAccount validates acc against the champion's schema as Score does,
// with the same field errors, without scoring it or offering it to the
// shadow: the server's check of the accounts of recorded outcomes.
func (l *Live) CheckAccount(_ context.Context, acc icp.Account) error {
	_, err := l.cur.Load().Profile.Schema.Table([]icp.Account{acc})
	return err
}

// ModelVersion names the champion's version.
func (l *Live) ModelVersion() string { return l.cur.Load().Profile.Version }

// offer queues acc, scored s by the champion, for the shadow, or drops it
// when the queue is full.
func (l *Live) offer(acc icp.Account, s icp.Score) {
	select {
	case l.queue <- shadowJob{acc: acc, champion: s}:
	default:
		l.dropped.Add(1)
		if l.onDrop != nil {
			l.onDrop()
		}
	}
}

// RunShadow scores the queued accounts with the shadow until ctx is done.
// Accounts queued before the shadow was removed are dropped.
func (l *Live) RunShadow(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case job := <-l.queue:
			sh := l.shadow.Load()
			if sh == nil {
				continue
			}
			r := ShadowResult{Champion: job.champion}
			r.Shadow, r.Err = scoreSafely(ctx, sh, job.acc)
			if l.onShadow != nil {
				l.onShadow(r)
			}
		}
	}
}

// scoreSafely scores with m, turning a panic into an error: a faulty
// challenger must not take the replica down.
func scoreSafely(ctx context.Context, m *Model, acc icp.Account) (s icp.Score, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("shadow %s panicked: %v", m.Checksum, r)
		}
	}()
	s, err = m.Profile.Score(ctx, acc)
	if err != nil && !errors.Is(err, icp.ErrInvalid) {
		err = fmt.Errorf("shadow %s: %w", m.Checksum, err)
	}
	return s, err
}
