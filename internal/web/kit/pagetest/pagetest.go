// Package pagetest renders the areas' pages in their tests, and checks
// that what people and LMSs send comes out of them as text.
package pagetest

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"github.com/roundtable-lms/roundtable/internal/web/kit"
)

// Hostile is what a person, or an LMS, could send as a name, a title, a
// reason or a note: markup that would run if a page copied it as HTML,
// quotes that would end an attribute, and an entity that must stay text.
const Hostile = `<script>alert(1)</script><img src=x onerror=alert(2)>"'&amp;</p>`

// RenderDoc renders a page component and parses it as a browser would.
func RenderDoc(t *testing.T, name string, page templ.Component) *goquery.Document {
	t.Helper()
	var buf bytes.Buffer
	if err := page.Render(context.Background(), &buf); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	d, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// MustBeInert fails unless the page holds no markup of Hostile's: no
// inline script, no image, no event handler attribute.
func MustBeInert(t *testing.T, name string, d *goquery.Document) {
	t.Helper()
	if n := d.Find("script:not([src]), img").Length(); n != 0 {
		h, _ := d.Html()
		t.Errorf("%s: %d elements came from a value:\n%s", name, n, h)
	}
	d.Find("*").Each(func(_ int, s *goquery.Selection) {
		for _, a := range s.Nodes[0].Attr {
			if strings.HasPrefix(a.Key, "on") {
				t.Errorf("%s: <%s %s=%q> came from a value", name, goquery.NodeName(s), a.Key, a.Val)
			}
		}
	})
}

// MustShow fails unless each selector's text holds Hostile as text.
func MustShow(t *testing.T, name string, d *goquery.Document, sels ...string) {
	t.Helper()
	for _, sel := range sels {
		s := d.Find(sel)
		if s.Length() == 0 {
			t.Errorf("%s: nothing matches %s", name, sel)
			continue
		}
		s.Each(func(_ int, s *goquery.Selection) {
			if !strings.Contains(s.Text(), Hostile) {
				t.Errorf("%s: %s shows %q, want it to hold %q as text", name, sel, s.Text(), Hostile)
			}
		})
	}
}

// MustHoldAttr fails unless sel's attribute is Hostile, whole.
func MustHoldAttr(t *testing.T, name string, d *goquery.Document, sel, attr string) {
	t.Helper()
	s := d.Find(sel)
	if s.Length() == 0 {
		t.Errorf("%s: nothing matches %s", name, sel)
		return
	}
	if got := s.AttrOr(attr, ""); got != Hostile {
		t.Errorf("%s: %s's %s is %q, want %q", name, sel, attr, got, Hostile)
	}
}

// Layout is a page layout titled Hostile.
func Layout(t *testing.T) kit.Layout {
	t.Helper()
	b, err := kit.NewBase(&kit.Base{})
	if err != nil {
		t.Fatal(err)
	}
	return b.Layout(Hostile)
}

// Base is a staff member's activity page base, with a Layout titled
// Hostile.
func Base(t *testing.T) kit.ActivityBase {
	return kit.ActivityBase{L: Layout(t), Base: "/a/link-1", Staff: true, Form: kit.HiddenFields{CSRF: "csrf-1"}}
}
