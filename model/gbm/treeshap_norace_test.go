//go:build !race

package gbm

// treeRaceEnabled reports whether the race detector is on.
const treeRaceEnabled = false
