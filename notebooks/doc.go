// Package notebooks holds Jupyter notebooks for analysts, written with
// pandas and matplotlib. It has no Go code: its test trains a boosted-trees
// and a logistic model, starts the serve command on each, and executes
// every notebook with Jupyter (jupyter nbconvert --execute) against them,
// so the notebooks keep working for every model kind as the artifact
// format evolves. Without Jupyter, or without a Python kernel that has
// pandas and matplotlib, the test skips and leaves a notice that make test
// prints after the tests.
//
// reading_a_model.ipynb reads a model artifact: its validation and
// candidates, the segments with their evidence, the anti-ICP, the tiers on
// the holdout, the calibration curve, the columns that drive the score,
// and, through the score API of a running serve (ICP_URL), the scores of a
// CSV file and the attributions of a few accounts.
package notebooks
