//go:build !race

package model

// treeRaceEnabled reports whether the race detector is on.
const treeRaceEnabled = false
