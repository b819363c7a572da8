package markdown

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// What one post may make of its text. A few characters of Markdown can
// ask for a lot: a table row of 3,000 characters declares 1,500 columns
// that every later line, even an empty "|", fills with cells (a
// 9,000-character post made 22 MB of HTML and took seconds to render);
// nested quotes and unmatched brackets or asterisks make the parser
// quadratic; a link reference repeats its address at each use. These
// bounds hold while goldmark parses, through its own extension points (a
// block parser that stops nesting, a table transformer that counts cells,
// inline parsers with a budget), so parsing stays linear; the size of the
// HTML is then estimated on the tree (see size.go). Check refuses a text
// past any of them; Render shows what fits, with a note.
const (
	// MaxDepth bounds how deep quotes and lists nest.
	MaxDepth = 16
	// MaxTableColumns bounds a table's columns.
	MaxTableColumns = 30
	// MaxTableCells bounds the cells of all the tables of a post.
	MaxTableCells = 2000
	// MaxBrackets bounds the square brackets outside code that may open or
	// close a link or an image (a link takes two), in a post and in one
	// paragraph: unmatched ones make the link parser quadratic.
	MaxBrackets         = 1000
	MaxBracketsPerBlock = 200
	// MaxEmphasis bounds the runs of *, _ and ~ outside code (bold text
	// takes two), in a post and in one paragraph: goldmark matches them
	// in quadratic time.
	MaxEmphasis         = 1000
	MaxEmphasisPerBlock = 200
	// MaxAutolinks bounds the web addresses written out (www.example.com)
	// that become links: each costs a regular expression to find.
	MaxAutolinks = 500
	// MaxReferences bounds the link reference definitions ("[name]:
	// address" lines) of a paragraph, fewer in a paragraph of more lines
	// than that: goldmark takes each out of the paragraph by copying the
	// lines after it.
	MaxReferences = 100
	// MaxHTML bounds the HTML one post makes, in bytes. An ordinary post of
	// the longest length (20,000 characters) makes 20 to 35 KB, the more
	// the more links it has.
	MaxHTML = 48 << 10
)

// LimitError is a text past one of the limits; its message says which,
// in words for the person who wrote it.
type LimitError struct {
	// Limit names the limit: "depth", "columns", "cells", "brackets",
	// "emphasis" or "size".
	Limit   string
	message string
}

func (e *LimitError) Error() string { return e.message }

// usage is what a text has used of the limits so far, kept in the parser's
// context for one parse.
type usage struct {
	exceeded                     *LimitError
	cells, brackets, emphasis    int
	autolinks                    int
	block                        ast.Node
	blockBrackets, blockEmphasis int
}

var usageKey = parser.NewContextKey()

func usageOf(pc parser.Context) *usage {
	u, _ := pc.Get(usageKey).(*usage)
	return u
}

// exceed records the first limit the text passed.
func (u *usage) exceed(limit, format string, args ...any) {
	if u.exceeded == nil {
		u.exceeded = &LimitError{Limit: limit, message: fmt.Sprintf(format, args...)}
	}
}

// inBlock resets the per-paragraph counts when inline parsing moves to
// another block.
func (u *usage) inBlock(b ast.Node) {
	if u.block != b {
		u.block, u.blockBrackets, u.blockEmphasis = b, 0, 0
	}
}

// nestingLimited is a block parser (quotes, lists) that opens no block
// deeper than MaxDepth: the line stays text in the deepest one.
type nestingLimited struct{ parser.BlockParser }

func (p nestingLimited) Open(parent ast.Node, reader text.Reader, pc parser.Context) (ast.Node, parser.State) {
	depth := 0
	for n := parent; n != nil; n = n.Parent() {
		if k := n.Kind(); k == ast.KindBlockquote || k == ast.KindList {
			depth++
		}
	}
	if depth >= MaxDepth {
		if u := usageOf(pc); u != nil {
			u.exceed("depth", "Quotes and lists can be nested at most %d deep; this post nests them deeper.", MaxDepth)
		}
		return nil, parser.NoChildren
	}
	return p.BlockParser.Open(parent, reader, pc)
}

// boundedTables turns paragraphs into tables as the table extension does,
// unless the table would pass MaxTableColumns or the post's MaxTableCells:
// it is then left as the text it was. A table has as many cells as its
// delimiter row has columns, on every row.
type boundedTables struct{ inner parser.ParagraphTransformer }

func (t boundedTables) Transform(node *ast.Paragraph, reader text.Reader, pc parser.Context) {
	u := usageOf(pc)
	lines := node.Lines()
	if u == nil || lines.Len() < 2 {
		t.inner.Transform(node, reader, pc)
		return
	}
	// The extension makes its table at the first line it reads as a
	// delimiter row; any line that may be one counts, at its widest.
	cols, cells := 0, 0
	for i := 1; i < lines.Len(); i++ {
		seg := lines.At(i)
		n := delimiterColumns(seg.Value(reader.Source()))
		cols, cells = max(cols, n), max(cells, n*(lines.Len()-i))
	}
	switch {
	case cols == 0:
	case cols > MaxTableColumns:
		u.exceed("columns", "Tables can have at most %d columns; this post has one with %d.", MaxTableColumns, cols)
		return
	case u.cells+cells > MaxTableCells:
		u.exceed("cells", "The tables of a post can have at most %d cells in all; this post has more.", MaxTableCells)
		return
	}
	u.cells += cells
	t.inner.Transform(node, reader, pc)
}

