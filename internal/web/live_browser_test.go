package web_test

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/roundtable-lms/roundtable/internal/browsertest"
	"github.com/roundtable-lms/roundtable/static"
)

// scriptedLive serves pages with live.js, an event stream the test feeds
// one event at a time, and fragments the test sets. Every request must
// carry the session token rt=tok, as in an LMS frame without cookies.
type scriptedLive struct {
	t      *testing.T
	srv    *httptest.Server
	events chan string
	loads  atomic.Int32
	mu     sync.Mutex
	// fragments by path: status, body and the parent header.
	fragments map[string]fragment
	fetched   []string
	noToken   []string
}

type fragment struct {
	status int
	body   string
	parent string
}

func newScriptedLive(t *testing.T, pages map[string]string) *scriptedLive {
	js, err := fs.ReadFile(static.FS, "js/live.js")
	if err != nil {
		t.Fatal(err)
	}
	s := &scriptedLive{t: t, events: make(chan string, 20), fragments: map[string]fragment{}}
	mux := http.NewServeMux()
	for path, main := range pages {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			s.loads.Add(1)
			fmt.Fprint(w, `<!DOCTYPE html><html lang="en"><head><title>t</title></head>`+
				`<body data-live-src="/a/link-1/events?lastEventId=0&amp;rt=tok"><main>`+main+`</main>`+
				`<div data-live-status aria-live="polite" class="live-status"></div>`+
				`<script src="/collect.js"></script><script src="/live.js"></script></body></html>`)
		})
	}
	mux.HandleFunc("/collect.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `window.got = []; window.marker = "kept"; document.addEventListener("roundtable:live", function (e) { window.got.push(e.detail); });`)
	})
	mux.HandleFunc("/live.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write(js)
	})
	mux.HandleFunc("/a/link-1/events", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("rt") != "tok" {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "retry: 3000\n\n")
		w.(http.Flusher).Flush()
		for {
			select {
			case <-r.Context().Done():
				return
			case e := <-s.events:
				fmt.Fprint(w, e)
				w.(http.Flusher).Flush()
			}
		}
	})
	mux.HandleFunc("/a/link-1/t/", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.fetched = append(s.fetched, r.URL.Path)
		if r.URL.Query().Get("rt") != "tok" {
			s.noToken = append(s.noToken, r.URL.Path)
		}
		f, ok := s.fragments[r.URL.Path]
		s.mu.Unlock()
		if r.URL.Query().Get("rt") != "tok" {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		if f.parent != "" {
			w.Header().Set("Roundtable-Post-Parent", f.parent)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if f.status != 0 {
			w.WriteHeader(f.status)
		}
		fmt.Fprint(w, f.body)
	})
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

func (s *scriptedLive) set(path string, f fragment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fragments[path] = f
}

var liveEventID atomic.Int64

// send streams one event of the activity link-1 (or another link).
func (s *scriptedLive) send(typ, link, thread, post string) {
	id := liveEventID.Add(1)
	s.events <- fmt.Sprintf("id: %d\nevent: %s\ndata: {\"id\":%d,\"type\":%q,\"data\":{\"link\":%q,\"thread\":%q,\"post\":%q},\"at\":\"2026-01-01T00:00:00Z\"}\n\n",
		id, typ, id, typ, link, thread, post)
}

func (s *scriptedLive) fetches() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.fetched...)
}

// waitJS polls a script until it returns true, for at most 10 seconds.
func waitJS(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(function () { return (`+js+`) || null; })()`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		status, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("[data-live-status]").textContent`))
		t.Fatalf("%s: %v (live region %q)", what, err, status)
	}
}

