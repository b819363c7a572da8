package discuss

import (
	"bytes"
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/web/kit"
	"github.com/roundtable-lms/roundtable/internal/web/kit/pagetest"
)

// The discussion's components, rendered as their pages render them: what
// each state of a post or thread shows its reader, which actions each
// reader is offered, the session token on every link and form only when
// the page has one, and what people write coming out as text.

// viewKit renders the pages' layouts.
var viewKit, _ = kit.NewBase(&kit.Base{})

// viewBase is a discussion page's base in a session with token (empty:
// the cookie carries the session).
func viewBase(token string, staff bool) kit.ActivityBase {
	l := viewKit.Layout("Thread")
	l.SessionToken = token
	return kit.ActivityBase{L: l, CSRF: "csrf-1", Form: kit.HiddenFields{CSRF: "csrf-1", RT: token}, Base: "/a/link-1", Staff: staff,
		Now: viewNow}.WithQuery()
}

// viewNow is when the views are written: three hours after the reply.
var viewNow = time.Date(2026, 3, 4, 8, 10, 0, 0, time.UTC)

// question is a question asked by someone other than the viewer.
var question = discussion.Thread{ID: "t-1", Kind: discussion.Question, Title: "Which gloves?", Author: discussion.Author{ID: "u-ann", Name: "Ann"}}

// Reply is a reply by Bob, with one upvote.
var reply = discussion.Post{ID: "p-2", ThreadID: "t-1", Author: discussion.Author{ID: "u-bob", Name: "Bob"}, Body: "Nitrile.", Votes: 1,
	CreatedAt: time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)}

// renderPost renders p of thread th as the thread page shows it to the
// viewer of b.
func renderPost(t *testing.T, b kit.ActivityBase, th discussion.Thread, p discussion.Post) *goquery.Selection {
	t.Helper()
	pv := postViews(b, b.Staff, th)(p)
	return pagetest.RenderDoc(t, "view", postArticle(&pv)).Find("article.post")
}

func text(s *goquery.Selection) string { return strings.Join(strings.Fields(s.Text()), " ") }

