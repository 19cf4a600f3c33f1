// Package mdblocks extracts the fenced code blocks of a Markdown document,
// so that tests can load, parse or run every example the documentation
// shows.
package mdblocks

import (
	"bufio"
	"bytes"
	"strings"
)

// Block is one fenced code block.
type Block struct {
	// Lang is the info string's first word ("yaml", "sh"; "" for none).
	Lang string
	// Text is the block's content, without the fences.
	Text string
	// Line is the line of the opening fence (1-based).
	Line int
}

// Parse returns the document's fenced blocks (``` or ~~~, three or more),
// in order. An unclosed block runs to the end of the document.
func Parse(doc []byte) []Block {
	var out []Block
	var cur *Block
	var fence string
	var body strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(doc))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " ")
		if cur == nil {
			if f := fenceOf(trimmed); f != "" && len(line)-len(trimmed) < 4 {
				info := strings.TrimSpace(trimmed[len(f):])
				lang, _, _ := strings.Cut(info, " ")
				cur, fence = &Block{Lang: lang, Line: n}, f
				body.Reset()
			}
			continue
		}
		if strings.HasPrefix(trimmed, fence) && strings.TrimSpace(strings.TrimLeft(trimmed, fence[:1])) == "" {
			cur.Text = body.String()
			out = append(out, *cur)
			cur = nil
			continue
		}
		body.WriteString(line)
		body.WriteByte('\n')
	}
	if cur != nil {
		cur.Text = body.String()
		out = append(out, *cur)
	}
	return out
}

// fenceOf is the fence a line opens with ("```", "~~~~"), or "".
func fenceOf(line string) string {
	for _, c := range []byte{'`', '~'} {
		n := 0
		for n < len(line) && line[n] == c {
			n++
		}
		if n >= 3 {
			return line[:n]
		}
	}
	return ""
}
