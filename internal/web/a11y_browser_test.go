package web_test

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/browsertest"
	"github.com/roundtable-lms/roundtable/internal/store"
)

// openAs is the tool's URL for path in m's session, as a top-level page:
// the link token carries the session, as it does in a new window.
func openAs(m *member, path string, query ...string) string {
	q := url.Values{"rt": {m.rt}}
	for i := 0; i+1 < len(query); i += 2 {
		q.Set(query[i], query[i+1])
	}
	return m.env.App.URL(path) + "?" + q.Encode()
}

// pathOf is the path of a tool URL.
func pathOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}

// axeAt opens rawURL in the browser, checks that it is the page named (it
// shows sel, not an error page), and fails the test on each serious or
// critical axe-core violation.
func axeAt(t *testing.T, ctx context.Context, axeJS, name, rawURL, sel string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(rawURL)); err != nil {
		t.Fatalf("%s: open %s: %v", name, rawURL, err)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+strconv.Quote(sel)+`).length`)); err != nil || n == 0 {
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("%s: %s shows no %s (%v):\n%.1500s", name, rawURL, sel, err, body)
	}
	browsertest.CheckAxe(ctx, t, axeJS, name)
}

// A discussion with every kind of post a page shows: a question with an
// accepted answer, an endorsed reply, a nested reply, a flagged post and a
// hidden one; then axe-core checks each page learners and staff use.
func TestDiscussionPagesPassAxe(t *testing.T) {
	axeJS := browsertest.AxeJS(t)
	env := apptest.Start(t, store.SQLite)
	alice := join(t, env, apptest.Learner)
	alice.ask("discussion", "Hazards at the depot", "Pallets stacked too high.", nil)
	alice.follow("a[href*='/a/']:not([href*='/t/'])")
	alice.ask("question", "How do I report a near miss?", "Is there a **form** for it?\n\n> Asked at the depot\n\n`ticket-42`", map[string]string{"tags": "reporting forms"})
	threadPath := pathOf(t, alice.res.URL)
	base := threadPath[:strings.Index(threadPath, "/t/")]

	bob := join(t, env, apptest.Learner2)
	bob.get(alice.abs(threadPath))
	bob.reply("Use the near-miss form on the intranet.")
	bob.reply("Also tell your supervisor the same day.")
	bob.reply("Buy cheap watches at spam.example")
	bob.reply("Off-topic: who won the match?")
	alice.get(alice.abs(threadPath))
	alice.postAction("near-miss form", "accept")
	alice.postActionFollow("supervisor", "quote")
	alice.submit("#reply form", map[string]string{"body": "Thanks, @Bob, I will."})
	alice.get(alice.abs(threadPath))
	alice.flag("cheap watches", "spam", "An advert")
	alice.get(alice.abs(threadPath))
	alice.postActionFollow("Thanks, @Bob", "edit")
	editPath := pathOf(t, alice.res.URL)
	alice.submit("form.post-form", map[string]string{"body": "Thanks, @Bob, I will tell her today."})
	historyPath := pathOf(t, alice.abs(postSel(alice.page, "tell her today").Find("[data-testid=edited]").AttrOr("href", "")))

	ines := join(t, env, apptest.Instructor)
	ines.get(ines.abs(threadPath))
	ines.postAction("supervisor", "endorse")
	ines.postAction("Off-topic", "hide")
	if postSel(ines.page, "Off-topic").Find("[data-testid=hidden]").Length() != 1 ||
		postSel(ines.page, "supervisor").Find("[data-testid=endorsed]").Length() != 1 ||
		postSel(ines.page, "near-miss form").Find("[data-testid=accepted]").Length() != 1 {
		t.Fatalf("the thread lacks the hidden, endorsed or accepted post the check needs:\n%.3000s", ines.res.Body)
	}
	endorsedID := strings.TrimPrefix(postSel(ines.page, "supervisor").AttrOr("id", ""), "post-")
	longThreadPath := longThread(t, env, alice, base)

	t.Run("learner", func(t *testing.T) {
		ctx := browsertest.New(t)
		axeAt(t, ctx, axeJS, "thread list", openAs(alice, base), "[data-testid=thread]")
		axeAt(t, ctx, axeJS, "thread", openAs(alice, threadPath), "[data-testid=accepted]")
		axeAt(t, ctx, axeJS, "reply to a post", openAs(alice, threadPath, "reply", endorsedID)+"#reply-"+endorsedID, "#reply-"+endorsedID+" #reply-body")
		// The composer: its Preview tab, and the listbox of names.
		if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#reply-body"), "See **this**"), chromedp.Click(chromedp.CSS("#reply [data-composer-tab=preview]")),
			chromedp.WaitVisible(chromedp.CSS("#reply-body-preview .post-body strong"))); err != nil {
			t.Fatalf("the Preview tab: %v", err)
		}
		browsertest.CheckAxe(ctx, t, axeJS, "reply on its Preview tab")
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#reply [data-composer-tab=write]")), chromedp.SendKeys(chromedp.CSS("#reply-body"), " @bo"),
			chromedp.WaitVisible(chromedp.CSS("#reply [role=listbox] [role=option]"))); err != nil {
			t.Fatalf("the listbox of names: %v", err)
		}
		browsertest.CheckAxe(ctx, t, axeJS, "reply with the listbox of names")
		axeAt(t, ctx, axeJS, "new question", openAs(alice, base+"/new", "kind", "question"), "form.post-form")
		// Typing a title shows similar questions in the form's live region.
		if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#title"), "report a near miss"),
			chromedp.WaitVisible(chromedp.CSS("[data-testid=suggestion]"))); err != nil {
			t.Fatalf("no similar questions shown: %v", err)
		}
		browsertest.CheckAxe(ctx, t, axeJS, "new question with similar questions")
		// The form sent with a title too short comes back with the error,
		// and the focus on the field to fix.
		if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#title"), "Hi"), chromedp.Click(chromedp.CSS("[data-testid=submit]")),
			chromedp.WaitVisible(chromedp.CSS("[data-testid=form-error]"))); err != nil {
			t.Fatalf("send the new question form with a short title: %v", err)
		}
		browsertest.CheckAxe(ctx, t, axeJS, "new question with an error")
		if id, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id`)); err != nil || id != "title" {
			t.Errorf("after the error the focus is on %q (%v), want the title field", id, err)
		}
		axeAt(t, ctx, axeJS, "search results", openAs(alice, base+"/search", "q", "near miss"), "[data-testid=result]")
		axeAt(t, ctx, axeJS, "notifications", openAs(alice, base+"/notifications"), "[data-testid=notification]")
		alice.get(alice.abs(threadPath))
		flagHref := postSel(alice.page, "near-miss form").Find("[data-testid=flag]").AttrOr("href", "")
		axeAt(t, ctx, axeJS, "flag form", openAs(alice, pathOf(t, alice.abs(flagHref))), "form.flag-form")
		axeAt(t, ctx, axeJS, "edit form", openAs(alice, editPath), "[data-testid=save]")
		// The edit form sent back to show its preview, without the script's tabs.
		evalJS[bool](t, ctx, `(document.querySelector("[data-composer-preview-button]").hidden = false, true)`)
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("[data-composer-preview-button]")), chromedp.WaitVisible(chromedp.CSS("[data-testid=preview-body] p"))); err != nil {
			t.Fatalf("preview the edit: %v", err)
		}
		browsertest.CheckAxe(ctx, t, axeJS, "edit form with its preview")
		axeAt(t, ctx, axeJS, "earlier versions", openAs(alice, historyPath), "[data-testid=revision]")
		axeAt(t, ctx, axeJS, "a thread not found", openAs(alice, base+"/t/no-such-thread"), "main h1")
	})
	// In a browser of its own: each has a minute for its pages.
	t.Run("staff redacting, a long thread", func(t *testing.T) {
		ctx := browsertest.New(t)
		axeAt(t, ctx, axeJS, "earlier versions, to redact", openAs(ines, historyPath), "[data-testid=redact-form]")
		axeAt(t, ctx, axeJS, "a long thread's second page", openAs(ines, longThreadPath, "page", "2"), "[data-testid=reply-pages] [aria-current=page]")
	})
	t.Run("staff", func(t *testing.T) {
		ctx := browsertest.New(t)
		axeAt(t, ctx, axeJS, "thread list", openAs(ines, base), "[data-testid=moderation-badge]")
		// A reply posted elsewhere is announced in the live region.
		bob.get(bob.abs(threadPath))
		bob.reply("The form is under Safety > Report.")
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector("[data-live-status][aria-live=polite]").textContent.trim() !== "" || null`,
			chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			t.Fatalf("the live region did not announce the new reply: %v", err)
		}
		browsertest.CheckAxe(ctx, t, axeJS, "thread list with news in the live region")
		axeAt(t, ctx, axeJS, "thread with a hidden post", openAs(ines, threadPath), "[data-testid=hidden]")
		// The staff menus open from their summary; Escape closes one and
		// puts the focus back on its summary. Open, every menu passes too.
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("[data-testid=thread-staff-menu] summary")),
			chromedp.WaitVisible(chromedp.CSS("[data-testid=thread-staff-menu] [data-testid=flag-pinned]"))); err != nil {
			t.Fatalf("open the thread's staff menu: %v", err)
		}
		if err := chromedp.Do(ctx, chromedp.KeyEvent("\u001b")); err != nil {
			t.Fatalf("press Escape: %v", err)
		}
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!document.querySelector("[data-testid=thread-staff-menu]").open && document.activeElement.matches("[data-testid=thread-staff-menu] summary")`)); err != nil || !ok {
			t.Errorf("Escape did not close the menu back to its summary (%v)", err)
		}
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("details.menu").forEach(function (d) { d.open = true; }), 0`)); err != nil {
			t.Fatalf("open the staff menus: %v", err)
		}
		browsertest.CheckAxe(ctx, t, axeJS, "thread with its staff menus open")
		axeAt(t, ctx, axeJS, "mark as duplicate", openAs(ines, threadPath+"/duplicate", "q", "depot"), "[data-testid=duplicate-candidate]")
		// With the script, typing lists the matches without a page load.
		axeAt(t, ctx, axeJS, "mark as duplicate, before a search", openAs(ines, threadPath+"/duplicate"), "#duplicate-q")
		if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#duplicate-q"), "hazard"),
			chromedp.WaitVisible(chromedp.CSS("[data-testid=duplicate-candidate]"))); err != nil {
			t.Fatalf("typing did not list the matching thread: %v", err)
		}
		if got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("duplicate-status").textContent`)); err != nil || got != "1 matching thread" {
			t.Errorf("the status says %q (%v), want 1 matching thread", got, err)
		}
		browsertest.CheckAxe(ctx, t, axeJS, "mark as duplicate, listed while typing")
		axeAt(t, ctx, axeJS, "moderation queue", openAs(ines, base+"/moderation"), "[data-testid=flagged]")
		if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("[data-testid=flagged]").length`)); err != nil || n != 1 {
			t.Errorf("the queue shows %d flagged posts (%v), want 1", n, err)
		}
		axeAt(t, ctx, axeJS, "moderation log", openAs(ines, base+"/moderation/log"), "[data-testid=log-entry]")
		axeAt(t, ctx, axeJS, "participation", openAs(ines, base+"/participation"), "[data-testid=learner]")
		axeAt(t, ctx, axeJS, "grades", openAs(ines, base+"/grades"), "[data-testid=grading-rule]")
		axeAt(t, ctx, axeJS, "activity settings", openAs(ines, base+"/settings"), "form [name=cohort_policy]")
		axeAt(t, ctx, axeJS, "roster", openAs(ines, base+"/roster"), "main h1")
		_, picker := chooser(t, env, apptest.Instructor, nil)
		axeAt(t, ctx, axeJS, "deep linking chooser", picker.URL, "[data-testid=chooser]")
		// After an action in the queue the focus is back on its heading.
		axeAt(t, ctx, axeJS, "moderation queue", openAs(ines, base+"/moderation"), "[data-testid=flagged]")
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("[data-testid=dismiss]")), chromedp.WaitReady(chromedp.CSS("[data-testid=queue-empty]"))); err != nil {
			t.Fatalf("dismiss the flags: %v", err)
		}
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.activeElement.id === "moderation-heading" || null`, chromedp.WithPollingTimeout(5*time.Second))); err != nil {
			id, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id + " " + location.hash`))
			t.Errorf("after dismissing, the focus is on %q, want the moderation heading", id)
		}
	})
}