func TestPostShowsItsStateToEachReader(t *testing.T) {
	learner, staff := viewBase("", false), viewBase("", true)
	with := func(edit func(*discussion.Post)) discussion.Post {
		p := reply
		edit(&p)
		return p
	}
	type check func(t *testing.T, a *goquery.Selection)
	has := func(sel, want string) check {
		return func(t *testing.T, a *goquery.Selection) {
			t.Helper()
			s := a.Find(sel)
			if s.Length() != 1 || !strings.Contains(text(s), want) {
				t.Errorf("%s: %d found, text %q, want one with %q", sel, s.Length(), text(s), want)
			}
		}
	}
	hasNo := func(sel string) check {
		return func(t *testing.T, a *goquery.Selection) {
			t.Helper()
			if n := a.Find(sel).Length(); n != 0 {
				t.Errorf("%s: %d found, want none", sel, n)
			}
		}
	}
	links := func(sel, want string) check {
		return func(t *testing.T, a *goquery.Selection) {
			t.Helper()
			if href, _ := a.Find(sel).Attr("href"); href != want {
				t.Errorf("%s links to %q, want %q", sel, href, want)
			}
		}
	}
	classed := func(class string, want bool) check {
		return func(t *testing.T, a *goquery.Selection) {
			t.Helper()
			if a.HasClass(class) != want {
				t.Errorf("article class %q: has %q %v, want %v", a.AttrOr("class", ""), class, !want, want)
			}
		}
	}
	for _, c := range []struct {
		name   string
		b      kit.ActivityBase
		post   discussion.Post
		checks []check
	}{
		{"removed, to a learner", learner, with(func(p *discussion.Post) { p.Deleted = true }),
			[]check{has("[data-testid=removed]", "This post was removed."), hasNo("[data-testid=removed-history]"), hasNo("[data-testid=post-body]"),
				hasNo("form"), classed("removed", true)}},
		{"removed, to staff", staff, with(func(p *discussion.Post) { p.Deleted = true }),
			[]check{has("[data-testid=removed]", "This post was removed. What it said"), links("[data-testid=removed-history]", "/a/link-1/t/t-1/p/p-2/history"),
				hasNo("[data-testid=post-body]")}},
		{"hidden, to a learner", learner, with(func(p *discussion.Post) { p.Hidden = true }),
			[]check{has("[data-testid=hidden-placeholder]", "This post was hidden by moderators."), hasNo("[data-testid=post-body]"),
				hasNo("[data-testid=hidden]"), hasNo("form")}},
		{"hidden, to staff", staff, with(func(p *discussion.Post) { p.Hidden = true }),
			[]check{has("[data-testid=post-body]", "Nitrile."), has("[data-testid=hidden]", "Hidden"), has("[data-testid=restore]", "Restore for learners"),
				hasNo("[data-testid=hide]"), hasNo("[data-testid=hidden-placeholder]")}},
		{"anonymous, to a learner", learner, with(func(p *discussion.Post) { p.Author = discussion.Author{Anonymous: true} }),
			[]check{has("[data-testid=author]", "Anonymous learner"), hasNo("[data-testid=anon-note]")}},
		{"anonymous, to staff", staff, with(func(p *discussion.Post) { p.Author = discussion.Author{ID: "u-bob", Name: "Bob", Anonymous: true} }),
			[]check{has("header", "Bob (anonymous to learners)"), has("[data-testid=anon-note]", "(anonymous to learners)")}},
		{"by staff", learner, with(func(p *discussion.Post) { p.Author = discussion.Author{ID: "u-ines", Name: "Ines", Staff: true} }),
			[]check{has("header", "Ines Staff"), has(".badge.staff", "Staff")}},
		{"accepted", learner, with(func(p *discussion.Post) { p.Accepted = true }),
			[]check{has("[data-testid=accepted]", "Accepted answer"), classed("accepted", true)}},
		{"endorsed", learner, with(func(p *discussion.Post) { p.Endorsed = true }),
			[]check{has("[data-testid=endorsed]", "Endorsed by staff"), classed("accepted", false)}},
		{"edited", learner, with(func(p *discussion.Post) { p.Edited = true }),
			[]check{has("[data-testid=edited]", "edited"), links("[data-testid=edited]", "/a/link-1/t/t-1/p/p-2/history")}},
		{"new", learner, with(func(p *discussion.Post) { p.New = true }), []check{has(".badge.new", "New")}},
		{"opening", learner, with(func(p *discussion.Post) { p.Opening = true }), []check{classed("opening", true)}},
		{"upvoted by the reader", learner, with(func(p *discussion.Post) { p.Voted, p.Votes = true, 3 }),
			[]check{has("button[data-testid=vote][aria-pressed=true]", "Upvote 3"), hasNo("button[data-testid=vote].secondary")}},
		{"not upvoted by the reader", learner, reply,
			[]check{has("button[data-testid=vote][aria-pressed=false].secondary", "Upvote 1")}},
		{"the reader's own, one upvote", learner, with(func(p *discussion.Post) { p.Author.Mine = true }),
			[]check{has("span[data-testid=votes]", "1 upvote"), hasNo("button[data-testid=vote]")}},
		{"the reader's own, three upvotes", learner, with(func(p *discussion.Post) { p.Author.Mine, p.Votes = true, 3 }),
			[]check{has("span[data-testid=votes]", "3 upvotes")}},
		{"when", learner, reply, []check{has("time[datetime='2026-03-04T05:06:00Z'][title='4 Mar 2026, 05:06 UTC']", "3 hours ago")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := renderPost(t, c.b, question, c.post)
			if a.Length() != 1 || a.AttrOr("id", "") != "post-p-2" || a.AttrOr("aria-labelledby", "") != "post-p-2-by" || a.Find("#post-p-2-by").Length() != 1 {
				t.Fatalf("want one article #post-p-2 labelled by its author, got %d", a.Length())
			}
			for _, ch := range c.checks {
				ch(t, a)
			}
		})
	}
}

