// Package show displays results in a Jupyter notebook run by the repdyn
// kernel (GoNB): charts that stay in the saved notebook, live training curves
// updated in place, progress bars, HTML tables, image grids, Markdown with
// LaTeX and verdict tables for theory checks.
//
// Every function also works outside a notebook (go test, go run, a CI job):
// it then writes plain text to Out (os.Stdout by default), so code that shows
// things stays unit-testable.
//
// Outputs of a cell are plain Jupyter MIME bundles (text/html, image/png,
// text/markdown): no widgets, no JavaScript, so they render the same in
// JupyterLab, the classic Notebook and headless `jupyter nbconvert --execute`
// runs, and they are kept in the saved .ipynb. Every bundle also carries
// text/plain (tables as aligned text, verdicts as lines, the progress bar's
// state as a line), which is what exports without HTML (nbconvert --to
// latex, pdf, markdown) keep.
package show

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/protocol"
)

// Out receives the text fallback when not running inside a notebook; nil
// means os.Stdout (looked up at each write).
var Out io.Writer

// notebook reports whether to send rich output (tests may override it).
var notebook = func() bool { return gonbui.IsNotebook }

// InNotebook reports whether this process is a cell run by the GoNB kernel.
func InNotebook() bool { return notebook() }

var outMu sync.Mutex

func textf(format string, args ...any) {
	outMu.Lock()
	defer outMu.Unlock()
	var w io.Writer = os.Stdout
	if Out != nil {
		w = Out
	}
	fmt.Fprintf(w, format, args...)
}

// sender abstracts gonbui so that tests can capture rich output. html and
// updateHTML derive the text/plain part from the HTML (PlainText);
// htmlText and updateHTMLText take it from the caller.
type sender interface {
	html(s string)
	htmlText(s, plain string)
	updateHTML(id, s string)
	updateHTMLText(id, s, plain string)
	markdown(s string)
	png(b []byte)
	sync()
}

// gonbSender sends to GoNB and waits for GoNB to have handled each message
// (gonbui.Sync): GoNB v0.11.4 closes its end of the display pipe as soon as
// the cell process exits, so a display sent just before the end of main
// could otherwise be lost, and the wait also keeps displays and stdout in
// program order. A round trip costs well under a millisecond; live displays
// are throttled anyway.
type gonbSender struct{}

func (g gonbSender) html(s string)                { g.htmlText(s, PlainText(s)) }
func (g gonbSender) updateHTML(id, s string)      { g.updateHTMLText(id, s, PlainText(s)) }
func (gonbSender) htmlText(s, plain string)       { send("", protocol.MIMETextHTML, s, plain) }
func (gonbSender) updateHTMLText(id, s, p string) { send(id, protocol.MIMETextHTML, s, p) }
func (gonbSender) markdown(s string)              { send("", protocol.MIMETextMarkdown, s, s) }
func (gonbSender) png(b []byte) {
	send("", protocol.MIMEImagePNG, b, fmt.Sprintf("[image/png, %d bytes]", len(b)))
}
func (gonbSender) sync() { gonbui.Sync() }

// send publishes one display bundle, the rich form beside its text/plain
// form (a display_data, or an update of display id when id is not empty),
// and waits for GoNB to have handled it.
func send(id string, mime protocol.MIMEType, rich any, plain string) {
	gonbui.SendData(&protocol.DisplayData{
		Data:      map[protocol.MIMEType]any{mime: rich, protocol.MIMETextPlain: plain},
		DisplayID: id,
	})
	gonbui.Sync()
}

var (
	reDrop    = regexp.MustCompile(`(?is)<(script|style)\b.*?</(script|style)>`)
	reBreak   = regexp.MustCompile(`(?i)<br\s*/?>|</(p|div|tr|li|h[1-6]|table|thead|tbody|pre)>`)
	reCell    = regexp.MustCompile(`(?i)</t[dh]>`)
	reTag     = regexp.MustCompile(`<[^>]*>`)
	reBlank   = regexp.MustCompile(`\n[ \t]*\n(\s*\n)+`)
	reSpaceNL = regexp.MustCompile(`[ \t]+\n`)
)

// PlainText is the text/plain form of an HTML fragment: tags removed (line
// breaks after block elements and table rows, two spaces between cells),
// entities decoded, <script> and <style> dropped, runs of blank lines
// collapsed. Images become their alt text in brackets.
func PlainText(h string) string {
	h = reDrop.ReplaceAllString(h, "")
	h = reImgAlt.ReplaceAllString(h, "[$1]")
	h = reBreak.ReplaceAllString(h, "$0\n")
	h = reCell.ReplaceAllString(h, "$0  ")
	h = reTag.ReplaceAllString(h, "")
	h = html.UnescapeString(h)
	h = reSpaceNL.ReplaceAllString(h, "\n")
	h = reBlank.ReplaceAllString(h, "\n\n")
	return strings.TrimSpace(h)
}

