// Package datasets reads CRM exports into typed, column-oriented tables and
// generates seeded synthetic account tables with a known ground-truth ICP.
package datasets
