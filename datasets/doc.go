// Package datasets reads CRM exports into typed, column-oriented tables and
// writes them back as CSV.
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
// The seeded generator and its ground truth live in datasets/synth, which
// builds Table values and writes them with WriteCSV.
package datasets
