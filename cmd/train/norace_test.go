//go:build !race

package main

// raceEnabled reports that the tests run without the race detector.
const raceEnabled = false
