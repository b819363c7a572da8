package demo_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/chromedp/chromedp"

	"github.com/roundtable-lms/roundtable/internal/browsertest"
	"github.com/roundtable-lms/roundtable/internal/demo"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// rect is an element's place in its window's viewport.
type rect struct{ Top, Bottom, Left, Right float64 }

func (r rect) overlaps(o rect) bool {
	return r.Top < o.Bottom && o.Top < r.Bottom && r.Left < o.Right && o.Left < r.Right
}

// liveNotice is where the live notice stands inside the activity's frame,
// with what it must not cover.
type liveNotice struct {
	Text     string
	Notice   rect
	Viewport float64
	Covered  []rect
}

// askAs posts a new question in the demo discussion as user, through the
// pages a browser would use.
func askAs(t *testing.T, d *demo.Demo, user, title string) {
	t.Helper()
	ctx := context.Background()
	b := ltiplatform.NewBrowser()
	res, err := b.Launch(ctx, d.Platform, ltiplatform.LaunchRequest{ClientID: d.ClientID, UserID: user, CourseID: demo.CourseID, ResourceLinkID: demo.DiscussionID})
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("launch as %s: %v %+v", user, err, res)
	}
	list, _ := goquery.NewDocumentFromReader(strings.NewReader(res.Body))
	ask, _ := list.Find("[data-testid=ask]").Attr("href")
	at, _ := url.Parse(res.URL)
	formURL, _ := at.Parse(ask)
	page, err := b.Get(ctx, formURL.String())
	if err != nil || page.StatusCode != http.StatusOK {
		t.Fatalf("new question form: %v %+v", err, page)
	}
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(page.Body))
	form := doc.Find("form:has([name=title])")
	action, _ := form.Attr("action")
	fields := url.Values{}
	form.Find("input[type=hidden]").Each(func(_ int, in *goquery.Selection) {
		n, _ := in.Attr("name")
		v, _ := in.Attr("value")
		fields.Set(n, v)
	})
	fields.Set("kind", "question")
	fields.Set("title", title)
	fields.Set("body", "Posted while a classmate has the list open.")
	here, _ := url.Parse(page.URL)
	target, _ := here.Parse(action)
	posted, err := b.PostForm(ctx, target.String(), fields)
	if err != nil || posted.StatusCode != http.StatusOK {
		t.Fatalf("post the question: %v %+v", err, posted)
	}
}

// A question posted while a learner has the list open is announced where
// the learner sees it, in both kinds of LMS frame: one that keeps a fixed
// height and scrolls inside (Moodle ignores lti.frameResize), where the
// notice must not cover the search box or the threads, and one resized to
// the whole page (the demo LMS, Canvas), where it must be within the part
// of the page the browser shows.
func TestLiveNoticeIsVisibleInBothKindsOfFrame(t *testing.T) {
	t.Parallel()
	d := startDemo(t)

	for _, kind := range []string{"fixed", "resized"} {
		t.Run(kind, func(t *testing.T) {
			ctx := browsertest.New(t)
			page := d.Platform.URL(ltiplatform.LaunchPagePath(demo.CourseID, demo.DiscussionID, "aisha.rahman"))
			if kind == "fixed" {
				page += "&frame=fixed"
			}
			if err := chromedp.Do(ctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS(`iframe#activity`))); err != nil {
				t.Fatal(err)
			}
			if _, err := browsertest.FrameText(ctx, "iframe#activity", "[data-testid=threads]"); err != nil {
				t.Fatalf("the list in the frame: %v", err)
			}
			title := "Where do I find the week 2 dataset (" + kind + " frame)?"
			askAs(t, d, "kenji.watanabe", title)

			frames, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(`iframe#activity`)))
			if err != nil || len(frames) == 0 {
				t.Fatalf("the frame: %v", err)
			}
			got, err := chromedp.Run(ctx, chromedp.Poll[*liveNotice](`(function () {
				var s = document.querySelector("[data-live-status]");
				if (!s || s.textContent.indexOf("Where do I find") < 0) return null;
				function box(e) { var r = e.getBoundingClientRect(); return {Top: r.top, Bottom: r.bottom, Left: r.left, Right: r.right}; }
				var covered = [box(document.querySelector("[data-testid=search-form]"))];
				document.querySelectorAll("[data-testid=thread]").forEach(function (e) { covered.push(box(e)); });
				return {Text: s.textContent, Notice: box(s), Viewport: window.innerHeight, Covered: covered};
			})()`, chromedp.WithPollingInFrame(frames[0])))
			if err != nil {
				t.Fatalf("no live notice of the new question in the frame: %v", err)
			}
			for _, c := range got.Covered {
				if got.Notice.overlaps(c) {
					t.Errorf("the notice %+v covers the page's content at %+v", got.Notice, c)
				}
			}
			frame, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]float64](`(function () {
				var r = document.querySelector("iframe#activity").getBoundingClientRect();
				return {top: r.top, height: r.height, viewport: window.innerHeight};
			})()`))
			if err != nil {
				t.Fatal(err)
			}
			switch kind {
			case "fixed":
				if frame["height"] != 680 {
					t.Fatalf("the fixed frame is %v px tall", frame["height"])
				}
				if got.Notice.Top < 0 || got.Notice.Bottom > got.Viewport {
					t.Errorf("the notice %+v is outside the frame's %v px", got.Notice, got.Viewport)
				}
			case "resized":
				if frame["height"] <= frame["viewport"]-frame["top"] {
					t.Fatalf("the frame was not resized past the window: %v", frame)
				}
				if top, bottom := frame["top"]+got.Notice.Top, frame["top"]+got.Notice.Bottom; top < 0 || bottom > frame["viewport"] {
					t.Errorf("the notice is at %v–%v px of the page, the window shows 0–%v", top, bottom, frame["viewport"])
				}
			}
		})
	}
}
