package profile

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/icpengine/icp"
)

// ModelVersion returns the version of the profile, the one its scores
// name. Servers use it to name the model in answers that hold no score,
// such as an empty batch.
func (p *Profile) ModelVersion() string { return p.Version }

// ScoreBatch scores each account of accs into dst[i], as Score would, or
// sets errs[i] to the account's *icp.ValidationError (field names without
// an index) and leaves dst[i] zero. The accounts are parsed and encoded as
// one table, which is what makes a batch faster than as many calls of
// Score.
//
// When attributions is false the scores carry no attributions (nil) and
// the margins come from the model's plain prediction, which skips the
// per-account explanation: for boosted trees that is most of the cost of
// a score. Every other field is the same as Score gives.
//
// It returns a non-nil error only when ctx is done before the batch is
// scored; dst and errs are then partly written. It panics when dst or errs
// is not as long as accs.
func (p *Profile) ScoreBatch(ctx context.Context, accs []icp.Account, attributions bool, dst []icp.Score, errs []error) error {
	if len(dst) != len(accs) || len(errs) != len(accs) {
		panic("profile: ScoreBatch: dst and errs must be as long as accs")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	clear(errs)
	if len(accs) == 0 {
		return nil
	}
	r, err := p.batchRows(accs, dst, errs)
	if err != nil || r.t == nil {
		return err
	}
	return p.scoreRows(ctx, r, attributions, dst)
}

// batchRows parses accs as one table. When some accounts do not fit the
// schema, each of them gets its own field errors in errs[i] and a zero
// dst[i], and the rows are the table of the others (none when all are
// bad: r.t is nil).
func (p *Profile) batchRows(accs []icp.Account, dst []icp.Score, errs []error) (rows, error) {
	t, err := p.Schema.Table(accs)
	if err == nil {
		return rows{t: t, accs: accs}, nil
	}
	var verr *icp.ValidationError
	if !errors.As(err, &verr) {
		return rows{}, fmt.Errorf("score batch: %w", err)
	}
	bad, err := splitFieldErrors(verr, len(accs))
	if err != nil {
		return rows{}, fmt.Errorf("score batch: %w", err)
	}
	r := rows{accs: make([]icp.Account, 0, len(accs)), at: make([]int, 0, len(accs))}
	for i, acc := range accs {
		if bad[i] != nil {
			errs[i], dst[i] = bad[i], icp.Score{}
			continue
		}
		r.accs, r.at = append(r.accs, acc), append(r.at, i)
	}
	if len(r.accs) == 0 {
		return rows{}, nil
	}
	if r.t, err = p.Schema.Table(r.accs); err != nil {
		return rows{}, fmt.Errorf("score batch: %w", err)
	}
	return r, nil
}

// splitFieldErrors splits the field errors of a table of n accounts
// (fields named "[i].field", or plain for one account) into one
// *icp.ValidationError per account, whose field names carry no index; the
// entry of an account without errors is nil.
func splitFieldErrors(verr *icp.ValidationError, n int) ([]error, error) {
	per := make([]*icp.ValidationError, n)
	for _, f := range verr.Fields {
		i, field := 0, f.Field
		if n > 1 {
			idx, rest, ok := strings.Cut(strings.TrimPrefix(f.Field, "["), "].")
			k, err := strconv.Atoi(idx)
			if !ok || err != nil || k < 0 || k >= n || !strings.HasPrefix(f.Field, "[") {
				return nil, fmt.Errorf("field error %q names no account of the batch", f.Field)
			}
			i, field = k, rest
		}
		if per[i] == nil {
			per[i] = &icp.ValidationError{}
		}
		per[i].Add(field, f.Message)
	}
	out := make([]error, n)
	for i, v := range per {
		if v != nil {
			out[i] = v
		}
	}
	return out, nil
}
