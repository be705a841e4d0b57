package train

import (
	"bytes"
	"crypto/sha256"
	"math"
	"slices"
	"strconv"
)

// minDatedShare is the least share of closed deals with a close date for
// the holdout to be the newest deals; below it, most deals would be
// ordered by file position rather than by date, so the split is random.
const minDatedShare = 0.5

// datedShare is the share of rows whose close day is known.
func datedShare(rows []int, closeDays []float64) float64 {
	if len(rows) == 0 {
		return 0
	}
	n := 0
	for _, i := range rows {
		if !math.IsNaN(closeDays[i]) {
			n++
		}
	}
	return float64(n) / float64(len(rows))
}

// randomSplit holds out a seeded random share frac of the rows of each
// outcome (y[i] is 1 or 0), for tables without close dates: file order
// can be anything (a table sorted by its outcome gives a one-class
// holdout), so no order is trusted.
//
// The rows are ordered by the SHA-256 of "<seed>:<row>" (row 0-based), and
// the last round(frac × n) rows of each outcome in that order are held
// out. Both parts keep that order, which later steps read as "older
// first" (early stopping watches the end of the training part). The key
// is a hash rather than a generator's stream so that a script in any
// language can draw the same split (scripts/reference-fixtures.py and
// scripts/compare-shared.py do).
func randomSplit(rows []int, y []float64, frac float64, seed uint64) (fit, hold []int) {
	type keyed struct {
		row int
		key [sha256.Size]byte
	}
	ks := make([]keyed, len(rows))
	prefix := strconv.FormatUint(seed, 10) + ":"
	buf := make([]byte, 0, 48)
	for j, i := range rows {
		buf = strconv.AppendInt(append(buf[:0], prefix...), int64(i), 10)
		ks[j] = keyed{i, sha256.Sum256(buf)}
	}
	slices.SortFunc(ks, func(a, b keyed) int { return bytes.Compare(a.key[:], b.key[:]) })
	var count [2]int
	for _, i := range rows {
		count[class(y[i])]++
	}
	var quota [2]int
	for c := range quota {
		quota[c] = int(math.Round(frac * float64(count[c])))
	}
	isHold := make([]bool, len(ks))
	for j := len(ks) - 1; j >= 0; j-- {
		if c := class(y[ks[j].row]); quota[c] > 0 {
			quota[c]--
			isHold[j] = true
		}
	}
	for j, k := range ks {
		if isHold[j] {
			hold = append(hold, k.row)
		} else {
			fit = append(fit, k.row)
		}
	}
	return fit, hold
}

func class(y float64) int {
	if y == 1 {
		return 1
	}
	return 0
}
