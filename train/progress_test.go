package train_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/train"
)

func ExampleTrainContext() {
	accounts, _ := synth.Generate(synth.Config{Rows: 1000, Seed: 1})
	schema := features.Infer(accounts, features.InferConfig{})
	cfg := train.Config{Seed: 1, Progress: func(step string, done bool) {
		if done {
			fmt.Println("done:", step)
		}
	}}
	if _, err := train.TrainContext(context.Background(), accounts, schema, cfg); err != nil {
		fmt.Println(err)
	}
	// Output:
	// done: encode 1000 closed deals
	// done: fit logistic on 800 older deals
	// done: fit gbm on 800 older deals
	// done: refit the selected model on all 1000 closed deals
	// done: rank the columns by attribution
	// done: value model
	// done: score 1000 rows
	// done: drift reference
	// done: segment search
	// done: anti-ICP search
	// done: backtest on the holdout
	// done: value backtest
	// done: check the artifact as serve loads it
}

// TestTrainContextStops cancels the training once a step is done: Train
// begins no later step and answers with the context's error.
func TestTrainContextStops(t *testing.T) {
	accounts, _ := synth.Generate(synth.Config{Rows: 800, Seed: 2})
	schema := features.Infer(accounts, features.InferConfig{})
	tests := []struct {
		give string // the step after which the context is canceled
		want []string
	}{
		{"fit logistic on 640 older deals", []string{"encode 800 closed deals", "fit logistic on 640 older deals"}},
		{"score 800 rows", []string{"encode 800 closed deals", "fit logistic on 640 older deals", "fit gbm on 640 older deals",
			"refit the selected model on all 800 closed deals", "rank the columns by attribution", "value model", "score 800 rows"}},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var begun, done []string
			cfg := train.Config{Seed: 1, Progress: func(step string, d bool) {
				if !d {
					begun = append(begun, step)
					return
				}
				done = append(done, step)
				if step == tt.give {
					cancel()
				}
			}}
			p, err := train.TrainContext(ctx, accounts, schema, cfg)
			if !errors.Is(err, context.Canceled) || p != nil {
				t.Fatalf("TrainContext = %v, %v; want nil, context.Canceled", p, err)
			}
			if !slices.Equal(done, tt.want) || !slices.Equal(begun, tt.want) {
				t.Errorf("steps begun %q, done %q; want %q for both", begun, done, tt.want)
			}
		})
	}
}
