package profile

import (
	"fmt"
	"os"
	"testing"

	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/model"
)

func TestExpSegments(t *testing.T) {
	if os.Getenv("EXP") == "" {
		t.Skip()
	}
	rows := 20000
	if r := os.Getenv("ROWS"); r != "" {
		fmt.Sscan(r, &rows)
	}
	tab, truth := datasets.Generate(datasets.GenerateConfig{Rows: rows, Seed: seedEnv()})
	target := os.Getenv("TARGET")
	if target == "" {
		target = TargetWon
	}
	var sc SegmentConfig
	if k := os.Getenv("K"); k != "" {
		fmt.Sscan(k, &sc.KMin)
		sc.KMax = sc.KMin
		sc.MinStability = 0.01
		sc.MinLift, sc.MinZ = 0.01, -100
	}
	p, err := Train(tab, features.Infer(tab, features.InferConfig{}), Config{Seed: 1, Label: LabelConfig{Target: target}, Segments: sc})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("search %+v\n", p.SegmentSearch)
	for _, s := range p.Segments {
		fmt.Printf("%s %s size=%d prec=%.2f rec=%.2f lift=%.2f\n   %s\n", s.ID, s.Name, s.Size, s.Precision, s.Recall, s.Lift, s.RuleText)
	}
	icpSeg := map[string]int{datasets.SegmentSaaSMidmarket: 0, datasets.SegmentEcomScale: 1, datasets.SegmentHealthEnterprise: 2}
	won := tab.Column("outcome").Str
	var a, b []int
	for i := range truth {
		k, ok := icpSeg[truth[i].Segment]
		if !ok || won[i] != "won" {
			continue
		}
		a = append(a, k)
		b = append(b, segmentOf(p.Segments, tab, i))
	}
	fmt.Printf("ARI(rule) = %.3f on %d\n", model.AdjustedRandIndex(a, b), len(a))
	for name := range icpSeg {
		for _, s := range p.Segments {
			var hit, tp, tot int
			for i := range truth {
				if won[i] != "won" {
					continue
				}
				in := truth[i].Segment == name
				m := s.Rule.Match(tab, i)
				if in {
					tot++
				}
				if m {
					hit++
					if in {
						tp++
					}
				}
			}
			if tp > 0 {
				fmt.Printf("%s vs %s: precision %.3f recall %.3f\n", name, s.ID, float64(tp)/float64(hit), float64(tp)/float64(tot))
			}
		}
	}
}

func seedEnv() uint64 {
	var s uint64 = 42
	if v := os.Getenv("SEED"); v != "" {
		fmt.Sscan(v, &s)
	}
	return s
}

func TestExpAnti(t *testing.T) {
	if os.Getenv("EXP") == "" {
		t.Skip()
	}
	rows := 20000
	if r := os.Getenv("ROWS"); r != "" {
		fmt.Sscan(r, &rows)
	}
	tab, truth := datasets.Generate(datasets.GenerateConfig{Rows: rows, Seed: seedEnv()})
	p, err := Train(tab, features.Infer(tab, features.InferConfig{}), Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var hit, tp, tot int
	for i := range truth {
		in := truth[i].Segment == datasets.SegmentAntiICP
		m := p.antiMatch(tab, i) != nil
		if in {
			tot++
		}
		if m {
			hit++
			if in {
				tp++
			}
		}
	}
	for _, r := range p.AntiICP.Rules {
		fmt.Printf("%s %s good=%.3f loss=%.3f n=%d\n", r.ID, r.RuleText, r.GoodRate, r.LossRate, r.Evidence.Closed)
	}
	fmt.Printf("anti precision %.3f recall %.3f (base good %.3f)\n", float64(tp)/float64(hit), float64(tp)/float64(tot), p.AntiICP.BaseGoodRate)
}
