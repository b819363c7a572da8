package web_test

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/browsertest"
	"github.com/roundtable-lms/roundtable/internal/store"
)

// attach.js in Chromium against the real tool, in a session carried by
// its link token (as in an LMS frame without cookies): an image pasted
// into the reply's text is uploaded and its Markdown inserted; the reply
// sent shows the image, loaded.
func TestFilesPastedIntoAReplyInBrowser(t *testing.T) {
	env := apptest.Start(t, store.SQLite)
	alice := join(t, env, apptest.Learner)
	alice.ask("question", "Which way up is this chart?", "I cannot tell.", nil)
	threadPath := pathOf(t, alice.res.URL)

	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(openAs(alice, threadPath)), chromedp.WaitVisible(chromedp.CSS("#reply-body"))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#reply-body"), "This way:")); err != nil {
		t.Fatal(err)
	}
	png := base64.StdEncoding.EncodeToString(onePixelPNG)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(function () {
		var bin = atob(`+strconv.Quote(png)+`), bytes = new Uint8Array(bin.length);
		for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
		var dt = new DataTransfer();
		dt.items.add(new File([bytes], "chart.png", { type: "image/png" }));
		var area = document.getElementById("reply-body");
		area.focus();
		area.setSelectionRange(area.value.length, area.value.length);
		return area.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
	})()`)); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Poll[string](`(function () {
		var v = document.getElementById("reply-body").value;
		return v.indexOf("](/files/") >= 0 ? v : null; })()`, chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		status, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector("[data-testid=attach-status]") || {}).textContent || ""`))
		t.Fatalf("no Markdown inserted: %v (status %q)", err, status)
	}
	if !strings.HasPrefix(text, "This way:\n![chart.png](/files/") || strings.Contains(text, "Uploading") {
		t.Errorf("the text after the paste: %q", text)
	}
	if status, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("[data-testid=attach-status]").textContent`)); status != "Attached chart.png." {
		t.Errorf("the live region says %q", status)
	}
	// An SVG called .png is refused, said in the live region, and leaves
	// the text as it was.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(function () {
		var dt = new DataTransfer();
		dt.items.add(new File(['<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'], "trap.png", { type: "image/png" }));
		var area = document.getElementById("reply-body");
		return area.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
	})()`)); err != nil {
		t.Fatal(err)
	}
	refusal, err := chromedp.Run(ctx, chromedp.Poll[string](`(function () {
		var s = document.querySelector("[data-testid=attach-status]").textContent;
		return s.indexOf("not attached") >= 0 ? s : null; })()`, chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil || !strings.HasPrefix(refusal, "trap.png was not attached: ") || !strings.Contains(refusal, "whatever its name says") {
		t.Errorf("the refusal said %q (%v)", refusal, err)
	}
	if after, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("reply-body").value`)); strings.TrimSpace(after) != strings.TrimSpace(text) {
		t.Errorf("the refused file changed the text: %q", after)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("[data-testid=reply-submit]")), chromedp.WaitReady(chromedp.CSS("[data-testid=post-body] img"))); err != nil {
		t.Fatal(err)
	}
	width, err := chromedp.Run(ctx, chromedp.Poll[int](`(function () {
		var img = document.querySelector("[data-testid=post-body] img");
		return img && img.complete && img.naturalWidth > 0 ? img.naturalWidth : null; })()`, chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil || width != 1 {
		src, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector("[data-testid=post-body] img") || {}).src || "none"`))
		t.Fatalf("the image in the reply did not load: %v, width %d, src %s", err, width, src)
	}
}
