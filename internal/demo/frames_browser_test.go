package demo_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/roundtable-lms/roundtable/internal/browsertest"
	"github.com/roundtable-lms/roundtable/internal/demo"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// Issue 11: a teacher opened Roundtable from an LMS whose registration an
// admin had not approved yet and got the browser's "refused to connect"
// in the frame. The page that says the LMS waits for approval is shown
// inside the LMS's frame, on the LMS's origin (127.0.0.1) while Roundtable
// is on localhost, though no active registration names that origin.
func TestPendingPlatformsRefusalShowsInTheLMSFrame(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	ctx := browsertest.New(t)
	bg := context.Background()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(d.RegisterURL),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#register-status`)),
		chromedp.WaitNotPresent(chromedp.CSS(`iframe#register-frame`)),
	); err != nil {
		t.Fatal(err)
	}
	ps, err := d.App.Registry.List(bg)
	if err != nil {
		t.Fatal(err)
	}
	var pending tenant.Platform
	for _, p := range ps {
		if p.ClientID == d.ClientID {
			// The only other registration of this LMS is off: nothing
			// active lets its origin frame Roundtable.
			if err := d.App.Registry.SetStatus(bg, p.ID, tenant.StatusDisabled); err != nil {
				t.Fatal(err)
			}
		} else {
			pending = p
		}
	}
	if pending.Status != tenant.StatusPending {
		t.Fatalf("the new registration is %q, want pending", pending.Status)
	}
	link := ltiplatform.PlacementID(pending.ClientID, demo.CourseID)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(d.LMSURL),
		chromedp.Click(chromedp.CSS(`article[data-link="`+link+`"] a.open-as`)),
		chromedp.WaitVisible(chromedp.CSS(`iframe#activity`)),
	); err != nil {
		t.Fatal(err)
	}
	msg, err := browsertest.FrameText(ctx, "iframe#activity", ".error-page")
	if err != nil {
		t.Fatalf("no Roundtable page in the LMS frame (refused?): %v", err)
	}
	if !strings.Contains(msg, "waiting for the Roundtable administrator to approve") {
		t.Errorf("the frame shows %q, want the waiting-for-approval page", msg)
	}
}

// A page opened with its link token in the address, outside the LMS (a new
// window), takes the token out of the address bar; a reload, which then
// asks without a token, finds the session again from the history entry.
func TestLinkTokenLeavesTheAddressBar(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	res := launch(t, d, d.ClientID, demo.DiscussionID)
	if !strings.Contains(res.URL, "rt=") {
		t.Fatalf("launch ended at %s", res.URL)
	}
	ctx := browsertest.New(t)
	cleaned := func(when string) string {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`!new URL(location.href).searchParams.has("rt")`)); err != nil {
			t.Fatalf("%s, the token stays in the address: %v", when, err)
		}
		href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href`))
		if err != nil {
			t.Fatal(err)
		}
		return href
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(res.URL),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=user-name]`)),
	); err != nil {
		t.Fatal(err)
	}
	href := cleaned("once the page opened")
	if u, _ := url.Parse(href); !strings.HasPrefix(u.Path, "/a/") {
		t.Fatalf("address after the page opened: %s", href)
	}
	// Links on the page still carry the session.
	links, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('a[href*="rt="]').length`))
	if err != nil || links == 0 {
		t.Fatalf("links with the token: %d %v", links, err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=user-name]`)),
	); err != nil {
		t.Fatalf("reload without the token in the address: %v", err)
	}
	cleaned("after the reload")
	name, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid=user-name]`)))
	if err != nil {
		t.Fatal(err)
	}
	if name != "Aisha Rahman" {
		t.Errorf("after a reload the page shows %q", name)
	}
}
