package ltiplatform_test

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// node wraps an HTML node for assertions by CSS-like selector.
type node struct{ *html.Node }

func parseHTML(t testing.TB, page string) node {
	t.Helper()
	doc, err := html.ParseWithOptions(strings.NewReader(page), html.ParseOptionEnableScripting(false))
	if err != nil {
		t.Fatal(err)
	}
	return node{doc}
}

// all finds descendants matching a selector of space-separated steps, each
// a tag, .class, #id or tag.class, optionally followed by [attr].
func (n node) all(sel string) []node {
	cur := []node{n}
	for _, step := range strings.Fields(sel) {
		var next []node
		seen := map[*html.Node]bool{}
		for _, c := range cur {
			c.walk(func(d node) {
				if d.Node != c.Node && !seen[d.Node] && d.matches(step) {
					seen[d.Node] = true
					next = append(next, d)
				}
			})
		}
		cur = next
	}
	return cur
}

func (n node) one(t testing.TB, sel string) node {
	t.Helper()
	found := n.all(sel)
	if len(found) == 0 {
		t.Fatalf("no element matches %q", sel)
	}
	return found[0]
}

func (n node) walk(fn func(node)) {
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		node{c}.walk(fn)
	}
}

func (n node) matches(step string) bool {
	if n.Type != html.ElementNode {
		return false
	}
	step, attrName, _ := strings.Cut(step, "[")
	if attrName = strings.TrimSuffix(attrName, "]"); attrName != "" && !n.has(attrName) {
		return false
	}
	tag, rest := step, ""
	if i := strings.IndexAny(step, ".#"); i >= 0 {
		tag, rest = step[:i], step[i:]
	}
	if tag != "" && n.Data != tag {
		return false
	}
	switch {
	case strings.HasPrefix(rest, "."):
		return strings.Contains(" "+n.attr("class")+" ", " "+rest[1:]+" ")
	case strings.HasPrefix(rest, "#"):
		return n.attr("id") == rest[1:]
	}
	return true
}

func (n node) has(name string) bool {
	for _, a := range n.Attr {
		if a.Key == name {
			return true
		}
	}
	return false
}

func (n node) attr(name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

func (n node) text() string {
	var b strings.Builder
	n.walk(func(d node) {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	})
	return strings.Join(strings.Fields(b.String()), " ")
}
