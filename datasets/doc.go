// Package datasets reads CRM exports into typed, column-oriented tables and
// generates seeded synthetic account tables with a known ground-truth ICP.
//
// # Reading
//
// Read and ReadFile accept what spreadsheets and CRMs actually write: a
// delimiter among ',', ';', tab and '|' (sniffed), a UTF-8 byte order mark,
// LF, CRLF or lone-CR line endings, Windows-1252 or Latin-1 bytes, quoted
// fields, currency signs, thousands separators, decimal commas in
// semicolon files, and a zoo of missing-value markers. Each column gets a
// Kind (Number, Date, Bool or String) inferred from all of its cells; see
// Read for the rules. A region "NA" stays North America in a String
// column, while "NA" in a numeric column is missing.
//
// Problems are reported as *ParseError values that name the file, line and
// column and match icp.ErrInvalid; input never makes the reader panic.
//
// # Writing
//
// WriteCSV writes a table back as plain comma-separated values that Read,
// pandas and the Python reference benchmark read unchanged.
//
// # Generating
//
// Generate draws a synthetic table of B2B accounts (firmographics, tech
// stack, behaviour, outcome, close date, LTV and churn) from a mixture of
// ICP segments, following the Python reference generator gen_accounts.py,
// and returns the hidden ground truth of every account: its segment and its
// true win probability. The same GenerateConfig always yields the same
// table, and shorter tables are prefixes of longer ones. With Emerging set,
// a new winning segment appears in the last part of the window, for drift
// tests.
package datasets