// The actions a post offers are the ones its reader may take.
func TestPostOffersTheActionsItsReaderMayTake(t *testing.T) {
	mine := func(p discussion.Post) discussion.Post { p.Author.Mine = true; return p }
	asked := question
	asked.Author.Mine = true
	locked := question
	locked.Locked = true
	talk := question
	talk.Kind = discussion.Discussion
	opening := reply
	opening.Opening = true
	observer := viewBase("", false)
	observer.ReadOnly = true
	for _, c := range []struct {
		name   string
		b      kit.ActivityBase
		thread discussion.Thread
		post   discussion.Post
		want   []string
	}{
		{"a learner, on another's reply", viewBase("", false), question, reply, []string{"vote", "reply", "quote", "flag"}},
		{"a learner, on their own reply", viewBase("", false), question, mine(reply), []string{"reply", "quote", "edit", "delete"}},
		{"a learner, on their own reply in a locked thread", viewBase("", false), locked, mine(reply), []string{"reply", "quote"}},
		{"the asker, on an answer", viewBase("", false), asked, reply, []string{"vote", "reply", "quote", "accept", "flag"}},
		{"the asker, on a reply in a discussion", viewBase("", false), func() discussion.Thread { t := talk; t.Author.Mine = true; return t }(), reply,
			[]string{"vote", "reply", "quote", "flag"}},
		{"staff, on a learner's answer", viewBase("", true), question, reply, []string{"vote", "reply", "quote", "accept", "endorse", "edit", "hide", "delete"}},
		{"staff, on a learner's opening post", viewBase("", true), question, opening, []string{"vote", "quote", "endorse", "edit", "hide", "delete"}},
		{"a learner, on the opening post", viewBase("", false), question, opening, []string{"vote", "quote", "flag"}},
		{"an observer", observer, question, reply, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := renderPost(t, c.b, c.thread, c.post)
			var got []string
			a.Find(".post-actions a, .post-actions button").Each(func(_ int, s *goquery.Selection) {
				id := s.AttrOr("data-testid", "")
				if id == "" && s.Text() == "Reply" {
					id = "reply"
				}
				got = append(got, id)
			})
			if !slices.Equal(got, c.want) {
				t.Errorf("actions %q, want %q", got, c.want)
			}
			// Staff's actions on another's post are in the post's staff
			// menu, the everyday ones outside it.
			var inMenu []string
			a.Find(".post-actions details.menu [data-testid]").Each(func(_ int, s *goquery.Selection) { inMenu = append(inMenu, s.AttrOr("data-testid", "")) })
			if want := []string{"endorse", "edit", "hide", "delete"}; c.b.Staff && !slices.Equal(inMenu, want) || !c.b.Staff && len(inMenu) > 0 {
				t.Errorf("in the staff menu: %q", inMenu)
			}
			if c.b.ReadOnly && text(a.Find(".post-actions")) != "1 upvote" {
				t.Errorf("an observer sees %q, want the count of upvotes alone", text(a.Find(".post-actions")))
			}
		})
	}
}

// Every link and form of a post carries the session token when the page
// has one, and none does when the cookie carries the session; the token
// is escaped as a query parameter.
func TestPostLinksCarryTheSessionTokenOnlyWhenThePageHasOne(t *testing.T) {
	staffOwn := reply
	staffOwn.Edited = true
	for _, token := range []string{"", "tok/en+with=odd&chars"} {
		b := viewBase(token, true)
		a := renderPost(t, b, question, staffOwn)
		urls := 0
		a.Find("a[href], form[action]").Each(func(_ int, s *goquery.Selection) {
			raw := s.AttrOr("href", s.AttrOr("action", ""))
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatalf("%q: %v", raw, err)
			}
			urls++
			if got := u.Query().Get("rt"); got != token {
				t.Errorf("token %q: %q carries rt=%q", token, raw, got)
			}
			if !strings.HasPrefix(u.Path, "/a/link-1/") {
				t.Errorf("%q is not in the activity's space", raw)
			}
		})
		if urls < 8 {
			t.Fatalf("token %q: %d links and forms, want the staff's eight or more", token, urls)
		}
		a.Find("form").Each(func(_ int, f *goquery.Selection) {
			if f.Find("input[name=csrf][value=csrf-1]").Length() != 1 {
				t.Errorf("a form without the CSRF token: %s", f.AttrOr("action", ""))
			}
			rt := f.Find("input[name=rt]")
			if token == "" && rt.Length() != 0 || token != "" && rt.AttrOr("value", "") != token {
				t.Errorf("token %q: form %s has rt fields %d (%q)", token, f.AttrOr("action", ""), rt.Length(), rt.AttrOr("value", ""))
			}
		})
		quote := a.Find("[data-testid=quote]").AttrOr("href", "")
		if u, _ := url.Parse(quote); u.Query().Get("quote") != "p-2" || u.Fragment != "reply-p-2" || u.Path != "/a/link-1/t/t-1" {
			t.Errorf("quote link %q", quote)
		}
	}
}