func evalJS[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// live.js in Chromium on a list in another order than the default:
// events are re-dispatched on document, the live region counts them with a
// Show link that reloads, and events of another activity are ignored.
func TestLiveScriptInBrowser(t *testing.T) {
	s := newScriptedLive(t, map[string]string{"/a/link-1": `<h1>Threads</h1>`})
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(s.srv.URL+"/a/link-1?sort=top")); err != nil {
		t.Fatal(err)
	}
	s.send("post.created", "link-1", "t1", "p1")
	s.send("post.created", "link-2", "t9", "p9")
	s.send("vote", "link-1", "t1", "p1")
	waitJS(t, ctx, "the live region never announced the events", `document.querySelector("[data-live-status]").textContent.indexOf("update") >= 0`)
	text := evalJS[string](t, ctx, `document.querySelector("[data-live-status]").textContent`)
	if !strings.HasPrefix(text, "1 new post and 1 update") || !strings.HasSuffix(text, "Show") {
		t.Fatalf("live region %q", text)
	}
	types := evalJS[[]string](t, ctx, `window.got.map(function (e) { return e.type + " " + e.data.link; })`)
	if len(types) != 2 || types[0] != "post.created link-1" || types[1] != "vote link-1" {
		t.Fatalf("roundtable:live events %v, want link-1's two", types)
	}
	if f := s.fetches(); len(f) != 0 {
		t.Errorf("a list in another order fetched %v", f)
	}
	before := s.loads.Load()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`[data-live-status] a`))); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.loads.Load() == before {
		if time.Now().After(deadline) {
			t.Fatal("Show did not reload the page")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// livePost is a post as postArticle renders it (enough of it for live.js).
func livePost(id, body string, votes int, accepted bool) string {
	class, badge := "post", ""
	if accepted {
		class, badge = "post accepted", `<span class="badge ok" data-testid="accepted">Accepted answer</span>`
	}
	return fmt.Sprintf(`<article class="%s" id="post-%s" data-testid="post"><header class="post-meta"><span class="author">Someone</span>%s</header>`+
		`<div class="post-body" data-testid="post-body">%s</div><div class="post-actions">`+
		`<form method="post" action="/a/link-1/t/t1/p/%s/vote" class="inline"><button type="submit" data-testid="vote">Upvote <span class="count" data-testid="votes">%d</span></button></form>`+
		`<a class="small-link" href="/a/link-1/t/t1?reply_to=%s#reply">Reply</a></div></article>`, class, id, badge, body, id, votes, id)
}

// On a thread page, live.js puts new replies in place (a top-level one at
// the end, a nested one under its parent), replaces updated posts, marks
// the accepted answer, never inserts a post twice, keeps the focus and the
// reply being typed, fetches with the session token, and says each change
// in the live region; a thread's own changes wait for a reload.
func TestLiveThreadPageInBrowser(t *testing.T) {
	s := newScriptedLive(t, map[string]string{"/a/link-1/t/t1": `<article class="thread"><h1>Gloves?</h1>` +
		`<p class="thread-flags"><span class="badge kind">Question</span> <span class="badge warn" data-testid="unanswered">Unanswered</span></p>` +
		livePost("p1", "Which gloves?", 0, false) + `</article>` +
		`<section><h2 id="replies-heading">1 reply</h2><div class="reply">` + livePost("p2", "Nitrile", 1, false) + `</div></section>` +
		`<section id="reply"><form method="post"><textarea id="reply-body" name="body"></textarea><button type="submit">Post reply</button></form></section>`})
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(s.srv.URL+"/a/link-1/t/t1?rt=tok")); err != nil {
		t.Fatal(err)
	}
	// Someone is typing a reply.
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#reply-body"), "I was about to say")); err != nil {
		t.Fatal(err)
	}

	s.set("/a/link-1/t/t1/p/p3/fragment", fragment{body: `<div class="reply">` + livePost("p3", "Latex tears", 0, false) + `</div>`})
	s.send("post.created", "link-1", "t1", "p3")
	waitJS(t, ctx, "the new reply was not inserted", `document.querySelector("section > .reply:last-of-type #post-p3") !== null`)
	if got := evalJS[string](t, ctx, `document.getElementById("replies-heading").textContent`); got != "2 replies" {
		t.Errorf("replies heading %q", got)
	}
	if got := evalJS[string](t, ctx, `document.querySelector("[data-live-status]").textContent`); got != "New reply" {
		t.Errorf("live region %q", got)
	}

	s.set("/a/link-1/t/t1/p/p4/fragment", fragment{body: livePost("p4", "Agreed", 0, false), parent: "p2"})
	s.send("post.created", "link-1", "t1", "p4")
	waitJS(t, ctx, "the nested reply is not under its parent", `document.querySelector(".reply > .children > #post-p4") !== null && document.getElementById("post-p2").parentNode.contains(document.getElementById("post-p4"))`)
	// The same post again (one's own after the redirect, say): not twice.
	s.send("post.created", "link-1", "t1", "p3")
	// Another thread's news, and another activity's: not this page's.
	s.send("post.created", "link-1", "t2", "p8")
	s.send("post.created", "link-2", "t1", "p9")

	// A vote on the post whose button has the focus.
	if err := chromedp.Do(ctx, chromedp.Focus(chromedp.CSS("#post-p2 [data-testid=vote]"))); err != nil {
		t.Fatal(err)
	}
	evalJS[bool](t, ctx, `window.focused = document.activeElement; true`)
	s.set("/a/link-1/t/t1/p/p2/fragment", fragment{body: `<div class="reply">` + livePost("p2", "Nitrile", 2, false) + `</div>`})
	s.send("vote", "link-1", "t1", "p2")
	waitJS(t, ctx, "the vote count did not change", `document.querySelector("#post-p2 [data-testid=votes]").textContent === "2"`)
	if !evalJS[bool](t, ctx, `document.activeElement === window.focused && window.focused.isConnected`) {
		t.Error("the vote moved the focus")
	}

	// Accepted: the post is marked, the question answered.
	s.set("/a/link-1/t/t1/p/p2/fragment", fragment{body: `<div class="reply">` + livePost("p2", "Nitrile", 2, true) + `</div>`})
	s.send("answer.accepted", "link-1", "t1", "p2")
	waitJS(t, ctx, "the accepted answer is not marked", `document.querySelector("#post-p2.accepted [data-testid=accepted]") !== null && document.querySelector(".thread-flags [data-testid=answered]") !== null`)
	if got := evalJS[string](t, ctx, `document.querySelector("[data-live-status]").textContent`); got != "Answer accepted" {
		t.Errorf("live region %q", got)
	}
	if !evalJS[bool](t, ctx, `document.activeElement === window.focused`) {
		t.Error("accepting moved the focus")
	}
	// Another answer accepted instead: the first is no longer.
	s.set("/a/link-1/t/t1/p/p2/fragment", fragment{body: `<div class="reply">` + livePost("p2", "Nitrile", 2, false) + `</div>`})
	s.set("/a/link-1/t/t1/p/p3/fragment", fragment{body: `<div class="reply">` + livePost("p3", "Latex tears", 0, true) + `</div>`})
	s.send("answer.accepted", "link-1", "t1", "p3")
	waitJS(t, ctx, "the accepted answer did not move", `document.querySelector("#post-p3.accepted") !== null && document.querySelector("#post-p2.accepted") === null`)

	// An edit replaces the post, which keeps the focus focus-target.js
	// gave it after a redirect to #post-p4.
	evalJS[bool](t, ctx, `var p4 = document.getElementById("post-p4"); p4.setAttribute("tabindex", "-1"); p4.focus(); window.focused = p4; document.activeElement === p4`)
	s.set("/a/link-1/t/t1/p/p4/fragment", fragment{body: livePost("p4", "Agreed, edited", 0, false), parent: "p2"})
	s.send("post.updated", "link-1", "t1", "p4")
	waitJS(t, ctx, "the edit did not show", `document.querySelector("#post-p4 [data-testid=post-body]").textContent === "Agreed, edited"`)
	if !evalJS[bool](t, ctx, `document.activeElement === window.focused && window.focused.isConnected`) {
		t.Error("the edit moved the focus off the post")
	}

	// The thread's own changes (pinned, locked) wait for a reload.
	s.send("thread.updated", "link-1", "t1", "")
	waitJS(t, ctx, "the thread's change is not announced", `document.querySelector("[data-live-status] a") !== null`)

	if n := evalJS[int](t, ctx, `document.querySelectorAll("#post-p3").length`); n != 1 {
		t.Errorf("the reply shows %d times", n)
	}
	if n := evalJS[int](t, ctx, `document.querySelectorAll("[data-testid=post]").length`); n != 4 {
		t.Errorf("%d posts on the page, want 4", n)
	}
	if got := evalJS[string](t, ctx, `document.getElementById("reply-body").value`); got != "I was about to say" {
		t.Errorf("the reply box holds %q", got)
	}
	if got := evalJS[string](t, ctx, `window.marker`); got != "kept" || s.loads.Load() != 1 {
		t.Errorf("the page reloaded (%d loads)", s.loads.Load())
	}
	for _, p := range s.fetches() {
		if strings.Contains(p, "p8") || strings.Contains(p, "p9") {
			t.Errorf("fetched %s, not this page's", p)
		}
	}
	if f := s.fetches(); len(f) != 7 {
		t.Errorf("fetched %v, want 7 fragments (p3, p4, p2 twice, p3 and p2, p4)", f)
	}
	if len(s.noToken) != 0 {
		t.Errorf("fetched without the session token: %v", s.noToken)
	}
}

