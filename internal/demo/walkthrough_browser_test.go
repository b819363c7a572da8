package demo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/roundtable-lms/roundtable/internal/browsertest"
	"github.com/roundtable-lms/roundtable/internal/config"
	"github.com/roundtable-lms/roundtable/internal/demo"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// stepWait bounds every wait of the walkthrough: a hang's bound only, wide
// enough for a page load on two loaded cores under the race detector.
const stepWait = 30 * time.Second

// window is one person in a browser window of their own (their own
// cookie jar), on the demo LMS's page of the discussion, with the activity
// in its frame.
type window struct {
	t    *testing.T
	ctx  context.Context
	name string
}

// frameJS runs js, an expression over the activity frame's document and
// window, in that frame, and returns its value. The frame is another site:
// the expression runs in the frame's own context, as the frame's scripts do.
func frameJS[T any](ctx context.Context, js string) (T, error) {
	var zero T
	frames, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(`iframe#activity`), chromedp.AtLeast(0)))
	if err != nil || len(frames) == 0 {
		return zero, fmt.Errorf("no activity frame (%v)", err)
	}
	roots, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(`html`), chromedp.FromNode(frames[0]), chromedp.AtLeast(0)))
	if err != nil || len(roots) == 0 {
		return zero, fmt.Errorf("the frame has no document yet (%v)", err)
	}
	obj, err := chromedp.Call(ctx, dom.ResolveNode, dom.ResolveNodeParams{NodeID: roots[0].NodeID})
	if err != nil {
		return zero, err
	}
	defer chromedp.Call(ctx, runtime.ReleaseObject, runtime.ReleaseObjectParams{ObjectID: obj.Object.ObjectID})
	return chromedp.Run(ctx, chromedp.CallFunctionOn[T](
		`function () { var document = this.ownerDocument, window = document.defaultView; return (`+js+`); }`,
		func(p *runtime.CallFunctionOnParams) { p.ObjectID = obj.Object.ObjectID }))
}

// try runs js in the frame until it returns true, for at most stepWait:
// the frame may be between two pages.
func (w *window) try(what, js string) {
	w.t.Helper()
	deadline := time.Now().Add(stepWait)
	var err error
	var ok bool
	for time.Now().Before(deadline) {
		tctx, cancel := context.WithTimeout(w.ctx, 2*time.Second)
		ok, err = frameJS[bool](tctx, `(function () { try { return !!(`+js+`); } catch (e) { return false; } })()`)
		cancel()
		if err == nil && ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	region, _ := frameJS[string](w.ctx, `(document.querySelector("[data-live-status]") || {}).textContent || ""`)
	at, _ := frameJS[string](w.ctx, `window.location.pathname`)
	w.t.Fatalf("%s: %s within %v (%v; at %s; live region %q)", w.name, what, stepWait, err, at, region)
}

// value reads an expression in the frame.
func (w *window) value(js string) string {
	w.t.Helper()
	tctx, cancel := context.WithTimeout(w.ctx, stepWait)
	defer cancel()
	v, err := frameJS[string](tctx, js)
	if err != nil {
		w.t.Fatalf("%s: %s: %v", w.name, js, err)
	}
	return v
}

// click clicks the element the expression finds, once it is there.
func (w *window) click(what, el string) {
	w.t.Helper()
	w.try(what, `(function () { var el = `+el+`; if (!el) return false; el.click(); return true; })()`)
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// postWith is a JavaScript expression: the post on the page whose text
// contains s.
func postWith(s string) string {
	return `Array.prototype.filter.call(document.querySelectorAll("[data-testid=post]"), function (p) { return p.textContent.indexOf(` + jsString(s) + `) >= 0; })[0]`
}

// openAs opens the demo course in the window and the discussion as user,
// through a real LTI launch from the demo LMS.
func openAs(t *testing.T, ctx context.Context, d *demo.Demo, user string) *window {
	t.Helper()
	w := &window{t: t, ctx: ctx, name: user}
	tctx, cancel := context.WithTimeout(ctx, stepWait)
	defer cancel()
	if err := chromedp.Do(tctx,
		chromedp.Navigate(d.LMSURL),
		chromedp.Click(chromedp.CSS(`#link-`+demo.DiscussionID+` ~ .opens a.open-as[data-user="`+user+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`iframe#activity`)),
	); err != nil {
		t.Fatalf("%s: open the discussion from the LMS: %v", user, err)
	}
	w.try("the discussion opens in the LMS frame", `document.querySelector("[data-testid=user-name]") !== null`)
	return w
}

var unreadCount = regexp.MustCompile(`\((\d+)\)`)

// The walkthrough in Chromium against the demo (its LMS and
// Roundtable over real HTTP, real LTI launches), in a frame that keeps no
// cookies, so every request rides on the session token: two learners in
// two windows, then the instructor. A question appears in the other
// learner's open list, and its answer in the asker's open thread, without
// a reload; the asker accepts it and sees the notification; a flagged post
// is hidden from the moderation queue; participation counts both learners.
func TestWalkthroughTwoLearnersAndTheInstructor(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			dbURL := ""
			if kind == store.Postgres {
				// Live events then go through LISTEN/NOTIFY.
				dbURL = storetest.MigratedPostgresURL(t)
			}
			walkthrough(t, dbURL)
		})
	}
}