// focused describes the element that has the keyboard focus, and whether
// a focus indicator (an outline) shows on it.
type focused struct {
	Tag     string     `json:"tag"`
	ID      string     `json:"id"`
	Class   string     `json:"class"`
	TestID  string     `json:"testid"`
	Text    string     `json:"text"`
	Outline bool       `json:"outline"`
	Color   [3]float64 `json:"color"` // of the outline, sRGB 0-255
	Visible bool       `json:"visible"`
}

// contrastOnWhite is the WCAG contrast ratio of an sRGB colour against
// the white page.
func contrastOnWhite(c [3]float64) float64 {
	var lum float64
	for i, w := range []float64{0.2126, 0.7152, 0.0722} {
		v := c[i] / 255
		if v <= 0.03928 {
			v /= 12.92
		} else {
			v = math.Pow((v+0.055)/1.055, 2.4)
		}
		lum += w * v
	}
	return 1.05 / (lum + 0.05)
}

const readFocus = `(function () {
	var el = document.activeElement || document.body, cs = getComputedStyle(el), r = el.getBoundingClientRect();
	return {tag: el.tagName.toLowerCase(), id: el.id, class: el.className || "", testid: el.getAttribute("data-testid") || "",
		text: (el.textContent || "").trim().slice(0, 200),
		outline: cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) > 0,
		color: (cs.outlineColor.match(/[\d.]+/g) || [255, 255, 255]).slice(0, 3).map(Number),
		visible: r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0};
})()`

