// Package markdown turns what people write into safe HTML: GitHub-flavoured
// Markdown rendered by goldmark, without raw HTML, then sanitised by
// bluemonday's user-generated-content policy. @mentions become styled
// spans, images become links (see images.go), and what one text may make
// is bounded (see limits.go): Check refuses a text past the bounds, and
// Render shows what fits of one already stored, with a note.
package markdown

import (
	"bytes"
	"fmt"
	"html/template"
	"regexp"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

var (
	md     = newMarkdown()
	policy = newPolicy()
	// mention matches @name at a word start; names are letters, digits, dot, dash, underscore.
	mention = regexp.MustCompile(`(^|[\s(>])@([\p{L}\p{N}][\p{L}\p{N}._-]{0,39})`)
)

// newMarkdown is goldmark with tables, strikethrough and autolinks (the
// GFM extensions but task lists), its quote and list parsers limited in
// depth, its table, reference, link, emphasis and autolink parsers in
// budgets, and images turned into links.
func newMarkdown() goldmark.Markdown {
	blocks := parser.DefaultBlockParsers()
	for i, b := range blocks {
		if b.Value == parser.NewBlockquoteParser() || b.Value == parser.NewListParser() {
			blocks[i].Value = nestingLimited{b.Value.(parser.BlockParser)}
		}
	}
	inlines := append(parser.DefaultInlineParsers(), util.Prioritized(extension.NewStrikethroughParser(), 500),
		util.Prioritized(autolinkBudget{extension.NewLinkifyParser()}, 999))
	for i, p := range inlines {
		switch p.Value {
		case parser.NewLinkParser():
			inlines[i].Value = budgeted{p.Value.(parser.InlineParser), takeBracket}
		case parser.NewEmphasisParser(), extension.NewStrikethroughParser():
			inlines[i].Value = budgeted{p.Value.(parser.InlineParser), takeEmphasis}
		}
	}
	p := parser.NewParser(
		parser.WithBlockParsers(blocks...),
		parser.WithInlineParsers(inlines...),
		parser.WithParagraphTransformers(
			util.Prioritized(boundedReferences{parser.LinkReferenceParagraphTransformer}, 100),
			util.Prioritized(boundedTables{extension.NewTableParagraphTransformer()}, 200)),
		parser.WithASTTransformers(
			util.Prioritized(extension.NewTableASTTransformer(), 0),
			util.Prioritized(imagesAsLinks{}, 100)),
	)
	return goldmark.New(
		goldmark.WithParser(p),
		// No WithUnsafe: raw HTML in the source is dropped, and goldmark
		// refuses dangerous link schemes before the sanitiser sees them.
		goldmark.WithRendererOptions(html.WithHardWraps(), renderer.WithNodeRenderers(
			util.Prioritized(extension.NewTableHTMLRenderer(), 500),
			util.Prioritized(extension.NewStrikethroughHTMLRenderer(), 500))),
	)
}

func newPolicy() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	p.RequireNoReferrerOnLinks(false)
	p.AllowURLSchemes("http", "https", "mailto")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^(mention|language-[a-zA-Z0-9_+-]+)$`)).OnElements("span", "code")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^external-image$`)).OnElements("a")
	return p
}

// parse parses src within the limits, and says which it passed first.
func parse(src []byte) (ast.Node, *usage) {
	u := &usage{}
	pc := parser.NewContext()
	pc.Set(usageKey, u)
	return md.Parser().Parse(text.NewReader(src), parser.WithContext(pc)), u
}

// Check reports the first limit that src passes, as a *LimitError whose
// message names it, or nil when it renders in full.
func Check(src string) error {
	source := []byte(src)
	doc, u := parse(source)
	if u.exceeded != nil {
		return u.exceeded
	}
	if size := estimate(doc, source); size > MaxHTML {
		return &LimitError{Limit: "size", message: fmt.Sprintf(
			"This post would make about %d KB of page, and a post may make at most %d KB: long tables, many links or mentions and deep quotes take the most room. Shorten it or split it into two posts.",
			(size+1023)>>10, MaxHTML>>10)}
	}
	return nil
}

// TooLargeNote ends the HTML of a text that passed the limits: what fits
// is shown, and this says that the rest is not.
const TooLargeNote = `<p class="too-large" data-testid="too-large"><em>This post is too large to show in full: part of it, or of its formatting, is left out.</em></p>`

// Render returns the safe HTML of Markdown src: at most MaxHTML bytes,
// plus TooLargeNote when src passes the limits.
func Render(src string) template.HTML {
	out, _ := render(src)
	return template.HTML(out)
}

// rendering says how render went, for tests.
type rendering struct {
	limited  bool // src passed a limit: what fits is shown, with the note
	fellBack bool // the HTML was larger than estimated: plain text is shown
}

func render(src string) ([]byte, rendering) {
	source := []byte(src)
	doc, u := parse(source)
	r := rendering{limited: u.exceeded != nil}
	r.limited = fit(doc, source, MaxHTML) || r.limited
	var buf bytes.Buffer
	if err := md.Renderer().Render(&buf, source, doc); err != nil {
		r.fellBack = true
		return plainText(source), r
	}
	out := policy.SanitizeBytes(mentions(buf.Bytes()))
	out = linkRel.ReplaceAll(out, []byte(`rel="nofollow ugc noopener"`))
	if len(out) > MaxHTML {
		// The estimate errs high, so this is a bug of its; the bound holds.
		r.fellBack = true
		return plainText(source), r
	}
	if r.limited {
		out = append(out, TooLargeNote...)
	}
	return out, r
}

// plainText is src as escaped text, as much as fits, with the note.
func plainText(src []byte) []byte {
	var s sizer
	n := s.textFitting(src, MaxHTML-len("<p></p>"))
	out := append([]byte("<p>"), template.HTMLEscapeString(string(src[:n]))...)
	return append(append(out, "</p>"...), TooLargeNote...)
}

// linkRel rewrites the rel that bluemonday writes on links: nofollow, and
// noopener for those opening in a new tab, become one uniform value.
var linkRel = regexp.MustCompile(`rel="nofollow(?: noopener)?"`)

// mentions wraps @names found in text (not inside tags or code) in a span.
func mentions(h []byte) []byte {
	if bytes.IndexByte(h, '@') < 0 {
		return h
	}
	var out bytes.Buffer
	inTag, inCode := false, 0
	start := 0
	flush := func(end int) {
		seg := h[start:end]
		if inCode == 0 && bytes.IndexByte(seg, '@') >= 0 {
			seg = mention.ReplaceAll(seg, []byte(`$1<span class="mention">@$2</span>`))
		}
		out.Write(seg)
	}
	for i := 0; i < len(h); i++ {
		switch {
		case !inTag && h[i] == '<':
			flush(i)
			start = i
			inTag = true
		case inTag && h[i] == '>':
			tag := h[start : i+1]
			switch {
			case bytes.HasPrefix(tag, []byte("<code")), bytes.HasPrefix(tag, []byte("<pre")), bytes.HasPrefix(tag, []byte("<a ")):
				inCode++
			case bytes.HasPrefix(tag, []byte("</code")), bytes.HasPrefix(tag, []byte("</pre")), bytes.HasPrefix(tag, []byte("</a>")):
				if inCode > 0 {
					inCode--
				}
			}
			out.Write(tag)
			start = i + 1
			inTag = false
		}
	}
	if inTag {
		out.Write(h[start:])
	} else {
		flush(len(h))
	}
	return out.Bytes()
}