func TestThreadRowShowsTheThread(t *testing.T) {
	b := viewBase("tok", false)
	th := question
	th.Pinned, th.Locked, th.Closed, th.Unread, th.Following, th.Replies, th.Votes = true, true, true, 2, true, 1, 5
	th.Tags = []string{"ppe", "lab safety"}
	th.Original = discussion.ThreadRef{ID: "t-0", Title: "Gloves?"}
	th.LastActivity = time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)
	li := pagetest.RenderDoc(t, "view", threadItem(&b, &th)).Find("li.thread-item[data-testid=thread]")
	if li.AttrOr("data-thread-id", "") != "t-1" {
		t.Fatalf("row %q", li.AttrOr("data-thread-id", ""))
	}
	for sel, want := range map[string]string{
		"[data-testid=pinned]": "Pinned", "[data-kind=question]": "QQuestion:", "[data-testid=unanswered]": "Unanswered",
		"[data-testid=thread-link]": "Which gloves?", "[data-testid=duplicate-of]": "Duplicate of Gloves?",
		"[data-testid=reply-count]": "1 reply", "[data-testid=vote-count]": "5 votes", "[data-testid=unread]": "2 new",
		"[data-testid=author]": "Ann", "time[datetime='2026-03-04T05:06:00Z'][title='4 Mar 2026, 05:06 UTC']": "3 hours ago",
	} {
		if got := text(li.Find(sel)); got != want {
			t.Errorf("%s: %q, want %q", sel, got, want)
		}
	}
	if got := text(li.Find(".thread-meta")); got != "Ann · 3 hours ago · Following #ppe #lab safety" {
		t.Errorf("meta %q", got)
	}
	if got := text(li.Find(".thread-stats")); got != "2 new 1 reply 5 votes" {
		t.Errorf("counts %q", got)
	}
	if got := text(li.Find(".thread-title .badge")); !strings.Contains(got, "Locked") || !strings.Contains(got, "Closed") {
		t.Errorf("badges %q", got)
	}
	for sel, want := range map[string]string{
		"[data-testid=thread-link]":    "/a/link-1/t/t-1?rt=tok",
		"[data-testid=duplicate-of] a": "/a/link-1/t/t-0?rt=tok",
		"a.tag:last-child":             "/a/link-1?tag=lab+safety&rt=tok",
	} {
		if got := li.Find(sel).AttrOr("href", ""); got != want {
			t.Errorf("%s links to %q, want %q", sel, got, want)
		}
	}
	th.AcceptedPostID, th.Kind = "p-2", discussion.Question
	if got := text(pagetest.RenderDoc(t, "view", threadItem(&b, &th)).Find("[data-testid=answered]")); got != "Answered" {
		t.Errorf("answered: %q", got)
	}
	th.Kind = discussion.Discussion
	doc := pagetest.RenderDoc(t, "view", threadItem(&b, &th))
	if doc.Find("[data-testid=answered], [data-testid=unanswered]").Length() != 0 || doc.Find("[data-kind=discussion]").Length() != 1 {
		t.Errorf("a discussion shows %q", text(doc.Find(".thread-title")))
	}
}

// xss is what a person might write to run a script in others' pages.
const xss = `<img src=x onerror="alert(1)"><script>alert(2)</script>'"&`

// noMarkupFrom reports elements or attributes that came from xss.
func noMarkupFrom(t *testing.T, doc *goquery.Document) {
	t.Helper()
	if n := doc.Find("img, [onerror], script:not([src])").Length(); n != 0 {
		h, _ := doc.Html()
		t.Fatalf("%d elements from the payload:\n%s", n, h)
	}
}

