// Package emerging finds, at serve time, groups of recent winners that no
// segment of the served profile covers, and says how much they grew
// against earlier winners (see Find). The drift watcher (package watch)
// alerts on the groups that grew significantly.
package emerging
