package demo_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/roundtable-lms/roundtable/internal/browsertest"
	"github.com/roundtable-lms/roundtable/internal/demo"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// A learner pastes a picture into a reply, previews it, posts it and
// copies the reply's link; a classmate opening that link in their own
// browser sees the reply and its picture, and a learner of another course
// sees only which activity and course it belongs to. All of it inside the
// demo LMS's frame, over real launches.
func TestPastedPictureReplySharedByLink(t *testing.T) {
	t.Parallel()
	d := startDemo(t)

	aisha := openOn(t, d, laptop, "aisha.rahman")
	if n := aisha.threadsOnFirstScreen(); n < 10 {
		t.Errorf("the learner sees %d threads on the first screen", n)
	}
	aisha.click("open a question", `Array.prototype.filter.call(document.querySelectorAll("[data-testid=thread-link]"), function (a) { return a.textContent.indexOf("salary data") >= 0; })[0]`)
	aisha.try("the reply box is ready", `document.querySelector("#reply-body[data-composer-ready]")`)

	// A chart drawn in the page, pasted as an image file.
	aisha.value(`(function () {
		var c = document.createElement("canvas"); c.width = 160; c.height = 90;
		var g = c.getContext("2d");
		g.fillStyle = "#fff"; g.fillRect(0, 0, 160, 90);
		g.fillStyle = "#1f5fbf"; [20, 45, 70, 35, 80].forEach(function (h, i) { g.fillRect(10 + i * 30, 85 - h, 20, h); });
		var bin = atob(c.toDataURL("image/png").split(",")[1]), bytes = new Uint8Array(bin.length);
		for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
		var dt = new DataTransfer();
		dt.items.add(new File([bytes], "salaries.png", { type: "image/png" }));
		var area = document.getElementById("reply-body");
		area.focus();
		area.value = "Here is the histogram on a log scale:\n\n";
		area.setSelectionRange(area.value.length, area.value.length);
		area.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
		return "";
	})()`)
	aisha.try("the picture is uploaded and its Markdown written", `document.getElementById("reply-body").value.indexOf("](/files/") > 0`)

	aisha.click("the Preview tab", `document.querySelector("[data-composer-tab=preview]")`)
	aisha.try("the preview shows the picture", `(function () {
		var img = document.querySelector("[data-testid=preview-body] img");
		return img && img.complete && img.naturalWidth === 160; })()`)

	aisha.click("post the reply", `document.querySelector("[data-testid=reply-submit]")`)
	aisha.try("the reply shows its picture", `(function () {
		var p = `+postWith("Here is the histogram")+`;
		var img = p && p.querySelector("[data-testid=post-body] img");
		return img && img.complete && img.naturalWidth === 160; })()`)
	// The system clipboard of a headless browser is out of reach: the page's
	// writes to it are kept where the test reads them. A live update may
	// put a fresh copy of the post in place under the click: then it is
	// clicked again.
	aisha.try("copy the reply's link, and the page says so", `(function () {
		if (document.getElementById("copy-status").textContent === "Copied link") return true;
		if (window.copyClickedAt && Date.now() - window.copyClickedAt < 1000) return false;
		navigator.clipboard.writeText = function (text) { window.copiedText = text; return Promise.resolve(); };
		var b = `+postWith("Here is the histogram")+`.querySelector("[data-testid=copy-link]:not([hidden])");
		if (!b) return false;
		window.copyClickedAt = Date.now();
		b.click();
		return false; })()`)
	link := aisha.value(`window.copiedText || ""`)
	if !strings.Contains(link, "#post-") || strings.Contains(link, "rt=") {
		t.Fatalf("the link to share carries a session token: %s", link)
	}

	// A classmate, in a browser of their own, opens the link in the
	// course's frame.
	kenji := openOn(t, d, laptop, "kenji.watanabe")
	kenji.openLink(link)
	kenji.try("the classmate sees the reply and its picture", `(function () {
		var p = `+postWith("Here is the histogram")+`;
		var img = p && p.querySelector("img");
		return img && img.complete && img.naturalWidth === 160; })()`)

	// A learner of another course, signed in to Roundtable there, opens it.
	if err := anotherCourse(d); err != nil {
		t.Fatal(err)
	}
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(laptop.width, laptop.height)); err != nil {
		t.Fatal(err)
	}
	zoe := &window{t: t, ctx: ctx, name: "zoe.adams"}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(d.Platform.URL("/courses/stat-201")),
		chromedp.Click(chromedp.CSS(`#link-stat-201-discussion ~ .opens a.open-as[data-user="zoe.adams"]`)),
		chromedp.WaitVisible(chromedp.CSS(`iframe#activity`)),
	); err != nil {
		t.Fatal(err)
	}
	zoe.try("her own course's discussion opens", `document.querySelector("[data-testid=user-name]")`)
	zoe.openLink(link)
	zoe.try("she is told where the post lives", `document.body.textContent.indexOf("Open that activity from your course") >= 0`)
	page := zoe.value(`document.body.textContent`)
	for _, want := range []string{"Cohort discussion: cleaning messy data", "Data Analysis Fundamentals"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page for another course's learner does not name %q: %.600s", want, page)
		}
	}
	for _, secret := range []string{"histogram", "salary", "Aisha"} {
		if strings.Contains(page, secret) {
			t.Errorf("the page for another course's learner shows %q", secret)
		}
	}
	if n := zoe.value(`String(document.querySelectorAll("img").length)`); n != "0" {
		t.Errorf("the page for another course's learner shows %s images", n)
	}
}

// openLink opens a link inside the window's activity frame, as following
// it there would; what the frame then shows is for the caller to wait for.
func (w *window) openLink(link string) {
	w.t.Helper()
	if _, err := chromedp.Run(w.ctx, chromedp.Evaluate[any](`document.querySelector("iframe#activity").src = `+jsString(link)+`; 1`)); err != nil {
		w.t.Fatal(err)
	}
}

// anotherCourse adds a second course to the demo LMS, with a learner of
// its own and Roundtable's discussion placed in it.
func anotherCourse(d *demo.Demo) error {
	p := d.Platform
	if err := p.AddCourse(ltiplatform.Course{ID: "stat-201", Label: "STAT-201", Title: "Statistics in Practice"}); err != nil {
		return err
	}
	if err := p.AddUser(ltiplatform.User{ID: "zoe.adams", Name: "Zoe Adams", GivenName: "Zoe", FamilyName: "Adams", Email: "zoe.adams@learn.example.org", Locale: "en"}); err != nil {
		return err
	}
	if err := p.Enroll("stat-201", "zoe.adams", lti.RoleLearner); err != nil {
		return err
	}
	return p.AddResourceLink(ltiplatform.ResourceLink{ID: "stat-201-discussion", CourseID: "stat-201", Title: "Questions on week 1", ClientID: d.ClientID})
}
