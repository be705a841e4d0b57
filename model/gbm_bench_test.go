package model

import (
	"testing"
	"time"
)

func TestQuickTiming(t *testing.T) {
	x, y := gbmTestB2B(100000, 1)
	st := time.Now()
	g, info, err := FitGBM(x, y, nil, nil, &GBMConfig{Rounds: 100})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fit %v rounds %d loss %v", time.Since(st), info.Rounds, info.TrainLoss[len(info.TrainLoss)-1])
	st = time.Now()
	g.MarginBatch(x, nil)
	t.Logf("predict %v us/row", float64(time.Since(st).Microseconds())/1e5)
}
