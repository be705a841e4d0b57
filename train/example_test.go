package train_test

import (
	"fmt"

	"github.com/icpengine/icp/datasets/synth"
	"github.com/icpengine/icp/features"
	"github.com/icpengine/icp/train"
)

func ExampleTrain() {
	accounts, _ := synth.Generate(synth.Config{Rows: 2000, Seed: 1})
	schema := features.Infer(accounts, features.InferConfig{})
	p, err := train.Train(accounts, schema, train.Config{Seed: 1, Label: train.LabelConfig{Target: train.TargetWon}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("label:", p.Label.Definition)
	fmt.Printf("closed deals: %d, won: %d\n", p.Data.Labeled, p.Label.Positives)
	fmt.Printf("holdout ROC AUC: %.2f\n", p.Validation.Holdout.ROCAUC)
	// Output:
	// label: won deals (outcome)
	// closed deals: 2000, won: 491
	// holdout ROC AUC: 0.86
}
