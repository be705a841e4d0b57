package report

import (
	"fmt"
	"html"
	"io"
	"regexp"
	"strings"
)

// blockKind is the kind of one block of a report document.
type blockKind int

const (
	blockH1 blockKind = iota
	blockH2
	blockH3
	blockPara
	blockList
	blockTable
	blockChart // HTML only: an inline SVG
	// blockRaw is written as it is: its md field into the Markdown and
	// its html field into the HTML page.
	blockRaw
)

// block is one part of a report document, rendered to Markdown or HTML.
// Text may hold the inline marks **bold** and `code`.
type block struct {
	kind  blockKind
	text  string
	items []string
	head  []string
	rows  [][]string
	svg   string
	// md and html are the two forms of a blockRaw.
	md, html string
}

// document is a report as blocks, so that the Markdown and the HTML
// reports say the same things.
type document struct{ blocks []block }

func (d *document) h1(format string, a ...any) {
	d.blocks = append(d.blocks, block{kind: blockH1, text: fmt.Sprintf(format, a...)})
}
func (d *document) h2(format string, a ...any) {
	d.blocks = append(d.blocks, block{kind: blockH2, text: fmt.Sprintf(format, a...)})
}
func (d *document) h3(format string, a ...any) {
	d.blocks = append(d.blocks, block{kind: blockH3, text: fmt.Sprintf(format, a...)})
}
func (d *document) para(format string, a ...any) {
	d.blocks = append(d.blocks, block{kind: blockPara, text: fmt.Sprintf(format, a...)})
}
func (d *document) list(items []string) {
	if len(items) > 0 {
		d.blocks = append(d.blocks, block{kind: blockList, items: items})
	}
}
func (d *document) table(head []string, rows [][]string) {
	d.blocks = append(d.blocks, block{kind: blockTable, head: head, rows: rows})
}
func (d *document) chart(svg string) {
	d.blocks = append(d.blocks, block{kind: blockChart, svg: svg})
}
func (d *document) raw(md, html string) {
	d.blocks = append(d.blocks, block{kind: blockRaw, md: md, html: html})
}

// markdown writes the document as Markdown; charts are left out.
func (d *document) markdown(w io.Writer) error {
	var b strings.Builder
	for _, bl := range d.blocks {
		switch bl.kind {
		case blockH1:
			b.WriteString("# " + bl.text + "\n\n")
		case blockH2:
			b.WriteString("## " + bl.text + "\n\n")
		case blockH3:
			b.WriteString("### " + bl.text + "\n\n")
		case blockPara:
			b.WriteString(bl.text + "\n\n")
		case blockList:
			for _, it := range bl.items {
				b.WriteString("- " + it + "\n")
			}
			b.WriteString("\n")
		case blockTable:
			b.WriteString("| " + strings.Join(mdCells(bl.head), " | ") + " |\n|")
			for range bl.head {
				b.WriteString("---|")
			}
			b.WriteString("\n")
			for _, r := range bl.rows {
				b.WriteString("| " + strings.Join(mdCells(r), " | ") + " |\n")
			}
			b.WriteString("\n")
		case blockRaw:
			b.WriteString(bl.md)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdCells escapes the pipes of table cells.
func mdCells(cells []string) []string {
	out := make([]string, len(cells))
	for k, c := range cells {
		out[k] = strings.ReplaceAll(c, "|", `\|`)
	}
	return out
}

var (
	inlineCode = regexp.MustCompile("`([^`]*)`")
	inlineBold = regexp.MustCompile(`\*\*([^*]+)\*\*`)
)

// inline renders the inline marks of text as HTML, escaping the rest.
func inline(text string) string {
	s := html.EscapeString(text)
	s = inlineCode.ReplaceAllString(s, "<code>$1</code>")
	return inlineBold.ReplaceAllString(s, "<strong>$1</strong>")
}

// reportCSS styles the HTML report; it needs no network.
const reportCSS = `body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1040px;margin:2em auto;padding:0 1em;color:#1d2430}
h1{font-size:1.7em}h2{margin-top:2em;border-bottom:1px solid #d8dde6;padding-bottom:.2em}h3{margin-top:1.5em}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:13px}th,td{border:1px solid #d8dde6;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f1f4f8}code{background:#f1f4f8;padding:1px 4px;border-radius:3px;font-size:90%}
figure{margin:1em 0}svg{max-width:100%;height:auto}svg text{font:11px system-ui,sans-serif;fill:#333}`

// html writes the document as one self-contained HTML page.
func (d *document) html(w io.Writer, title string) error {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	b.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	b.WriteString("<title>" + html.EscapeString(title) + "</title>\n<style>" + reportCSS + "\n" + summaryCSS + "</style>\n</head>\n<body>\n")
	for _, bl := range d.blocks {
		switch bl.kind {
		case blockH1:
			b.WriteString("<h1>" + inline(bl.text) + "</h1>\n")
		case blockH2:
			b.WriteString("<h2>" + inline(bl.text) + "</h2>\n")
		case blockH3:
			b.WriteString("<h3>" + inline(bl.text) + "</h3>\n")
		case blockPara:
			b.WriteString("<p>" + inline(bl.text) + "</p>\n")
		case blockList:
			b.WriteString("<ul>\n")
			for _, it := range bl.items {
				b.WriteString("<li>" + inline(it) + "</li>\n")
			}
			b.WriteString("</ul>\n")
		case blockTable:
			b.WriteString("<table>\n<thead><tr>")
			for _, h := range bl.head {
				b.WriteString("<th>" + inline(h) + "</th>")
			}
			b.WriteString("</tr></thead>\n<tbody>\n")
			for _, r := range bl.rows {
				b.WriteString("<tr>")
				for _, c := range r {
					b.WriteString("<td>" + inline(c) + "</td>")
				}
				b.WriteString("</tr>\n")
			}
			b.WriteString("</tbody>\n</table>\n")
		case blockChart:
			b.WriteString("<figure class=\"chart\">" + bl.svg + "</figure>\n")
		case blockRaw:
			b.WriteString(bl.html)
		}
	}
	b.WriteString("</body>\n</html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
