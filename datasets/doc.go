// Package datasets reads CRM exports into typed, column-oriented tables,
// whole or in chunks, and writes them back as CSV or Parquet.
//
// # Reading
//
// Read and ReadFile take CSV, gzip-compressed CSV and Parquet files, told
// apart by their first bytes rather than their names. Parquet columns keep
// their stored types; text columns of any format go through the same
// inference, so the schema inference downstream sees the same typed
// columns whatever the format.
//
// For CSV, Read and ReadFile accept what spreadsheets and CRMs actually write: a
// delimiter among ',', ';', tab and '|' (sniffed), a UTF-8 byte order mark,
// LF, CRLF or lone-CR line endings, Windows-1252 or Latin-1 bytes, quoted
// fields, currency signs, thousands separators, decimal commas in
// semicolon files, and a zoo of missing-value markers. Each column gets a
// Kind (Number, Date, Bool or String) inferred from all of its cells; see
// Read for the rules. A region "NA" stays North America in a String
// column, while "NA" in a numeric column is missing.
//
// Problems are reported as *ParseError values that name the file, line (row
// for Parquet) and column and match icp.ErrInvalid; input never makes the
// reader panic. A quote that is never closed is reported where it opens, and
// a number beyond the float64 range (1e400) in a column of numbers is an
// error (ErrOutOfRange), never a silent switch of the column to text.
//
// Dates are read with icp.ParseDate, the module's one date parser;
// ParseDate here returns them as days since 1970-01-01.
//
// # Reading in chunks
//
// OpenChunks and OpenChunksFile read a file of accounts to score in
// chunks of rows, in memory that does not grow with the file: CSV, gzip
// CSV, NDJSON (one JSON object a line) and Parquet, told apart by their
// first bytes. Each column's kind is fixed by the caller (a model's
// schema) rather than inferred, every cell is parsed by the parsers Read
// uses (ParseCell), and a row that does not parse is set aside as a
// *ParseError with its line (or row) and field while the reading goes on.
//
// # Writing
//
// WriteCSV writes a table back as plain comma-separated values that Read,
// pandas and the Python reference benchmark read unchanged. ParquetWriter
// writes tables of the same columns as one Parquet file, a row group at a
// time.
//
// # Two-table exports
//
// RollupDeals rolls a one-to-many table of deals up onto the accounts
// (won if any deal closed won, lost if all closed deals were lost, open
// otherwise; the deciding deal's close date and cycle; the sum of won
// amounts) and RollupEvents adds the date of each account's first event
// (churn). Package rollup finds the key and the columns they need.
//
// # Generating
//
// The seeded generator and its ground truth live in datasets/synth, which
// builds Table values and writes them with WriteCSV.
package datasets
