package markdown

import (
	"unicode/utf8"

	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
)

// sizer adds up, on a parsed text, about how many bytes of HTML each node
// will make once rendered and sanitised, in document order, erring high
// (so that what it accepts renders within the budget): the markup around
// each node, its text as escaped (a quote is five bytes), a link's address
// and the attributes the sanitiser adds, and a possible mention's span
// for each @. When cutting, the node at which the budget runs out (a text,
// shortened to what fits) and everything after it are taken out of the
// tree, which stays well formed.
type sizer struct {
	src     []byte
	budget  int
	total   int
	cutting bool
	cut     bool
}

// estimate is the size of doc's HTML as sizer counts it.
func estimate(doc ast.Node, src []byte) int {
	s := sizer{src: src}
	s.visit(doc)
	return s.total
}

// fit cuts doc to what fits in budget bytes of HTML, and reports whether
// it cut anything.
func fit(doc ast.Node, src []byte, budget int) bool {
	s := sizer{src: src, budget: budget, cutting: true}
	s.visit(doc)
	return s.cut
}

// visit counts n and its children; false means it cut there, and stopped.
func (s *sizer) visit(n ast.Node) bool {
	c := s.own(n)
	if s.cutting && s.total+c > s.budget {
		s.cutAt(n)
		return false
	}
	s.total += c
	for ch := n.FirstChild(); ch != nil; ch = ch.NextSibling() {
		if !s.visit(ch) {
			return false
		}
	}
	return true
}

// cutAt takes n (or the part of a text that does not fit) and everything
// after it out of the tree.
func (s *sizer) cutAt(n ast.Node) {
	s.cut = true
	parent, from := n.Parent(), n
	if t, ok := n.(*ast.Text); ok {
		if k := s.textFitting(t.Segment.Value(s.src), s.budget-s.total); k > 0 {
			t.Segment = t.Segment.WithStop(t.Segment.Start + k)
			t.SetSoftLineBreak(false)
			t.SetHardLineBreak(false)
			from = n.NextSibling()
		}
	}
	for x := from; x != nil; {
		next := x.NextSibling()
		parent.RemoveChild(parent, x)
		x = next
	}
	for a := parent; a != nil && a.Parent() != nil; a = a.Parent() {
		for x := a.NextSibling(); x != nil; {
			next := x.NextSibling()
			a.Parent().RemoveChild(a.Parent(), x)
			x = next
		}
	}
}

// textFitting is how many bytes of b, ending on a rune boundary, escape
// into room bytes.
func (s *sizer) textFitting(b []byte, room int) int {
	used, i := 0, 0
	for i < len(b) {
		_, size := utf8.DecodeRune(b[i:])
		c := 0
		for _, x := range b[i : i+size] {
			c += escapedByte[x]
		}
		if used+c > room {
			break
		}
		used += c
		i += size
	}
	return i
}

// own is what n makes apart from its children.
func (s *sizer) own(n ast.Node) int {
	switch n := n.(type) {
	case *ast.Document:
		return 0
	case *ast.Text:
		c := escaped(n.Segment.Value(s.src))
		if n.SoftLineBreak() || n.HardLineBreak() {
			c += len("<br>\n")
		}
		return c
	case *ast.String:
		return escaped(n.Value)
	case *ast.Paragraph:
		return len("<p></p>\n")
	case *ast.TextBlock:
		return len("\n")
	case *ast.Heading:
		return len("<h1></h1>\n")
	case *ast.ThematicBreak:
		return len("<hr>\n")
	case *ast.Blockquote:
		return len("<blockquote>\n</blockquote>\n")
	case *ast.List:
		return len(`<ol start="1234567890"></ol>`) + 2
	case *ast.ListItem:
		return len("<li>\n</li>\n")
	case *ast.CodeBlock, *ast.FencedCodeBlock:
		c := len(`<pre><code class=""></code></pre>` + "\n")
		if f, ok := n.(*ast.FencedCodeBlock); ok && f.Info != nil {
			c += 2 * escaped(f.Info.Segment.Value(s.src))
		}
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			c += escaped(seg.Value(s.src))
		}
		return c
	case *ast.HTMLBlock, *ast.RawHTML:
		// Without raw HTML, a comment that the sanitiser takes out.
		return 1
	case *ast.CodeSpan:
		return len("<code></code>")
	case *ast.Emphasis:
		if n.Level == 1 {
			return len("<em></em>")
		}
		return len("<strong></strong>")
	case *east.Strikethrough:
		return len("<del></del>")
	case *ast.Link:
		c := linkMarkup + urlEscaped(n.Destination) + escaped(n.Title)
		if n.Attributes() != nil {
			c += len(` class="external-image"`)
		}
		return c
	case *ast.AutoLink:
		return linkMarkup + len("mailto:") + urlEscaped(n.URL(s.src)) + escaped(n.Label(s.src))
	case *ast.Image:
		// An image of Roundtable's own store; its alt text is its children.
		return len(`<img src="" alt="" title="">`) + urlEscaped(n.Destination) + escaped(n.Title)
	case *east.Table:
		return len("<table>\n</table>\n<tbody>\n</tbody>\n")
	case *east.TableHeader:
		return len("<thead>\n<tr>\n</tr>\n</thead>\n")
	case *east.TableRow:
		return len("<tr>\n</tr>\n")
	case *east.TableCell:
		if n.Alignment != east.AlignNone {
			return len(`<td style="text-align:center"></td>` + "\n")
		}
		return len("<td></td>\n")
	}
	return 32
}

// linkMarkup is a link's markup around its address, title and text, with
// what the sanitiser adds.
const linkMarkup = len(`<a href="" title="" rel="nofollow ugc noopener" target="_blank"></a>`)

// escapedByte is the most each byte of text makes in the page: escaped
// (a quote is &#34;), and an @ that may start a mention's span.
var escapedByte = func() (t [256]int) {
	for i := range t {
		t[i] = 1
	}
	t['<'], t['>'], t['&'], t['\''] = 5, 5, 5, 5
	t['"'] = 6
	t['@'] = 1 + len(`<span class="mention"></span>`)
	return t
}()

func escaped(b []byte) int {
	c := 0
	for _, x := range b {
		c += escapedByte[x]
	}
	return c
}

// urlEscaped is the most an address makes in an attribute: bytes that are
// not plain URL characters are percent-encoded or escaped.
func urlEscaped(b []byte) int {
	c := 0
	for _, x := range b {
		c += urlByte[x]
	}
	return c
}

var urlByte = func() (t [256]int) {
	for i := range t {
		t[i] = 3
	}
	for _, x := range []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:/?#[]@!$()*+,;=%") {
		t[x] = 1
	}
	t['&'], t['\''] = 5, 5
	t['"'], t['<'], t['>'] = 6, 6, 6
	return t
}()
