//go:build !race

package train

// raceEnabled reports that the tests run without the race detector.
const raceEnabled = false