// liveRow is a thread of the list as threadItem renders it (enough
// of it for live.js).
func liveRow(id, title string, pinned bool, replies int) string {
	badge := ""
	if pinned {
		badge = `<span class="badge" data-testid="pinned">Pinned</span>`
	}
	return fmt.Sprintf(`<li class="thread-item" data-testid="thread" data-thread-id="%s"><div class="thread-title">%s<span class="kind-mark kind-question" data-kind="question">Q</span> `+
		`<a href="/a/link-1/t/%s?rt=tok" data-testid="thread-link">%s</a></div><div class="thread-meta"><span data-testid="reply-count">%d replies</span></div></li>`,
		id, badge, id, title, replies)
}

// On the list in its default order, live.js puts a new thread, or one with
// a new reply, first after the pinned ones; updates another in place;
// drops a thread no longer the viewer's; and says it with a link to the
// thread.
func TestLiveListInBrowser(t *testing.T) {
	s := newScriptedLive(t, map[string]string{"/a/link-1": `<h1>Threads</h1><ul class="thread-list" data-testid="threads">` +
		liveRow("t0", "Welcome", true, 0) + liveRow("t1", "Gloves?", false, 1) + liveRow("t2", "Boots?", false, 0) + liveRow("t3", "Helmets?", false, 0) + `</ul>`})
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(s.srv.URL+"/a/link-1?rt=tok")); err != nil {
		t.Fatal(err)
	}
	order := func() string {
		return evalJS[string](t, ctx, `Array.prototype.map.call(document.querySelectorAll("[data-testid=threads] > li"), function (li) { return li.getAttribute("data-thread-id"); }).join(" ")`)
	}
	s.set("/a/link-1/t/t2/row", fragment{body: liveRow("t2", "Boots?", false, 1)})
	s.send("post.created", "link-1", "t2", "p5")
	waitJS(t, ctx, "the thread with a new reply did not move up", `document.querySelector("[data-testid=threads] > li:nth-child(2)").getAttribute("data-thread-id") === "t2"`)
	if got := order(); got != "t0 t2 t1 t3" {
		t.Errorf("order %q", got)
	}
	if got := evalJS[string](t, ctx, `document.querySelector("[data-testid=threads] > [data-thread-id=t2] [data-testid=reply-count]").textContent`); got != "1 replies" {
		t.Errorf("the moved row is not the fresh one: %q", got)
	}
	status := evalJS[string](t, ctx, `document.querySelector("[data-live-status]").textContent + " " + document.querySelector("[data-live-status] a").getAttribute("href")`)
	if status != "New reply in Boots? /a/link-1/t/t2?rt=tok" {
		t.Errorf("live region %q", status)
	}

	s.set("/a/link-1/t/t9/row", fragment{body: liveRow("t9", "Goggles?", false, 0)})
	s.send("thread.created", "link-1", "t9", "")
	waitJS(t, ctx, "the new thread was not inserted", `document.querySelector("[data-thread-id=t9]") !== null`)
	if got := order(); got != "t0 t9 t2 t1 t3" {
		t.Errorf("order %q", got)
	}
	if got := evalJS[string](t, ctx, `document.querySelector("[data-live-status]").textContent`); got != "New question: Goggles?" {
		t.Errorf("live region %q", got)
	}

	// A vote changes a row where it is.
	s.set("/a/link-1/t/t3/row", fragment{body: liveRow("t3", "Helmets (edited)?", false, 0)})
	s.send("vote", "link-1", "t3", "p7")
	waitJS(t, ctx, "the row was not updated", `document.querySelector("[data-thread-id=t3] [data-testid=thread-link]").textContent === "Helmets (edited)?"`)
	if got := order(); got != "t0 t9 t2 t1 t3" {
		t.Errorf("order %q", got)
	}
	// Hidden from this learner now: gone from the list.
	s.send("post.updated", "link-1", "t1", "p1")
	waitJS(t, ctx, "the hidden thread stays", `document.querySelector("[data-thread-id=t1]") === null`)
	// A thread not on this page that did not change order: nothing to fetch.
	s.send("vote", "link-1", "t8", "p8")
	s.set("/a/link-1/t/t0/row", fragment{body: liveRow("t0", "Welcome!", true, 1)})
	s.send("post.created", "link-1", "t0", "p9")
	waitJS(t, ctx, "the pinned thread was not updated", `document.querySelector("[data-thread-id=t0] [data-testid=thread-link]").textContent === "Welcome!"`)
	if got := order(); got != "t0 t9 t2 t3" {
		t.Errorf("order %q", got)
	}
	for _, p := range s.fetches() {
		if strings.Contains(p, "t8") {
			t.Errorf("fetched %s, a thread the page does not show", p)
		}
	}
	if got := evalJS[string](t, ctx, `window.marker`); got != "kept" || s.loads.Load() != 1 || len(s.noToken) != 0 {
		t.Errorf("reloaded (%d loads) or fetched without the token %v", s.loads.Load(), s.noToken)
	}
}

