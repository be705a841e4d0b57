//go:build race

package train

// raceEnabled reports that the tests run with the race detector.
const raceEnabled = true