// delimiterColumns is the number of columns of a line that may be a
// table's delimiter row ("|---|:-:|"), or 0 when it cannot be one. It
// accepts every line the table extension accepts, and a few more.
func delimiterColumns(line []byte) int {
	if w, _ := util.IndentWidth(line, 0); w > 3 {
		return 0
	}
	dash, cols, inCol := false, 0, false
	for _, b := range line {
		switch {
		case b == '|':
			inCol = false
		case b == '-' || b == ':':
			dash = dash || b == '-'
			if !inCol {
				cols++
				inCol = true
			}
		case util.IsSpace(b):
		default:
			return 0
		}
	}
	if !dash {
		return 0
	}
	return cols
}

// boundedReferences reads the link reference definitions of a paragraph
// as goldmark does, unless there may be more than MaxReferences of them
// (or, in a paragraph of more lines, more than MaxReferences² in all of
// lines times definitions): they are then left as text.
type boundedReferences struct{ inner parser.ParagraphTransformer }

func (t boundedReferences) Transform(node *ast.Paragraph, reader text.Reader, pc parser.Context) {
	u := usageOf(pc)
	lines := node.Lines()
	if u != nil {
		refs := 0
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			line := seg.Value(reader.Source())
			if _, pos := util.IndentWidth(line, 0); pos < len(line) && line[pos] == '[' {
				refs++
			}
		}
		if refs > MaxReferences || refs*lines.Len() > MaxReferences*MaxReferences {
			u.exceed("references", "A paragraph can hold at most %d link references (\"[name]: address\" lines), fewer in a long paragraph; separate them with blank lines.", MaxReferences)
			return
		}
	}
	t.inner.Transform(node, reader, pc)
}

// budgeted is an inline parser (links, emphasis, strikethrough) that
// stops recognising its marks past a budget, per post and per block: they
// stay text.
type budgeted struct {
	parser.InlineParser
	take func(u *usage) bool
}

func (b budgeted) Parse(parent ast.Node, block text.Reader, pc parser.Context) ast.Node {
	if u := usageOf(pc); u != nil {
		u.inBlock(parent)
		if !b.take(u) {
			return nil
		}
	}
	return b.InlineParser.Parse(parent, block, pc)
}

// CloseBlock lets the link parser turn its unclosed brackets into text.
func (b budgeted) CloseBlock(parent ast.Node, block text.Reader, pc parser.Context) {
	if c, ok := b.InlineParser.(parser.CloseBlocker); ok {
		c.CloseBlock(parent, block, pc)
	}
}

// autolinkBudget is the linkify parser, which stops making links of
// written-out addresses past MaxAutolinks.
type autolinkBudget struct{ parser.InlineParser }

func (b autolinkBudget) Parse(parent ast.Node, block text.Reader, pc parser.Context) ast.Node {
	u := usageOf(pc)
	if u == nil {
		return b.InlineParser.Parse(parent, block, pc)
	}
	if u.autolinks >= MaxAutolinks {
		// Most of what triggers the parser (every space) is no address:
		// only what starts like one passes the limit.
		line, _ := block.PeekLine()
		if len(line) > 0 && strings.IndexByte(" *_~(", line[0]) >= 0 {
			line = line[1:]
		}
		for _, p := range [][]byte{[]byte("http:"), []byte("https:"), []byte("ftp:"), []byte("www.")} {
			if bytes.HasPrefix(line, p) {
				u.exceed("links", "A post can have at most %d web addresses written out as links; this one has more.", MaxAutolinks)
			}
		}
		return nil
	}
	n := b.InlineParser.Parse(parent, block, pc)
	if n != nil {
		u.autolinks++
	}
	return n
}

func takeBracket(u *usage) bool {
	if u.brackets >= MaxBrackets || u.blockBrackets >= MaxBracketsPerBlock {
		u.exceed("brackets", "A post can use at most %d square brackets outside code, and a paragraph %d (a link takes two); this one uses more.",
			MaxBrackets, MaxBracketsPerBlock)
		return false
	}
	u.brackets++
	u.blockBrackets++
	return true
}

func takeEmphasis(u *usage) bool {
	if u.emphasis >= MaxEmphasis || u.blockEmphasis >= MaxEmphasisPerBlock {
		u.exceed("emphasis", "A post can use at most %d runs of *, _ or ~ outside code, and a paragraph %d (bold text takes two); this one uses more.",
			MaxEmphasis, MaxEmphasisPerBlock)
		return false
	}
	u.emphasis++
	u.blockEmphasis++
	return true
}
