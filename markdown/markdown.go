// Package markdown turns what people write into safe HTML: GitHub-flavoured
// Markdown rendered by goldmark, without raw HTML, then sanitised by
// bluemonday's user-generated-content policy. @mentions become styled spans.
package markdown

import (
	"bytes"
	"html/template"
	"regexp"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"
)

var (
	md = goldmark.New(
		goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.Linkify),
		// No WithUnsafe: raw HTML in the source is dropped, and goldmark
		// refuses dangerous link schemes before the sanitiser sees them.
		goldmark.WithRendererOptions(html.WithHardWraps()),
	)
	policy = newPolicy()
	// mention matches @name at a word start; names are letters, digits, dot, dash, underscore.
	mention = regexp.MustCompile(`(^|[\s(>])@([\p{L}\p{N}][\p{L}\p{N}._-]{0,39})`)
)

func newPolicy() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	p.RequireNoReferrerOnLinks(false)
	p.AllowURLSchemes("http", "https", "mailto")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^(mention|language-[a-zA-Z0-9_+-]+)$`)).OnElements("span", "code")
	return p
}

// Render returns the safe HTML of Markdown src.
func Render(src string) template.HTML {
	var buf bytes.Buffer
	if err := md.Convert([]byte(src), &buf); err != nil {
		return template.HTML(template.HTMLEscapeString(src))
	}
	out := policy.SanitizeBytes(mentions(buf.Bytes()))
	out = linkRel.ReplaceAll(out, []byte(`rel="nofollow ugc noopener"`))
	return template.HTML(out)
}

// linkRel rewrites the rel that bluemonday writes on links: nofollow, and
// noopener for those opening in a new tab, become one uniform value.
var linkRel = regexp.MustCompile(`rel="nofollow(?: noopener)?"`)

// mentions wraps @names found in text (not inside tags or code) in a span.
func mentions(h []byte) []byte {
	var out bytes.Buffer
	inTag, inCode := false, 0
	start := 0
	flush := func(end int) {
		seg := h[start:end]
		if inCode == 0 {
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