func walkthrough(t *testing.T, dbURL string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	// Chromium maps tool.test to loopback but does not treat it as a
	// secure context, so it refuses the tool's Secure cookies.
	base, _ := url.Parse("http://tool.test:" + port)
	cfg := config.Config{Listen: addr, BaseURL: base, DatabaseURL: dbURL, DataDir: dataDir(t),
		Secret: []byte("browser test secret, long enough for keys"), SecretSource: "env", LogFormat: "text"}
	d, err := demo.Start(context.Background(), cfg, "127.0.0.1:0", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Shutdown() })

	// Each person in a browser context of their own: separate cookie jars,
	// open for the whole walk (longer than a tab's minute on a busy
	// machine; each step keeps its own bound, stepWait).
	newWindow := func() context.Context {
		return browsertest.NewWithin(t, walkTimeout, browsertest.HostResolverRules("MAP tool.test 127.0.0.1"))
	}

	// Learner A (Mateus) and learner B (Tomás) open the discussion.
	a := openAs(t, newWindow(), d, "mateus.silva")
	b := openAs(t, newWindow(), d, "tomas.garcia")
	unreadBefore := 0
	if m := unreadCount.FindStringSubmatch(a.value(`document.querySelector("[data-testid=notifications-link]").textContent`)); m != nil {
		fmt.Sscan(m[1], &unreadBefore)
	}
	b.try("B's list is in its default order", `!/[?&]sort=/.test(window.location.search) && document.querySelector("[data-testid=threads]") !== null`)
	b.value(`(window.walkthrough = "B's list", "")`)

	// A asks a question.
	title := "Should I drop duplicate rows before or after merging?"
	a.click("open the question form", `document.querySelector("[data-testid=ask]")`)
	a.try("fill in the question", `(function () {
		var t = document.getElementById("title"), body = document.getElementById("body");
		if (!t || !body) return false;
		t.value = `+jsString(title)+`;
		body.value = "My merged table has twice the rows I expected. Where do the duplicates come from?";
		return true; })()`)
	a.click("post the question", `document.querySelector("[data-testid=submit]")`)
	a.try("the question's page opens", `document.querySelector("[data-testid=thread-title]") && document.querySelector("[data-testid=thread-title]").textContent === `+jsString(title))
	a.value(`(window.walkthrough = "A's question", "")`)

	// It appears first (after the pinned threads) in B's open list, with
	// no reload, and the live region says so.
	b.try("the question appears in B's list", `(function () {
		var rows = document.querySelectorAll("[data-testid=threads] > li");
		for (var i = 0; i < rows.length; i++) {
			if (rows[i].querySelector("[data-testid=pinned]")) continue;
			var l = rows[i].querySelector("[data-testid=thread-link]");
			return l && l.textContent === `+jsString(title)+`;
		}
		return false; })()`)
	if got := b.value(`window.walkthrough || "reloaded"`); got != "B's list" {
		t.Fatalf("B's list was reloaded to show the question (%q)", got)
	}
	if got := b.value(`document.querySelector("[data-live-status]").textContent`); got != "New question: "+title {
		t.Errorf("B's live region says %q", got)
	}
	if n := b.value(`String(Array.prototype.filter.call(document.querySelectorAll("[data-testid=thread-link]"), function (l) { return l.textContent === ` + jsString(title) + `; }).length)`); n != "1" {
		t.Errorf("B's list shows the question %s times", n)
	}

	// B opens it and answers.
	b.click("open the question", `Array.prototype.filter.call(document.querySelectorAll("[data-testid=thread-link]"), function (l) { return l.textContent === `+jsString(title)+`; })[0]`)
	b.try("the question opens for B", `document.querySelector("[data-testid=thread-title]") && document.querySelector("[data-testid=thread-title]").textContent === `+jsString(title))
	answer := "Drop them before: duplicate keys on both sides multiply. Check with df.duplicated(subset=key).sum() first."
	b.try("type the answer", `(function () { var r = document.getElementById("reply-body"); if (!r) return false; r.value = `+jsString(answer)+`; return true; })()`)
	b.click("post the answer", `document.querySelector("[data-testid=reply-submit]")`)
	// The page the redirect opens (it ends in #post-<id>), not the one
	// left behind, where the live update may show the answer first.
	b.try("B's answer is on B's page after posting", `location.hash.indexOf("#post-") === 0 && document.readyState === "complete" && document.getElementById("replies-heading").textContent.indexOf("1 reply") === 0 && `+postWith(answer)+` !== undefined`)
	b.value(`(window.walkthrough = "B's thread", "")`)

	// A, with the question open, sees the answer appear in place.
	a.try("the answer appears on A's open question", postWith(answer)+` !== undefined && document.getElementById("replies-heading").textContent === "1 reply"`)
	if got := a.value(`window.walkthrough || "reloaded"`); got != "A's question" {
		t.Fatalf("A's page was reloaded to show the answer (%q)", got)
	}
	if got := a.value(`document.querySelector("[data-live-status]").textContent`); got != "New reply" {
		t.Errorf("A's live region says %q", got)
	}
	if got := a.value(`(` + postWith(answer) + `).querySelector("[data-testid=author]").textContent`); got != "Tomás García" {
		t.Errorf("the answer's author shows as %q", got)
	}

	// A accepts it (a form: the page reloads) and sees the notification
	// of the answer in the header.
	a.click("accept the answer", `(`+postWith(answer)+`).querySelector("[data-testid=accept]")`)
	a.try("the answer is accepted", `(function () { var p = `+postWith(answer)+`; return p && p.querySelector("[data-testid=accepted]") && document.querySelector(".thread-flags [data-testid=answered]"); })()`)
	a.try("A's notification count shows the answer", `document.querySelector("[data-testid=notifications-link]").textContent.indexOf("(`+fmt.Sprint(unreadBefore+1)+`)") >= 0`)

	// B sees the acceptance live on the open question.
	b.try("B sees the answer accepted", `(function () { var p = `+postWith(answer)+`; return p && p.querySelector("[data-testid=accepted]") && document.querySelector(".thread-flags [data-testid=answered]"); })()`)
	if got := b.value(`window.walkthrough || "reloaded"`); got != "B's thread" {
		t.Fatalf("B's page was reloaded to show the acceptance (%q)", got)
	}

	// B flags a post in another thread.
	flagged := "Absolute zero in a bakery oven."
	b.click("back to the list", `document.querySelector("main p a")`)
	b.click("open the messiest dataset thread", `Array.prototype.filter.call(document.querySelectorAll("[data-testid=thread-link]"), function (l) { return l.textContent === "The messiest dataset I ever cleaned"; })[0]`)
	b.click("open the flag form", `(function () { var p = `+postWith(flagged)+`; return p && p.querySelector("[data-testid=flag]"); })()`)
	b.try("choose a reason", `(function () { var r = document.querySelector("form.flag-form input[name=reason][value=spam]"); if (!r) return false; r.checked = true; return true; })()`)
	b.click("send the flag", `document.querySelector("[data-testid=flag-submit]")`)
	b.try("the flag is taken", `document.querySelector("[data-testid=flag-done]") !== null`)

	// The instructor hides it from the moderation queue.
	ines := openAs(t, newWindow(), d, "maya.chen")
	ines.click("open the moderation queue", `document.querySelector("[data-testid=moderation-badge]")`)
	ines.try("the flagged post waits", `(function () { var f = document.querySelectorAll("[data-testid=flagged]"); return f.length === 1 && f[0].textContent.indexOf(`+jsString(flagged)+`) >= 0; })()`)
	ines.try("give a reason", `(function () { var r = document.querySelector("[data-testid=flagged] input[name=reason]"); if (!r) return false; r.value = "Not spam, but off topic"; return true; })()`)
	ines.click("hide the post", `document.querySelector("[data-testid=flagged] [data-testid=hide]")`)
	ines.try("the queue is empty", `document.querySelector("[data-testid=queue-empty]") !== null`)
	var hidden bool
	if err := d.App.DB.Raw(`SELECT hidden FROM posts WHERE body LIKE ?`, "%"+flagged).Scan(&hidden).Error; err != nil || !hidden {
		t.Errorf("the flagged post is not hidden (%v)", err)
	}

	// Participation counts both learners: the seeded discussion gave
	// Mateus one thread and Tomás two replies.
	ines.click("open participation", `document.querySelector("[data-testid=participation-link]")`)
	ines.try("the participation table", `document.querySelector("[data-testid=participation]") !== null`)
	row := func(name string) string {
		return ines.value(`(function () {
			var rows = document.querySelectorAll("[data-testid=learner]");
			for (var i = 0; i < rows.length; i++) {
				if (rows[i].querySelector("[data-testid=name]").textContent !== ` + jsString(name) + `) continue;
				return ["threads", "replies", "accepted"].map(function (c) { return c + " " + rows[i].querySelector("[data-testid=" + c + "]").textContent; }).join(", ");
			}
			return "missing"; })()`)
	}
	if got := row("Mateus Silva"); got != "threads 3, replies 0, accepted 0" {
		t.Errorf("Mateus: %s", got)
	}
	if got := row("Tomás García"); got != "threads 1, replies 3, accepted 1" {
		t.Errorf("Tomás: %s", got)
	}
}
