package kit

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// The layout turns live updates on only for a page that sets LiveSrc: the
// stream URL on body, a polite live region and live.js.
func TestLayoutLiveSrc(t *testing.T) {
	as, err := newAssets()
	if err != nil {
		t.Fatal(err)
	}
	s := &Base{assets: as}
	render := func(l Layout) *goquery.Document {
		var buf bytes.Buffer
		if err := ErrorView(ErrorPage{L: l, Heading: "h", Message: "m"}).Render(context.Background(), &buf); err != nil {
			t.Fatal(err)
		}
		d, err := goquery.NewDocumentFromReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}

	d := render(s.Layout("Plain"))
	if d.Find("[data-live-src], [data-live-status], script[src*='live.js']").Length() != 0 {
		t.Fatal("a page without LiveSrc loads live updates")
	}

	l := s.Layout("Live")
	l.SessionToken = "tok+/="
	l.LiveSrc = l.URL("/a/link-1/events?lastEventId=42")
	d = render(l)
	src, _ := d.Find("body").Attr("data-live-src")
	if src != "/a/link-1/events?lastEventId=42&rt=tok%2B%2F%3D" {
		t.Fatalf("data-live-src %q", src)
	}
	region := d.Find("[data-live-status]")
	if region.Length() != 1 || region.AttrOr("aria-live", "") != "polite" {
		t.Fatal("no polite live region")
	}
	if js := d.Find("script[src]").FilterFunction(func(_ int, s *goquery.Selection) bool {
		return strings.HasPrefix(s.AttrOr("src", ""), "/static/js/live.js?v=")
	}); js.Length() != 1 {
		t.Fatal("live.js is not loaded")
	}
}
