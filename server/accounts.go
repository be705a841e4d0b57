package server

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gin-gonic/gin"

	"github.com/icpengine/icp"
)

// AccountChecker is an optional extension of Scorer: it validates an
// account against the served model's schema exactly as scoring does, with
// the same field errors, without scoring it. The outcome route checks the
// accounts it stores with it, so that it refuses what the score route
// refuses. A scorer without it is asked to score the account instead (and
// the score is dropped), which gives the same answer at a higher cost.
type AccountChecker interface {
	// CheckAccount returns nil for an account the model can score, an
	// *icp.ValidationError naming each bad field (names without an index),
	// or another error when the check itself failed (icp.ErrUnavailable).
	CheckAccount(ctx context.Context, acc icp.Account) error
}

// checkAccount validates acc as the scorer would.
func (s *Server) checkAccount(ctx context.Context, acc icp.Account) error {
	if ch, ok := s.scorer.(AccountChecker); ok {
		return ch.CheckAccount(ctx, acc)
	}
	items := []batchItem{{acc: acc}}
	if err := s.scorePart(ctx, items, false, nil); err != nil {
		return err
	}
	return items[0].err
}

// unknownFields returns the names of the fields of probe, an account whose
// values are all null, that the model does not know. A Scorer (and an
// AccountChecker) accepts null for every field it knows, since null means
// missing, so every field error it gives for such an account names a field
// it does not know.
func (s *Server) unknownFields(ctx context.Context, probe icp.Account) (map[string]bool, error) {
	err := s.checkAccount(ctx, probe)
	if err == nil {
		return nil, nil
	}
	var verr *icp.ValidationError
	if !errors.As(err, &verr) {
		return nil, fmt.Errorf("check fields: %w", err)
	}
	unknown := make(map[string]bool, len(verr.Fields))
	for _, f := range verr.Fields {
		if _, ok := probe[f.Field]; !ok {
			return nil, fmt.Errorf("check fields: the scorer refused %q, which the account of nulls does not hold", f.Field)
		}
		unknown[f.Field] = true
	}
	return unknown, nil
}

// unknownPolicy is what a scoring route does with a field the model does
// not know.
type unknownPolicy int

const (
	// rejectUnknown answers the field as a field error ("unknown field").
	rejectUnknown unknownPolicy = iota
	// ignoreUnknown leaves the field out, and names it in the
	// X-ICP-Ignored-Fields header.
	ignoreUnknown
)

// unknownParam is the query parameter that chooses the policy.
const unknownParam = "unknown"

// unknownPolicyOf reads ?unknown=ignore|reject, def when it is absent.
func unknownPolicyOf(c *gin.Context, def unknownPolicy) (unknownPolicy, error) {
	v, ok := c.GetQuery(unknownParam)
	if !ok {
		return def, nil
	}
	switch v {
	case "ignore":
		return ignoreUnknown, nil
	case "reject":
		return rejectUnknown, nil
	}
	return 0, &icp.ValidationError{Fields: []icp.FieldError{{Field: unknownParam, Message: `query parameter must be "ignore" or "reject"`}}}
}

// IgnoredFieldsHeader names, in an answer, the fields of the request that
// the model does not know and that were ignored: a comma-separated list,
// sorted, each name percent-encoded as a URL path segment (url.PathEscape)
// so that commas, spaces and non-ASCII letters in column names survive.
const IgnoredFieldsHeader = "X-ICP-Ignored-Fields"

// fieldSet remembers, for one request, which field names the model knows,
// asking the scorer about each name once (see unknownFields), and which
// were ignored. It is safe for concurrent use by the batch workers.
type fieldSet struct {
	s     *Server
	mu    sync.Mutex
	known map[string]bool
	// ignored holds the unknown names, in the order first seen; it is
	// replaced, never changed, so that prune reads it without the lock.
	ignored atomic.Pointer[[]string]
}

func (s *Server) newFieldSet() *fieldSet {
	return &fieldSet{s: s, known: make(map[string]bool)}
}

// unknownOf returns the names among names that the model does not know.
func (f *fieldSet) unknownOf(ctx context.Context, names []string) ([]string, error) {
	var fresh, unknown []string
	f.mu.Lock()
	for _, n := range names {
		switch known, seen := f.known[n]; {
		case !seen:
			if !slices.Contains(fresh, n) {
				fresh = append(fresh, n)
			}
		case !known && !slices.Contains(unknown, n):
			unknown = append(unknown, n)
		}
	}
	f.mu.Unlock()
	if len(fresh) == 0 {
		return unknown, nil
	}
	probe := make(icp.Account, len(fresh))
	for _, n := range fresh {
		probe[n] = nil
	}
	bad, err := f.s.unknownFields(ctx, probe)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range fresh {
		if _, seen := f.known[n]; !seen {
			f.known[n] = !bad[n]
			if bad[n] {
				var next []string
				if old := f.ignored.Load(); old != nil {
					next = slices.Clone(*old)
				}
				next = append(next, n)
				f.ignored.Store(&next)
			}
		}
		if bad[n] {
			unknown = append(unknown, n)
		}
	}
	return unknown, nil
}

// prune removes from d the fields already known to be unknown, with the
// problems of their values. A shape problem of a field not asked about yet
// has the field asked about first, so that an unknown field is ignored
// however malformed its value.
func (f *fieldSet) prune(ctx context.Context, d *decoded) error {
	var owners []string
	for _, o := range d.owners {
		if o != "" {
			owners = append(owners, o)
		}
	}
	if len(owners) > 0 {
		if _, err := f.unknownOf(ctx, owners); err != nil {
			return err
		}
	}
	if p := f.ignored.Load(); p != nil {
		d.without(*p)
	}
	return nil
}

// drop removes from d every field the model does not know, asking about
// each field not asked about yet, with the problems of their values.
func (f *fieldSet) drop(ctx context.Context, d *decoded) error {
	names := make([]string, 0, len(d.acc)+len(d.owners))
	for k := range d.acc {
		names = append(names, k)
	}
	for _, o := range d.owners {
		if o != "" {
			names = append(names, o)
		}
	}
	unknown, err := f.unknownOf(ctx, names)
	if err != nil {
		return err
	}
	d.without(unknown)
	return nil
}

// without removes the named fields from d, with the problems of their
// values.
func (d *decoded) without(names []string) {
	if len(names) == 0 {
		return
	}
	for _, n := range names {
		delete(d.acc, n)
	}
	if len(d.owners) == 0 {
		return
	}
	kept, owners := d.problems.Fields[:0], d.owners[:0]
	for i, p := range d.problems.Fields {
		if o := d.owners[i]; o != "" && slices.Contains(names, o) {
			continue
		}
		kept, owners = append(kept, p), append(owners, d.owners[i])
	}
	d.problems.Fields, d.owners = kept, owners
}

// header returns the value of IgnoredFieldsHeader, "" when nothing was
// ignored.
func (f *fieldSet) header() string {
	if f == nil {
		return ""
	}
	p := f.ignored.Load()
	if p == nil {
		return ""
	}
	return ignoredFieldsValue(*p)
}

// ignoredFieldsValue formats names for IgnoredFieldsHeader.
func ignoredFieldsValue(names []string) string {
	if len(names) == 0 {
		return ""
	}
	names = slices.Clone(names)
	slices.Sort(names)
	for i, n := range names {
		names[i] = url.PathEscape(n)
	}
	return strings.Join(names, ",")
}
