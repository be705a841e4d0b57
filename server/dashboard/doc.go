// Package dashboard renders the leadership dashboard and its sign-in page
// from templates embedded in the binary.
//
// It knows nothing of HTTP, sessions or keys: package server gathers what
// a page shows into a [Page] (or a [SignIn]), checks who may see it, and
// asks a [Renderer] to write the HTML. The package imports only the icp
// vocabulary.
//
// # What the page shows
//
// The alerts come first, written for the people who act on them: each
// alert's plain-words title, its summary, the recommended action, its
// headline measure with the 95% interval against its baseline, and a small
// trend chart of its statistic over the latest evaluations; the technical
// statistics (tests, p-values, PSI, raw keys) sit in a fold. Severities are
// the alert's own, and the table of everything watched shows the severity
// of each signal of the drift report, which package watch grades with the
// same rule. Then the ICP in brief, the tier KPIs, ICP drift, emerging
// segments and the shift of each feature.
//
// # Charts
//
// Bar charts are HTML grids (a label column, the bar and a value column),
// so that the browser lays out their text and a label can never run into a
// value, however long; a browser test measures the text boxes of every
// chart and fails on an intersection. Trend and interval charts are small
// inline SVGs without text: their figures are written beside them. Every
// chart shows its values.
//
// # Security
//
// A page is self-contained: inline CSS, inline SVG, and one inline script
// carrying the nonce of the page's Content-Security-Policy (see
// [ContentSecurityPolicy]). The script posts JSON with the session's CSRF
// token (from the page's csrf-token meta element) in the X-CSRF-Token
// header.
package dashboard