// press sends one key to the focused element and reports where focus went.
func press(t *testing.T, ctx context.Context, key string) focused {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.KeyEvent(key)); err != nil {
		t.Fatalf("press %q: %v", key, err)
	}
	f, err := chromedp.Run(ctx, chromedp.Evaluate[focused](readFocus))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// tabTo presses Tab until want(focus) holds, at most limit times, checking
// that each element reached shows a focus indicator.
func tabTo(t *testing.T, ctx context.Context, what string, limit int, want func(focused) bool) {
	t.Helper()
	for i := 0; i < limit; i++ {
		f := press(t, ctx, "\t")
		if !f.Outline || !f.Visible {
			t.Errorf("Tab reached <%s id=%q class=%q> %q with no visible focus indicator", f.Tag, f.ID, f.Class, f.Text)
		} else if r := contrastOnWhite(f.Color); r < 3 {
			t.Errorf("the focus indicator on <%s id=%q> %q has contrast %.2f:1 against the page, want at least 3:1", f.Tag, f.ID, f.Text, r)
		}
		if want(f) {
			return
		}
	}
	t.Fatalf("%s: not reached in %d presses of Tab", what, limit)
}

// Without a mouse: from the top of a thread, the skip link leads to the
// content, Tab reaches the reply box, the reply is typed and sent with the
// keyboard, and after the redirect the focus is on the new reply.
func TestKeyboardReplyFocusesTheNewReply(t *testing.T) {
	env := apptest.Start(t, store.SQLite)
	alice := join(t, env, apptest.Learner)
	alice.ask("question", "Where is the first-aid kit?", "I could not find it in building B.", nil)
	threadPath := pathOf(t, alice.res.URL)
	bob := join(t, env, apptest.Learner2)

	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(openAs(bob, threadPath)), chromedp.WaitReady(chromedp.CSS("#reply-body"))); err != nil {
		t.Fatal(err)
	}
	for _, page := range []string{"thread", "list"} {
		if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("[aria-live=polite][data-live-status]").length`)); err != nil || n != 1 {
			t.Errorf("the %s page has %d polite live regions for new posts (%v), want 1", page, n, err)
		}
		if page == "thread" {
			if err := chromedp.Do(ctx, chromedp.Navigate(openAs(bob, threadPath[:strings.Index(threadPath, "/t/")]))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(openAs(bob, threadPath)), chromedp.WaitReady(chromedp.CSS("#reply-body"))); err != nil {
		t.Fatal(err)
	}

	// The first Tab shows the skip link; Enter moves focus to the content.
	if f := press(t, ctx, "\t"); !strings.Contains(f.Class, "skip-link") || !f.Visible || !f.Outline {
		t.Fatalf("the first Tab focuses %+v, want the visible skip link", f)
	}
	press(t, ctx, "\r")
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.activeElement.id === "main" || null`, chromedp.WithPollingTimeout(3*time.Second))); err != nil {
		f, _ := chromedp.Run(ctx, chromedp.Evaluate[focused](readFocus))
		t.Fatalf("the skip link moved focus to %+v, want main", f)
	}
	tabTo(t, ctx, "the reply box", 60, func(f focused) bool { return f.ID == "reply-body" })
	reply := "It hangs by the fire door on the ground floor."
	if err := chromedp.Do(ctx, chromedp.KeyEvent(reply)); err != nil {
		t.Fatal(err)
	}
	tabTo(t, ctx, "the Post reply button", 5, func(f focused) bool { return f.TestID == "reply-submit" })
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}

	// The page navigates under the poll: ask again until the new page answers.
	var hash string
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		hash, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.readyState === "complete" && location.hash.indexOf("#post-") === 0 ? location.hash : ""`))
		if err == nil && hash != "" {
			break
		}
	}
	if hash == "" {
		t.Fatalf("the reply did not lead to the new post: %v", err)
	}
	var stored string
	env.DB.Raw(`SELECT id FROM posts WHERE body = ?`, reply).Scan(&stored)
	if stored == "" || hash != "#post-"+stored {
		t.Fatalf("redirected to %s; the stored reply is %q", hash, stored)
	}
	f, err := chromedp.Run(ctx, chromedp.Poll[focused](`(function () { var f = `+readFocus+`; return f.tag === "body" ? null : f; })()`,
		chromedp.WithPollingTimeout(5*time.Second)))
	if err != nil {
		t.Fatalf("after the redirect nothing has focus: %v", err)
	}
	if f.ID != "post-"+stored || !strings.Contains(f.Text, reply) || !f.Outline {
		t.Errorf("after the redirect the focus is on %+v, want the new reply %s with an outline", f, stored)
	}
	// Tab goes on from the new reply, not from the top of the page.
	if g := press(t, ctx, "\t"); g.Tag == "a" && strings.Contains(g.Class, "skip-link") {
		t.Errorf("Tab after the redirect starts again at the skip link")
	}
}

// longThread starts a thread of m's with more than one page of replies
// (written straight through the store) and returns its path.
func longThread(t *testing.T, env *apptest.Env, m *member, base string) string {
	t.Helper()
	m.get(m.abs(base))
	m.ask("discussion", "A thread of many replies", "Reply, everyone.", nil)
	threadPath := pathOf(t, m.res.URL)
	var v discussion.Viewer
	if err := env.DB.Raw(`SELECT space_id, org_id, course_id, link_id, cohort_id, author_id FROM threads WHERE id = ?`, threadPath[strings.LastIndex(threadPath, "/")+1:]).Row().
		Scan(&v.SpaceID, &v.OrgID, &v.CourseID, &v.LinkID, &v.CohortID, &v.UserID); err != nil {
		t.Fatal(err)
	}
	s := discussion.NewStore(env.DB)
	s.PostsPerMinute = 0
	for i := range discussion.RepliesPerPage + 5 {
		if _, err := s.Reply(context.Background(), v, threadPath[strings.LastIndex(threadPath, "/")+1:], discussion.ReplyInput{Body: fmt.Sprintf("Reply %d.", i)}); err != nil {
			t.Fatal(err)
		}
	}
	return threadPath
}
