package profile_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/icpengine/icp"
	"github.com/icpengine/icp/datasets"
	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/profile"
	"github.com/icpengine/icp/train"
)

func ExampleProfile_Score() {
	accounts, _ := synth.Generate(synth.Config{Rows: 2000, Seed: 1})
	p, err := train.Train(accounts, features.Infer(accounts, features.InferConfig{}), train.Config{Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := p.Score(context.Background(), icp.Account{
		"account_id": "A-42",
		"industry":   "SaaS",
		"employees":  json.Number("180"),
		"region":     "NA",
		"tech_stack": []any{"hubspot", "segment"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	sum := s.BaseValue
	for _, a := range s.Attributions {
		sum += a.Contribution
	}
	fmt.Println(s.AccountID, s.Tier)
	fmt.Println("base + contributions = margin:", math.Abs(sum-s.Margin) < 1e-9)
	fmt.Println("top attribution:", s.Attributions[0].Feature)

	_, err = p.Score(context.Background(), icp.Account{"employees": json.Number("-5")})
	fmt.Println(err)
	// Output:
	// A-42 tier2
	// base + contributions = margin: true
	// top attribution: industry
	// invalid input: employees: must not be negative
}

func ExampleRule() {
	lo, hi := 49.0, 500.0
	r := profile.Rule{Clauses: []profile.Clause{{Conds: []profile.Cond{
		{Column: "industry", Op: profile.OpIn, Levels: []string{"FinTech", "SaaS"}},
		{Column: "employees", Op: profile.OpRange, Lo: &lo, Hi: &hi, Integer: true, Missing: true},
		{Column: "tech_stack", Op: profile.OpHasAny, Tags: []string{"hubspot", "segment"}, Separator: ";"},
	}}}}
	accounts := &datasets.Table{Columns: []*datasets.Column{
		{Name: "industry", Kind: datasets.String, Str: []string{"SaaS", "Retail", "FinTech"}},
		{Name: "employees", Kind: datasets.Number, Num: []float64{180, 180, math.NaN()}},
		{Name: "tech_stack", Kind: datasets.String, Str: []string{"aws;HubSpot", "hubspot", "segment"}},
	}}
	fmt.Println(r.String())
	for i := range accounts.Rows() {
		ok, conds, missing := r.MatchMissing(accounts, i)
		fmt.Println(ok, conds, missing)
	}
	// Output:
	// industry in {FinTech, SaaS} and 50 <= employees <= 500 (or missing) and tech_stack has any of {hubspot, segment}
	// true 3 0
	// false 0 0
	// true 3 1
}

func ExampleWilson() {
	iv := profile.Wilson(58, 100)
	fmt.Printf("58 of 100: %.3f to %.3f\n", iv.Lo, iv.Hi)
	iv = profile.Wilson(0, 12)
	fmt.Printf("0 of 12: %.3f to %.3f\n", iv.Lo, iv.Hi)
	// Output:
	// 58 of 100: 0.482 to 0.672
	// 0 of 12: 0.000 to 0.242
}

func ExampleFormatBound() {
	fmt.Println(profile.FormatBound(24e6), profile.FormatBound(10_013_000), profile.FormatBound(2.4e9), profile.FormatBound(0.35))
	// Output:
	// 24M 10.013M 2.4B 0.35
}

func ExampleDecodeBytes() {
	accounts, _ := synth.Generate(synth.Config{Rows: 1000, Seed: 1})
	p, err := train.Train(accounts, features.Infer(accounts, features.InferConfig{}), train.Config{Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	var art bytes.Buffer
	if err := p.Encode(&art); err != nil {
		fmt.Println(err)
		return
	}
	q, sum, err := profile.DecodeBytes(art.Bytes())
	if err != nil {
		fmt.Println(err)
		return
	}
	want, _ := p.Checksum()
	fmt.Println(q.Version == p.Version, sum == want)

	// An edit the checksum does not cover is refused, as is a file that is
	// not an artifact.
	_, _, err = profile.DecodeBytes(bytes.Replace(art.Bytes(), []byte(`"tier1": 0.`), []byte(`"tier1": 1.`), 1))
	fmt.Println(errors.Is(err, icp.ErrInvalid))
	_, _, err = profile.DecodeBytes([]byte(`[[[`))
	fmt.Println(err)
	// Output:
	// true true
	// true
	// decode artifact: not an ICP model artifact (an array, not an object): invalid input
}