// live.js on a long thread's pages: on the last, a new reply joins the
// replies (before the links to the pages) and the count grows; on an
// earlier page it is counted for a reload, not added out of order.
func TestLiveLongThreadPagesInBrowser(t *testing.T) {
	nav := `<nav class="reply-pages" aria-label="Pages of replies" data-testid="reply-pages"><a href="/a/link-1/t/t1">1</a> <a href="/a/link-1/t/t1?page=3">3</a></nav>`
	page := func(attrs, id string) string {
		return `<h1>A long thread</h1><section aria-labelledby="replies-heading" data-pages="3"` + attrs + `><h2 id="replies-heading">230 replies</h2>` + nav +
			`<div class="reply">` + livePost(id, "Reply "+id, 0, false) + `</div>` + nav + `</section>`
	}
	earlier := newScriptedLive(t, map[string]string{"/a/link-1/t/t1": page(" data-earlier-page", "p1")})
	last := newScriptedLive(t, map[string]string{"/a/link-1/t/t1": page("", "p230")})
	ctx := browsertest.New(t)

	if err := chromedp.Do(ctx, chromedp.Navigate(earlier.srv.URL+"/a/link-1/t/t1?rt=tok")); err != nil {
		t.Fatal(err)
	}
	earlier.set("/a/link-1/t/t1/p/p231/fragment", fragment{body: `<div class="reply">` + livePost("p231", "Newest", 0, false) + `</div>`})
	earlier.send("post.created", "link-1", "t1", "p231")
	waitJS(t, ctx, "an earlier page did not count the new reply", `document.querySelector("[data-live-status]").textContent.indexOf("1 new post") >= 0`)
	if evalJS[bool](t, ctx, `document.getElementById("post-p231") !== null`) || evalJS[string](t, ctx, `document.getElementById("replies-heading").textContent`) != "230 replies" {
		t.Error("an earlier page shows a reply of the last")
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(last.srv.URL+"/a/link-1/t/t1?page=3&rt=tok")); err != nil {
		t.Fatal(err)
	}
	last.set("/a/link-1/t/t1/p/p231/fragment", fragment{body: `<div class="reply">` + livePost("p231", "Newest", 0, false) + `</div>`})
	last.send("post.created", "link-1", "t1", "p231")
	waitJS(t, ctx, "the last page did not add the new reply before its page links",
		`document.querySelector("section > .reply + .reply #post-p231") !== null && document.getElementById("post-p231").closest(".reply").nextElementSibling.matches("nav.reply-pages")`)
	if got := evalJS[string](t, ctx, `document.getElementById("replies-heading").textContent`); got != "231 replies" {
		t.Errorf("replies heading %q", got)
	}
}
