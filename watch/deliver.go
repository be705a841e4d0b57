package watch

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/icpengine/icp"
)

// The webhook headers.
const (
	// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the body
	// keyed with the shared secret.
	SignatureHeader = "X-ICP-Signature"
	// AlertIDHeader carries the stable alert id, for deduplication.
	AlertIDHeader = "X-ICP-Alert-Id"
)

// Outbox is the webhook outbox of the store.
type Outbox interface {
	// DueDeliveries claims up to limit deliveries due at now.
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]icp.Delivery, error)
	MarkDelivered(ctx context.Context, id int64) error
	MarkFailed(ctx context.Context, id int64, nextAttempt time.Time, errMsg string) error
}

// DelivererConfig configures a Deliverer. Outbox and URL are required.
type DelivererConfig struct {
	Outbox Outbox
	// URL receives the POSTs.
	URL string
	// Format is what the webhook receives (see Render): FormatGeneric (the
	// default) is the PayloadEvent JSON with X-ICP-Alert-Id and, with a
	// Secret, X-ICP-Signature; FormatSlack and FormatTeams are messages for
	// those services, whose webhook URL is itself the secret, so they are
	// sent without the two headers.
	Format string
	// Link, when set, is linked from Slack and Teams messages (the
	// dashboard's public URL).
	Link string
	// Secret keys the HMAC signature of the generic format; empty sends no
	// signature header. It must be empty for the other formats.
	Secret []byte
	// Client sends the requests. Nil means a client with Timeout.
	Client *http.Client
	// Timeout bounds one attempt. Zero means 10 seconds.
	Timeout time.Duration
	// Poll is the time between outbox polls in Run. Zero means a second.
	Poll time.Duration
	// BaseBackoff is the wait after the first failure; it doubles per
	// failure up to MaxBackoff. Zero means a second and ten minutes.
	BaseBackoff, MaxBackoff time.Duration
	// Seed seeds the backoff jitter.
	Seed uint64
	// Now is the clock. Nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Deliverer sends the webhook outbox.
type Deliverer struct {
	cfg    DelivererConfig
	client *http.Client
	now    func() time.Time
	log    *slog.Logger
	mu     sync.Mutex
	rng    *rand.Rand
}

// NewDeliverer returns a deliverer; it fails without Outbox or URL.
func NewDeliverer(cfg DelivererConfig) (*Deliverer, error) {
	if cfg.Outbox == nil || cfg.URL == "" {
		return nil, errors.New("new deliverer: Outbox and URL are required")
	}
	switch cfg.Format {
	case "":
		cfg.Format = FormatGeneric
	case FormatGeneric, FormatSlack, FormatTeams:
	default:
		return nil, fmt.Errorf("new deliverer: unknown format %q (want %s)", cfg.Format, strings.Join(Formats(), ", "))
	}
	if cfg.Format != FormatGeneric && len(cfg.Secret) > 0 {
		return nil, fmt.Errorf("new deliverer: a secret signs the %s format only; %s webhooks take none", FormatGeneric, cfg.Format)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 10 * time.Minute
	}
	d := &Deliverer{cfg: cfg, client: cfg.Client, now: cfg.Now, log: cfg.Logger,
		rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x6a09e667f3bcc908))}
	if d.client == nil {
		d.client = &http.Client{Timeout: cfg.Timeout}
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	return d, nil
}

// Sign returns the signature header value of body: "sha256=" and the hex
// HMAC-SHA256 of body keyed with secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Backoff returns the wait before the next attempt after the given number
// of failed attempts (at least 1): BaseBackoff doubled per earlier failure,
// capped at MaxBackoff, then scaled by a random factor in [0.5, 1).
func (d *Deliverer) Backoff(attempts int) time.Duration {
	b := d.cfg.BaseBackoff
	for i := 1; i < attempts && b < d.cfg.MaxBackoff; i++ {
		b *= 2
	}
	b = min(b, d.cfg.MaxBackoff)
	d.mu.Lock()
	f := 0.5 + d.rng.Float64()/2
	d.mu.Unlock()
	return time.Duration(float64(b) * f)
}

// Run polls the outbox every Poll until ctx is done, then returns nil.
func (d *Deliverer) Run(ctx context.Context) error {
	t := time.NewTicker(d.cfg.Poll)
	defer t.Stop()
	for {
		if _, _, err := d.Flush(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("watch: deliver webhooks", slog.Any("err", err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Flush sends every delivery due now once and reports how many were
// delivered and how many failed.
func (d *Deliverer) Flush(ctx context.Context) (sent, failed int, err error) {
	due, err := d.cfg.Outbox.DueDeliveries(ctx, d.now(), 50)
	if err != nil {
		return 0, 0, err
	}
	var errs []error
	for _, del := range due {
		if ctx.Err() != nil {
			break // the lease returns them to the outbox
		}
		if serr := d.send(ctx, del); serr != nil {
			failed++
			next := d.now().Add(d.Backoff(del.Attempts + 1))
			if err := d.cfg.Outbox.MarkFailed(ctx, del.ID, next, serr.Error()); err != nil {
				errs = append(errs, err)
			}
			d.log.Info("watch: webhook attempt failed", slog.String("alert_id", del.AlertID),
				slog.Int("attempt", del.Attempts+1), slog.Time("next_attempt", next), slog.Any("err", serr))
			continue
		}
		sent++
		if err := d.cfg.Outbox.MarkDelivered(ctx, del.ID); err != nil {
			errs = append(errs, err)
		}
	}
	return sent, failed, errors.Join(errs...)
}

// send makes one attempt.
func (d *Deliverer) send(ctx context.Context, del icp.Delivery) error {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	body, err := Render(d.cfg.Format, del.Payload, d.cfg.Link)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if d.cfg.Format == FormatGeneric {
		req.Header.Set(AlertIDHeader, del.AlertID)
		if len(d.cfg.Secret) > 0 {
			req.Header.Set(SignatureHeader, Sign(d.cfg.Secret, body))
		}
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("post: status %d", resp.StatusCode)
	}
	return nil
}
