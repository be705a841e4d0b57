package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/icpengine/icp/datasets"
)

// progress shows how far the run is on standard error: a bar redrawn in
// place on a terminal, or a line every few seconds, with rows per second.
type progress struct {
	w     io.Writer
	bar   bool
	in    *datasets.Chunks
	rows  atomic.Int64
	began time.Time
	quit  chan struct{}
	wg    sync.WaitGroup
}

// newProgress starts showing progress; mode is auto, bar, lines or off.
func newProgress(w io.Writer, mode string, every time.Duration, in *datasets.Chunks) *progress {
	p := &progress{w: w, in: in, began: time.Now(), quit: make(chan struct{})}
	if mode == "off" {
		return p
	}
	p.bar = mode == "bar" || mode == "auto" && isTerminal(w)
	tick := every
	if p.bar {
		tick = 200 * time.Millisecond
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				p.show(false)
			case <-p.quit:
				if p.bar {
					p.show(true)
				}
				return
			}
		}
	}()
	return p
}

// add counts rows done.
func (p *progress) add(n int) { p.rows.Add(int64(n)) }

// stop ends the display.
func (p *progress) stop() {
	close(p.quit)
	p.wg.Wait()
}

func (p *progress) show(last bool) {
	rows := p.rows.Load()
	secs := time.Since(p.began).Seconds()
	rate := float64(rows) / max(secs, 1e-9)
	done, total := p.in.Progress()
	frac := -1.0
	if total > 0 {
		frac = min(float64(done)/float64(total), 1)
	}
	if !p.bar {
		pct := ""
		if frac >= 0 {
			pct = fmt.Sprintf(" (%.0f%% of the input)", 100*frac)
		}
		fmt.Fprintf(p.w, "score: %s rows%s, %s rows/s, %.0fs\n", group(rows), pct, group(int64(rate)), secs)
		return
	}
	const width = 30
	var b strings.Builder
	b.WriteString("\r[")
	if frac >= 0 {
		n := int(frac * width)
		b.WriteString(strings.Repeat("=", n))
		if n < width {
			b.WriteString(">")
			b.WriteString(strings.Repeat(" ", width-n-1))
		}
		fmt.Fprintf(&b, "] %3.0f%%", 100*frac)
	} else {
		b.WriteString(strings.Repeat("?", width) + "]")
	}
	fmt.Fprintf(&b, "  %s rows  %s rows/s  %.0fs ", group(rows), group(int64(rate)), secs)
	if last {
		b.WriteString("\n")
	}
	io.WriteString(p.w, b.String())
}

// group writes n with thousands separators: 1,234,567.
func group(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