func TestWhatPeopleWriteComesOutAsText(t *testing.T) {
	b := viewBase("tok", true)
	th := question
	th.Title, th.Tags = xss, []string{xss}
	th.Author = discussion.Author{ID: "u-x", Name: xss, Anonymous: true}
	p := reply
	p.ID, p.Author, p.Body = `p"<&>/?#x`, th.Author, xss
	tv := discussion.ThreadView{Thread: th, Opening: p}
	tv.Duplicates.Of = &discussion.ThreadRef{ID: "t-0", Title: xss}
	tv.Duplicates.Marked = []discussion.ThreadRef{{ID: "t-9", Title: xss}}
	conv := postViews(b, true, th)
	page := threadPage{ActivityBase: b, Thread: tv, Opening: conv(p), Replies: []postView{conv(p)}, CanReply: true,
		ReplyTo: xss, ReplyToName: xss, ReplyBody: xss, ReplyError: xss}
	page.L.Title = xss

	t.Run("thread", func(t *testing.T) {
		doc := pagetest.RenderDoc(t, "view", threadPageView(&page))
		noMarkupFrom(t, doc)
		for sel, want := range map[string]string{
			"title": xss + " · Roundtable", "#thread-title": xss, "a.tag": "#" + xss, "[data-testid=duplicate-of] a": xss,
			"[data-testid=marked-duplicates] a": xss, "#post-" + cssEscape(p.ID) + "-by .author": xss, "#reply-heading": "Reply to " + xss,
			"#reply-error": xss, "#reply-body": xss,
		} {
			if got := doc.Find(sel).First().Text(); got != want {
				t.Errorf("%s: %q, want %q", sel, got, want)
			}
		}
		if got := doc.Find("input[name=parent_id]").AttrOr("value", ""); got != xss {
			t.Errorf("parent_id %q", got)
		}
		if got := doc.Find("#post-" + cssEscape(p.ID)).Length(); got != 2 {
			t.Errorf("posts with the id: %d", got)
		}
		// The post's id is a part of its actions' paths, and the tag a
		// query parameter: escaped, they mean what they are.
		vote := doc.Find("[data-testid=vote]").Closest("form").AttrOr("action", "")
		if u, err := url.Parse(vote); err != nil || u.Path != "/a/link-1/t/t-1/p/"+p.ID+"/vote" || u.Query().Get("rt") != "tok" {
			t.Errorf("vote form %q: %v", vote, err)
		}
		quote := doc.Find("[data-testid=quote]").AttrOr("href", "")
		if u, err := url.Parse(quote); err != nil || u.Query().Get("quote") != p.ID || u.Fragment != "reply-"+p.ID {
			t.Errorf("quote link %q: %v", quote, err)
		}
		tag := doc.Find("a.tag").AttrOr("href", "")
		if u, err := url.Parse(tag); err != nil || u.Query().Get("tag") != xss || u.Query().Get("rt") != "tok" {
			t.Errorf("tag link %q: %v", tag, err)
		}
	})
	t.Run("row", func(t *testing.T) {
		doc := pagetest.RenderDoc(t, "view", threadItem(&b, &th))
		noMarkupFrom(t, doc)
		if got := doc.Find("[data-testid=thread-link]").Text(); got != xss {
			t.Errorf("title %q", got)
		}
		if got := doc.Find("[data-testid=author]").Text(); got != xss {
			t.Errorf("author %q", got)
		}
	})
	t.Run("search", func(t *testing.T) {
		sp := searchPage{ActivityBase: b, Query: xss, Message: "Nothing matches " + xss, Results: []searchResultView{{
			SearchResult: discussion.SearchResult{Title: []discussion.Highlight{{Text: xss}, {Text: xss, Marked: true}},
				Snippet: []discussion.Highlight{{Text: xss, Marked: true}}, Author: th.Author}, URL: "/a/link-1/t/t-1"}}}
		doc := pagetest.RenderDoc(t, "view", searchPageView(&sp))
		noMarkupFrom(t, doc)
		if got := doc.Find("#search-q").AttrOr("value", ""); got != xss {
			t.Errorf("query %q", got)
		}
		if got := doc.Find("[data-testid=search-message]").Text(); got != "Nothing matches "+xss {
			t.Errorf("message %q", got)
		}
		if got := doc.Find("[data-testid=result-link]").Text(); got != xss+xss {
			t.Errorf("title %q", got)
		}
		if got := doc.Find("[data-testid=snippet] mark").Text(); got != xss {
			t.Errorf("snippet %q", got)
		}
		sug := pagetest.RenderDoc(t, "view", suggestionList([]suggestion{{SimilarThread: discussion.SimilarThread{Title: xss}, URL: "/a/link-1/t/t-1"}}))
		noMarkupFrom(t, sug)
		if got := sug.Find("[data-testid=suggestion]").Text(); got != xss {
			t.Errorf("suggestion %q", got)
		}
	})
	t.Run("forms", func(t *testing.T) {
		fp := threadFormPage{ActivityBase: b, Input: discussion.ThreadInput{Title: xss, Body: xss, Tags: xss}, Field: "title", Error: xss, Action: "/a/link-1/threads"}
		doc := pagetest.RenderDoc(t, "view", threadFormView(&fp))
		noMarkupFrom(t, doc)
		for sel, want := range map[string]string{"#title": xss, "#tags": xss} {
			if got := doc.Find(sel).AttrOr("value", ""); got != want {
				t.Errorf("%s: %q", sel, got)
			}
		}
		if doc.Find("#body").Text() != xss || doc.Find("#title-error").Text() != xss || doc.Find("#title[aria-invalid=true][autofocus]").Length() != 1 ||
			doc.Find("#title").AttrOr("aria-describedby", "") != "title-hint title-error" {
			t.Errorf("the thread form shows its input and error wrongly")
		}
		ep := editPage{ActivityBase: b, ThreadURL: "/a/link-1/t/t-1", Action: "/a/link-1/t/t-1/p/p-2/edit", Opening: true, Title: xss, Body: xss, Field: "body", Error: xss}
		doc = pagetest.RenderDoc(t, "view", editPostView(&ep))
		noMarkupFrom(t, doc)
		if doc.Find("#title").AttrOr("value", "") != xss || doc.Find("#body").Text() != xss || doc.Find("#body-error").Text() != xss ||
			doc.Find("#body").AttrOr("aria-describedby", "") != "body-error" || doc.Find("#title[aria-invalid]").Length() != 0 {
			t.Errorf("the edit form shows its input and error wrongly")
		}
		hp := historyPage{ActivityBase: b, ThreadURL: "/a/link-1/t/t-1", Revisions: []revisionView{{Revision: discussion.Revision{ID: "r-1", Title: xss}, HTML: renderedPosts.render(xss)}}}
		doc = pagetest.RenderDoc(t, "view", postHistoryView(&hp))
		noMarkupFrom(t, doc)
		if doc.Find("[data-testid=revision] strong").Text() != xss {
			t.Errorf("revision title %q", doc.Find("[data-testid=revision] strong").Text())
		}
		errPage := kit.ActivityErrorPage{ActivityBase: b, Heading: xss, Message: xss, Reference: xss}
		doc = pagetest.RenderDoc(t, "view", kit.ActivityErrorView(&errPage))
		noMarkupFrom(t, doc)
		if doc.Find(".error-page h1").Text() != xss || doc.Find("[data-testid=error-ref]").Text() != xss {
			t.Errorf("the error page shows %q", doc.Find(".error-page").Text())
		}
	})
}