var reImgAlt = regexp.MustCompile(`(?i)<img\b[^>]*\balt="([^"]*)"[^>]*>`)

var rich sender = gonbSender{}

// HTML displays raw HTML (outside a notebook: the HTML text).
func HTML(s string) {
	if notebook() {
		rich.html(s)
		return
	}
	textf("%s\n", s)
}

// Markdown displays Markdown; $x^2$ and $$...$$ are rendered as LaTeX by
// Jupyter (outside a notebook: the Markdown text).
func Markdown(md string) {
	if notebook() {
		rich.markdown(md)
		return
	}
	textf("%s\n", md)
}

// Markdownf is Markdown with fmt formatting.
func Markdownf(format string, args ...any) { Markdown(fmt.Sprintf(format, args...)) }

// PNG displays PNG bytes (outside a notebook: a one-line note of its size).
func PNG(b []byte) {
	if notebook() {
		rich.png(b)
		return
	}
	textf("[image/png, %d bytes]\n", len(b))
}

// SVG displays an SVG document inline (as HTML, which Jupyter keeps and
// exports reliably).
func SVG(svg []byte) {
	if notebook() {
		rich.htmlText("<div>"+string(svg)+"</div>", fmt.Sprintf("[image/svg+xml, %d bytes]", len(svg)))
		return
	}
	textf("[image/svg+xml, %d bytes]\n", len(svg))
}

// Flush waits until GoNB has received everything displayed so far. Call it
// before os.Exit; returning from main needs no Flush.
func Flush() {
	if notebook() {
		rich.sync()
	}
}

// imgTag returns an <img> element with the PNG inlined as a data URI.
func imgTag(png []byte, alt string) string {
	return fmt.Sprintf(`<img class="repdyn-chart" alt="%s" src="data:image/png;base64,%s"/>`,
		html.EscapeString(alt), base64.StdEncoding.EncodeToString(png))
}

// Table displays a table with a header row (outside a notebook: aligned
// text). Cells are formatted with fmt's %v, float64 with %.4g.
func Table(headers []string, rows [][]any) {
	if notebook() {
		rich.htmlText(TableHTML(headers, rows), TableText(headers, rows))
		return
	}
	textf("%s", TableText(headers, rows))
}

func cellString(v any) string {
	switch x := v.(type) {
	case float64:
		return fmt.Sprintf("%.4g", x)
	case float32:
		return fmt.Sprintf("%.4g", x)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// TableHTML renders a table as an HTML <table>.
func TableHTML(headers []string, rows [][]any) string {
	var b strings.Builder
	b.WriteString(`<table class="repdyn-table"><thead><tr>`)
	for _, h := range headers {
		fmt.Fprintf(&b, "<th>%s</th>", html.EscapeString(h))
	}
	b.WriteString("</tr></thead><tbody>")
	for _, r := range rows {
		b.WriteString("<tr>")
		for _, c := range r {
			fmt.Fprintf(&b, "<td>%s</td>", html.EscapeString(cellString(c)))
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table>")
	return b.String()
}

// trimLine removes trailing spaces from the last line of b.
func trimLine(b *bytes.Buffer) {
	for b.Len() > 0 && b.Bytes()[b.Len()-1] == ' ' {
		b.Truncate(b.Len() - 1)
	}
}

// TableText renders a table as aligned plain text.
func TableText(headers []string, rows [][]any) string {
	cols := len(headers)
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	cells := make([][]string, 0, len(rows)+1)
	hdr := make([]string, cols)
	copy(hdr, headers)
	cells = append(cells, hdr)
	for _, r := range rows {
		row := make([]string, cols)
		for i, c := range r {
			row[i] = cellString(c)
		}
		cells = append(cells, row)
	}
	width := make([]int, cols)
	for _, r := range cells {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	var b bytes.Buffer
	for ri, r := range cells {
		for i, c := range r {
			if i > 0 {
				b.WriteString("  ")
			}
			b.WriteString(c)
			if i < cols-1 {
				b.WriteString(strings.Repeat(" ", width[i]-len([]rune(c))))
			}
		}
		trimLine(&b)
		b.WriteString("\n")
		if ri == 0 {
			for i := range cols {
				if i > 0 {
					b.WriteString("  ")
				}
				b.WriteString(strings.Repeat("-", width[i]))
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}
