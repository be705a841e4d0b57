// Package notebooks holds Jupyter notebooks for analysts. It has no Go
// code; its test trains a model and runs every notebook end to end against
// it, so the notebooks keep working as the artifact format evolves.
package notebooks
