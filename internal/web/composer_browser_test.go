package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/browsertest"
	"github.com/roundtable-lms/roundtable/internal/store"
)

// poll waits until js is true in the page.
func poll(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(function () { return (`+js+`) || null; })()`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// composer.js in Chromium: Reply opens the form under the post without
// leaving the page, the Preview tab shows the text rendered, the toolbar
// formats the selection, @al completes to a classmate from the listbox,
// the draft comes back after leaving the page, and posting clears it.
func TestComposerInBrowser(t *testing.T) {
	env := apptest.Start(t, store.SQLite)
	alice := join(t, env, apptest.Learner)
	alice.ask("question", "Where are the spare gloves?", "I looked in the cupboard.", map[string]string{"tags": "safety gloves"})
	threadPath := pathOf(t, alice.res.URL)
	alice.reply("Maybe the store room.")
	alice.get(alice.abs(threadPath))
	replyID := strings.TrimPrefix(postSel(alice.page, "Maybe the store room.").AttrOr("id", ""), "post-")
	bob := join(t, env, apptest.Learner2)

	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(openAs(bob, threadPath)), chromedp.WaitReady(chromedp.CSS("#reply-body"))); err != nil {
		t.Fatal(err)
	}
	// Reply: the form moves under the post, in place.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#post-"+replyID+" [data-testid=reply]"))); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, "the reply form is not under the post", `document.querySelector("#post-`+replyID+`").nextElementSibling.contains(document.getElementById("reply"))`)
	if got := evalJS[string](t, ctx, `document.querySelector("#reply [name=parent_id]").value`); got != replyID {
		t.Errorf("the reply answers %q, want %q", got, replyID)
	}
	if got := evalJS[string](t, ctx, `location.pathname + location.search`); !strings.Contains(got, "reply="+replyID) {
		t.Errorf("the address says %q", got)
	}

	// Preview tab.
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#reply-body"), "Hello **there**"),
		chromedp.Click(chromedp.CSS("#reply [data-composer-tab=preview]"))); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, "the preview does not show the text rendered", `(document.querySelector("#reply-body-preview .post-body strong") || {}).textContent === "there"`)
	if evalJS[bool](t, ctx, `!document.getElementById("reply-body").offsetParent`) != true {
		t.Error("the text box shows on the Preview tab")
	}
	if evalJS[bool](t, ctx, `!!document.querySelector("#reply [data-composer-preview-button]").offsetParent`) {
		t.Error("the form's Preview button shows beside the tabs")
	}

	// Toolbar: Bold wraps the selection.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#reply [data-composer-tab=write]"))); err != nil {
		t.Fatal(err)
	}
	evalJS[bool](t, ctx, `(function () { var ta = document.getElementById("reply-body"); ta.value = "make this bold"; ta.focus(); ta.setSelectionRange(10, 14); return true; })()`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#reply [data-format=bold]"))); err != nil {
		t.Fatal(err)
	}
	if got := evalJS[string](t, ctx, `document.getElementById("reply-body").value`); got != "make this **bold**" {
		t.Errorf("Bold made %q", got)
	}
	// Ctrl+I on a selection.
	evalJS[bool](t, ctx, `(function () { var ta = document.getElementById("reply-body"); ta.focus(); ta.setSelectionRange(5, 9); return true; })()`)
	if err := chromedp.Do(ctx, chromedp.KeyEvent("i", chromedp.KeyModifiers(2))); err != nil {
		t.Fatal(err)
	}
	if got := evalJS[string](t, ctx, `document.getElementById("reply-body").value`); got != "make _this_ **bold**" {
		t.Errorf("Ctrl+I made %q", got)
	}

	// @al completes to Alice from the listbox.
	evalJS[bool](t, ctx, `(function () { var ta = document.getElementById("reply-body"); ta.value = "Thanks "; ta.focus(); ta.setSelectionRange(7, 7); return true; })()`)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#reply-body"), "@al")); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, "no listbox of names", `document.getElementById("reply-body").getAttribute("aria-expanded") === "true" && document.querySelectorAll("[role=listbox] [role=option]").length > 0`)
	if got := evalJS[string](t, ctx, `document.querySelector("[role=listbox] [role=option][aria-selected=true]").textContent`); !strings.Contains(got, "Alice Mbeki") {
		t.Errorf("the option picked first is %q", got)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#reply-body"), kb.Enter)); err != nil {
		t.Fatal(err)
	}
	if got := evalJS[string](t, ctx, `document.getElementById("reply-body").value`); got != "Thanks @alice.mbeki " {
		t.Errorf("after picking: %q", got)
	}
	if got := evalJS[string](t, ctx, `document.getElementById("reply-body").getAttribute("aria-expanded")`); got != "false" {
		t.Errorf("the listbox stays open: %s", got)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#reply-body"), "it was there")); err != nil {
		t.Fatal(err)
	}
	draft := "Thanks @alice.mbeki it was there"
	key := evalJS[string](t, ctx, `document.getElementById("reply-body").getAttribute("data-draft-key")`)
	poll(t, ctx, "the draft is not kept", `(localStorage.getItem(`+strconv.Quote(key)+`) || "").indexOf("it was there") >= 0`)

	// Away and back: the draft is restored.
	if err := chromedp.Do(ctx, chromedp.Navigate(openAs(bob, threadPath[:strings.Index(threadPath, "/t/")]))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(openAs(bob, threadPath, "reply", replyID)), chromedp.WaitReady(chromedp.CSS("#reply-body"))); err != nil {
		t.Fatal(err)
	}
	if got := evalJS[string](t, ctx, `document.getElementById("reply-body").value`); got != draft {
		t.Errorf("the draft restored is %q", got)
	}
	if evalJS[int](t, ctx, `document.querySelectorAll("[data-testid=draft-restored]").length`) != 1 {
		t.Error("nothing says the draft was restored")
	}

	// Posting clears it.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("[data-testid=reply-submit]"))); err != nil {
		t.Fatal(err)
	}
	// The page being left fails a poll: wait for the next one's.
	for i := 0; i < 100 && strings.Contains(evalURL(ctx), "reply="); i++ {
		time.Sleep(100 * time.Millisecond)
	}
	if err := chromedp.Do(ctx, chromedp.WaitReady(chromedp.CSS("[data-reply-home]"))); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, "the reply was not posted", `Array.prototype.some.call(document.querySelectorAll("[data-testid=post-body]"), function (b) { return b.textContent.indexOf("it was there") >= 0; })`)
	if got := evalJS[bool](t, ctx, `localStorage.getItem(`+strconv.Quote(key)+`) === null`); !got {
		t.Error("the draft outlived its post")
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(openAs(bob, threadPath, "reply", replyID)), chromedp.WaitReady(chromedp.CSS("#reply-body"))); err != nil {
		t.Fatal(err)
	}
	if got := evalJS[string](t, ctx, `document.getElementById("reply-body").value`); got != "" {
		t.Errorf("after posting the box holds %q", got)
	}

	// Quote what is selected of a post: the reply opens under it, quoting it.
	evalJS[bool](t, ctx, `(function () {
		var body = document.querySelector("#post-`+replyID+` [data-testid=post-body] p");
		var r = document.createRange(); r.selectNodeContents(body);
		var sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(r);
		return true; })()`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#post-"+replyID+" [data-testid=quote]"))); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, "the quote is not in the reply box", `document.getElementById("reply-body").value.indexOf("> **Alice Mbeki** wrote:\n>\n> Maybe the store room.") === 0`)
	if !evalJS[bool](t, ctx, `document.querySelector("#post-`+replyID+`").nextElementSibling.contains(document.getElementById("reply"))`) {
		t.Error("the quoting reply is not under the post")
	}

	// #sa on the new-question form's tags completes to a tag of the cohort.
	if err := chromedp.Do(ctx, chromedp.Navigate(openAs(bob, threadPath[:strings.Index(threadPath, "/t/")]+"/new")),
		chromedp.WaitReady(chromedp.CSS("#tags")), chromedp.SendKeys(chromedp.CSS("#tags"), "saf")); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, "no listbox of tags", `document.getElementById("tags").getAttribute("aria-expanded") === "true"`)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#tags"), kb.Tab)); err != nil {
		t.Fatal(err)
	}
	if got := evalJS[string](t, ctx, `document.getElementById("tags").value`); got != "safety " {
		t.Errorf("the tags field holds %q", got)
	}
	// Escape closes the list and leaves what was typed.
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#tags"), "gl")); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, "no listbox of tags for gl", `document.getElementById("tags").getAttribute("aria-expanded") === "true"`)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#tags"), kb.Escape)); err != nil {
		t.Fatal(err)
	}
	if got := evalJS[string](t, ctx, `document.getElementById("tags").getAttribute("aria-expanded") + " " + document.getElementById("tags").value`); got != "false safety gl" {
		t.Errorf("after Escape: %q", got)
	}

	// An edit's draft comes back over the post's text.
	bob.get(bob.abs(threadPath))
	editPath := pathOf(t, bob.abs(postSel(bob.page, "it was there").Find("[data-testid=edit]").AttrOr("href", "")))
	if err := chromedp.Do(ctx, chromedp.Navigate(openAs(bob, editPath)), chromedp.WaitReady(chromedp.CSS("#body")),
		chromedp.SendKeys(chromedp.CSS("#body"), " (edited)")); err != nil {
		t.Fatal(err)
	}
	editKey := evalJS[string](t, ctx, `document.getElementById("body").getAttribute("data-draft-key")`)
	poll(t, ctx, "the edit's draft is not kept", `(localStorage.getItem(`+strconv.Quote(editKey)+`) || "").indexOf("(edited)") >= 0`)
	if err := chromedp.Do(ctx, chromedp.Navigate(openAs(bob, threadPath)), chromedp.Navigate(openAs(bob, editPath)), chromedp.WaitReady(chromedp.CSS("#body"))); err != nil {
		t.Fatal(err)
	}
	if got := evalJS[string](t, ctx, `document.getElementById("body").value`); !strings.Contains(got, "(edited)") || !strings.Contains(got, "it was there") {
		t.Errorf("the edit form opened again holds %q", got)
	}
}

// evalURL is the page's address, or "" while it changes.
func evalURL(ctx context.Context) string {
	u, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href`))
	return u
}