// cssEscape escapes an id for a CSS selector.
func cssEscape(id string) string {
	var b strings.Builder
	for _, r := range id {
		if r < 0x80 && !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_') {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// BenchmarkThreadPageComponents renders a 100-post thread page, the
// posts' Markdown already rendered, in a session with a link token: the
// components' own cost, without the reads.
func BenchmarkThreadPageComponents(b *testing.B) {
	base := viewBase("tok-abcdefghijklmnopqrstuvwxyz0123456789", false)
	conv := postViews(base, false, question)
	body := strings.Repeat("Some words of a reply, with *emphasis*. ", 40)
	page := threadPage{ActivityBase: base, Thread: discussion.ThreadView{Thread: question}, CanReply: true,
		Opening: conv(discussion.Post{ID: "p-0", ThreadID: "t-1", Opening: true, Body: body, Author: question.Author})}
	for i := range 99 {
		page.Replies = append(page.Replies, conv(discussion.Post{ID: "p-" + strconv.Itoa(i+1), ThreadID: "t-1", Body: body, Votes: i,
			Author: discussion.Author{ID: "u-bob", Name: "Bob"}, CreatedAt: time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)}))
	}
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := threadPageView(&page).Render(context.Background(), &buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "page-bytes")
}

// TestPostLinkToShareCarriesNoToken: a post's "Copy link" copies its place
// in the thread without the session token, even on a page whose links
// carry one (cookies blocked): a classmate opens it with their own session.
func TestPostLinkToShareCarriesNoToken(t *testing.T) {
	for _, token := range []string{"", "tok-1"} {
		a := renderPost(t, viewBase(token, false), question, reply)
		b := a.Find("button[data-testid=copy-link]")
		if b.Length() != 1 {
			t.Fatalf("token %q: %d copy-link buttons", token, b.Length())
		}
		if got := b.AttrOr("data-copy-link", ""); got != "/a/link-1/t/t-1?post=p-2#post-p-2" {
			t.Errorf("token %q: the link to share is %q", token, got)
		}
		if _, hidden := b.Attr("hidden"); !hidden {
			t.Errorf("token %q: the button shows without the script that copies", token)
		}
	}
}
