package web_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/markdown"
	"github.com/roundtable-lms/roundtable/internal/web"
)

// tableBomb is the review's post: a header of 1,500 columns whose every
// later line, even a lone "|", became a row of 1,500 cells; at 9,000
// characters its thread page was 22.5 MB.
func tableBomb(size int) string {
	s := "|" + strings.Repeat("a|", 1500) + "\n|" + strings.Repeat("-|", 1500) + "\n" + strings.Repeat("|\n", size)
	return s[:size]
}

// storeBody writes a post's text straight into the database, as posts
// written before the limits are stored.
func storeBody(t testing.TB, env *apptest.Env, postID, body string) {
	t.Helper()
	if err := env.DB.Exec(`UPDATE posts SET body = ? WHERE id = ?`, body, postID).Error; err != nil {
		t.Fatal(err)
	}
}

// postIDOf is the id of the post containing text on m's page.
func (m *member) postIDOf(text string) string {
	m.t.Helper()
	id := postSel(m.page, text).AttrOr("id", "")
	if !strings.HasPrefix(id, "post-") {
		m.t.Fatalf("no post %q on %s", text, m.res.URL)
	}
	return id[len("post-"):]
}

// TestMarkdownBombsAreRefusedAndBounded: the table of the review and deep
// quotes are refused when posted, the text kept in the form with the limit
// named; stored before the limits, they make a thread page at most the
// bound of one post larger than an ordinary one, with a note.
func TestMarkdownBombsAreRefusedAndBounded(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		alice.follow("[data-testid=ask]")
		bomb := tableBomb(9000)
		res := alice.submit("form.post-form", map[string]string{"kind": "question", "title": "A big table", "body": bomb})
		if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(text(alice.page, "#body-error"), "Tables can have at most 30 columns; this post has one with 1500.") {
			t.Errorf("the table bomb: %d %q", res.StatusCode, text(alice.page, "#body-error"))
		}
		if alice.page.Find("#body").Text() != bomb || alice.page.Find("#title").AttrOr("value", "") != "A big table" {
			t.Error("the refused post's text was lost")
		}
		if n := env.Count(t, "threads"); n != 0 {
			t.Fatalf("%d threads stored", n)
		}

		alice.submit("form.post-form", map[string]string{"body": "An ordinary question about tables."})
		threadURL := alice.res.URL
		bob := join(t, env, apptest.Learner2)
		bob.get(threadURL)
		bob.reply("An ordinary answer.")
		deep := strings.Repeat(">", 5000)
		res = bob.reply(deep)
		if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(text(bob.page, "[data-testid=form-error]"), "nested at most 16 deep") ||
			bob.page.Find("#reply-body").Text() != deep {
			t.Errorf("deep quotes: %d %q", res.StatusCode, text(bob.page, "[data-testid=form-error]"))
		}
		bob.get(threadURL)
		ordinary := len(bob.res.Body)

		// Posts stored before the limits: the opening post becomes the
		// 20,000-character table (3 GB to render offline), the reply the
		// deep quotes.
		storeBody(t, env, bob.postIDOf("An ordinary question"), tableBomb(discussion.MaxBody))
		storeBody(t, env, bob.postIDOf("An ordinary answer"), deep)
		bob.get(threadURL)
		if bob.res.StatusCode != http.StatusOK || bob.page.Find("[data-testid=too-large]").Length() != 2 {
			t.Fatalf("the stored bombs: %d, %d notes", bob.res.StatusCode, bob.page.Find("[data-testid=too-large]").Length())
		}
		if grew := len(bob.res.Body) - ordinary; grew > 2*(markdown.MaxHTML+len(markdown.TooLargeNote)) {
			t.Errorf("two stored bombs made the page %d bytes larger; at most %d", grew, 2*(markdown.MaxHTML+len(markdown.TooLargeNote)))
		}
		if bob.page.Find("[data-testid=post-body] td").Length() != 0 || bob.page.Find("blockquote").Length() > markdown.MaxDepth {
			t.Errorf("%d cells, %d quotes rendered", bob.page.Find("td").Length(), bob.page.Find("blockquote").Length())
		}
	})
}

// TestImagesAreLinksAndReadingNotificationsChangesNothing: the image of
// the review, ![x](/a/LINK/notifications), was fetched by every reader's
// browser and marked their notifications seen. It is now a link, an
// outside image too; and a GET of the notifications page marks nothing.
func TestImagesAreLinksAndReadingNotificationsChangesNothing(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		alice.ask("discussion", "Pictures", "Here is a picture.", nil)
		threadURL := alice.res.URL
		base, _ := spaceOf(t, threadURL)
		bob := join(t, env, apptest.Learner2)
		bob.get(threadURL)
		bob.reply("@Alice look: ![x](" + base + "/notifications) and ![a diagram](https://tracker.example/p.gif?who=reader)")
		alice.get(threadURL)
		if got := alice.badge(); got != "Notifications (1)" {
			t.Fatalf("alice's header: %q", got)
		}
		body := postSel(alice.page, "look:").Find("[data-testid=post-body]")
		if body.Find("img").Length() != 0 {
			t.Fatalf("an image reaches the page: %s", alice.res.Body)
		}
		own := body.Find("a.external-image").First()
		outside := body.Find("a.external-image").Last()
		if own.AttrOr("href", "") != base+"/notifications" || own.Text() != "x (external image)" ||
			outside.AttrOr("href", "") != "https://tracker.example/p.gif?who=reader" || outside.Text() != "a diagram (external image)" ||
			outside.AttrOr("target", "") != "_blank" || !strings.Contains(outside.AttrOr("rel", ""), "nofollow") {
			t.Errorf("images as links: %q %q", own.AttrOr("href", ""), outside.AttrOr("href", ""))
		}
		if csp := alice.res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self';") {
			t.Errorf("CSP: %s", csp)
		}
		// What the image did, by hand: a GET of the notifications page.
		r, err := alice.b.Get(context.Background(), alice.abs(base+"/notifications?rt="+alice.rt))
		if err != nil || r.StatusCode != http.StatusOK {
			t.Fatal(err, r)
		}
		alice.get(threadURL)
		if got := alice.badge(); got != "Notifications (1)" {
			t.Errorf("after a GET of the notifications page alice's header says %q", got)
		}
		// The page's script posts its form, as the button does: marked.
		alice.follow("[data-testid=notifications-link]")
		form := alice.page.Find("form[data-mark-seen]")
		if form.Length() != 1 || alice.page.Find("script[src*='mark-seen']").Length() != 1 {
			t.Fatal("the notifications page does not mark what it shows")
		}
		v := fields(form)
		v.Set("quiet", "1")
		r, err = alice.b.PostForm(context.Background(), alice.abs(form.AttrOr("action", "")), v)
		if err != nil || r.StatusCode != http.StatusNoContent {
			t.Fatalf("mark-seen: %v %v", err, r)
		}
		alice.get(threadURL)
		if got := alice.badge(); got != "Notifications" {
			t.Errorf("after marking: %q", got)
		}
		// Refused without the form's token, and no GET marks.
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			req, _ := http.NewRequest(m, alice.abs(base+"/notifications/read?rt="+alice.rt), nil)
			resp, err := alice.b.HTTPClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode < 400 {
				t.Errorf("%s /notifications/read without a form: %d", m, resp.StatusCode)
			}
		}
	})
}

// TestEachVersionRendersOnce: a post's history, the flag form and the
// moderation queue render a text once for every reader (the review saw
// 67 MB and 8 s for each view of a history of three large versions).
func TestEachVersionRendersOnce(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		token := rand.Text()
		versions := []string{"First " + token, "Second **" + token + "**", "Third " + token + " with a [link](https://example.com)", "Now " + token}
		alice := join(t, env, apptest.Learner)
		alice.ask("discussion", "Versions", versions[0], nil)
		threadURL := alice.res.URL
		for _, v := range versions[1:] {
			alice.postActionFollow(token, "edit")
			alice.submit("form.post-form", map[string]string{"body": v})
		}
		bob := join(t, env, apptest.Learner2)
		ines := join(t, env, apptest.Instructor)
		for _, m := range []*member{alice, bob, ines, bob} {
			m.get(threadURL)
			m.postActionFollow(token, "edited")
			if n := m.page.Find("[data-testid=revision]").Length(); n != 3 {
				t.Fatalf("%d earlier versions shown", n)
			}
		}
		bob.get(threadURL)
		bob.flag(token, "other", "please check")
		base, _ := spaceOf(t, threadURL)
		for range 2 {
			ines.get(ines.abs(base + "/moderation"))
			if postURL := ines.page.Find("a[href*='#post-']").First(); !strings.Contains(ines.res.Body, token) || postURL.Length() == 0 {
				t.Fatalf("the queue lacks the flagged post:\n%.2000s", ines.res.Body)
			}
		}
		for _, v := range versions {
			if n := web.MarkdownRenders(v); n != 1 {
				t.Errorf("%q rendered %d times", v, n)
			}
		}
	})
}

// TestRevisionCapThroughTheForm: the edit past MaxRevisions comes back
// with its text and the reason.
func TestRevisionCapThroughTheForm(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		alice.ask("discussion", "Drafts", "draft 0", nil)
		threadURL := alice.res.URL
		post := alice.postIDOf("draft 0")
		for i := 1; i <= discussion.MaxRevisions; i++ {
			env.DB.Exec(`INSERT INTO post_revisions (org_id, id, cohort_id, post_id, body, editor_id, reason, created_at)
				SELECT org_id, ?, cohort_id, id, ?, author_id, 'edit', created_at FROM posts WHERE id = ?`, fmt.Sprintf("rev-%03d", i), fmt.Sprintf("draft %d", i), post)
		}
		alice.get(threadURL)
		alice.postActionFollow("draft 0", "edit")
		res := alice.submit("form.post-form", map[string]string{"body": "draft 51"})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(alice.res.Body, "edited 50 times") || alice.page.Find("#body").Text() != "draft 51" {
			t.Errorf("the 51st edit: %d\n%.2000s", res.StatusCode, alice.res.Body)
		}
	})
}

// TestStaffRedactARevision: staff redact an earlier version from its
// history: the text leaves the database, the history says "Redacted by
// staff on", the log records it; learners have no such form, and their
// post is refused.
func TestStaffRedactARevision(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		alice.ask("discussion", "My locker", "My locker code is 4711, can someone fetch my notes?", nil)
		threadURL := alice.res.URL
		alice.postActionFollow("locker code", "edit")
		alice.submit("form.post-form", map[string]string{"body": "Can someone fetch my notes from my locker?"})
		alice.postActionFollow("fetch my notes", "edited")
		if alice.page.Find("[data-testid=redact-form]").Length() != 0 {
			t.Error("a learner is offered to redact")
		}
		historyURL := alice.res.URL
		ines := join(t, env, apptest.Instructor)
		ines.get(historyURL)
		form := ines.page.Find("[data-testid=redact-form]")
		if form.Length() != 1 {
			t.Fatalf("staff have no redact form:\n%.2000s", ines.res.Body)
		}
		// A learner posting the staff's form is refused.
		alice.get(threadURL)
		v := fields(form)
		v.Set("csrf", fields(alice.page.Find("#reply form")).Get("csrf"))
		v.Set("rt", alice.rt)
		r, _ := alice.b.PostForm(context.Background(), alice.abs(form.AttrOr("action", "")), v)
		if r.StatusCode != http.StatusForbidden {
			t.Errorf("a learner redacts: %d", r.StatusCode)
		}
		ines.submit("[data-testid=redact-form]", map[string]string{"reason": "a locker code"})
		if ines.page.Find("[data-testid=redacted]").Length() != 1 || strings.Contains(ines.res.Body, "4711") ||
			!strings.Contains(text(ines.page, "[data-testid=redacted]"), "Redacted by staff just now") {
			t.Errorf("history after redaction:\n%.2000s", ines.res.Body)
		}
		var stored int64
		env.DB.Raw(`SELECT COUNT(*) FROM post_revisions WHERE body LIKE '%4711%'`).Scan(&stored)
		if stored != 0 {
			t.Error("the redacted text is still in the database")
		}
		alice.get(historyURL)
		if strings.Contains(alice.res.Body, "4711") || alice.page.Find("[data-testid=redacted]").Length() != 1 {
			t.Error("the learner's history still shows the text")
		}
		base, _ := spaceOf(t, threadURL)
		ines.get(ines.abs(base + "/moderation/log"))
		if !strings.Contains(ines.page.Text(), "Redacted an earlier version of a post") || !strings.Contains(ines.page.Text(), "a locker code") {
			t.Errorf("the moderation log:\n%.3000s", ines.page.Find("main").Text())
		}
	})
}

// TestLongThreadPages: a thread of more than 100 replies shows them 100
// to a page, with links between the pages; a link to a post (a
// notification, the redirect after a reply, a quote) opens the page that
// shows it; an earlier page tells live updates that new replies go on the
// last.
func TestLongThreadPages(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		alice := join(t, env, apptest.Learner)
		alice.ask("discussion", "A long thread", "Tell me everything.", nil)
		threadURL := alice.res.URL
		_, threadID := spaceOf(t, threadURL)
		bob := join(t, env, apptest.Learner2)
		var v discussion.Viewer
		if err := env.DB.Raw(`SELECT t.space_id, t.org_id, t.course_id, t.link_id, t.cohort_id, u.id FROM threads t JOIN users u ON u.org_id = t.org_id AND u.name = 'Bob Lindqvist'
			WHERE t.id = ?`, threadID).Row().Scan(&v.SpaceID, &v.OrgID, &v.CourseID, &v.LinkID, &v.CohortID, &v.UserID); err != nil {
			t.Fatal(err)
		}
		s := discussion.NewStore(env.DB)
		s.PostsPerMinute = 0
		const replies = 2*discussion.RepliesPerPage + 30
		ids := make([]string, replies)
		for i := range ids {
			var err error
			if ids[i], err = s.Reply(ctx, v, threadID, discussion.ReplyInput{Body: fmt.Sprintf("Reply number %d.", i)}); err != nil {
				t.Fatal(err)
			}
		}
		bob.get(threadURL)
		pages := bob.page.Find("nav[data-testid=reply-pages]")
		section := bob.page.Find("section[aria-labelledby=replies-heading]")
		if n := section.Find(".reply").Length(); n != discussion.RepliesPerPage || text(bob.page, "#replies-heading") != "230 replies" ||
			pages.Length() != 2 || pages.First().Find("a[aria-current=page]").Text() != "1" || pages.First().Find("a").Length() != 4 {
			t.Fatalf("page 1: %d replies, heading %q, %d page links", n, text(bob.page, "#replies-heading"), pages.First().Find("a").Length())
		}
		if _, ok := section.Attr("data-earlier-page"); !ok || bob.page.Find("[data-testid=post].opening").Length() != 1 {
			t.Error("page 1 does not say it is an earlier page, or lacks the opening post")
		}
		bob.follow("[data-testid=next-page]")
		if first := bob.page.Find(".reply [data-testid=post]").First().AttrOr("id", ""); first != "post-"+ids[100] || !strings.Contains(bob.res.URL, "page=2") {
			t.Errorf("page 2 starts with %s at %s", first, bob.res.URL)
		}
		// Quoting a reply of page 2 stays on page 2, the quote in the box.
		bob.postActionFollow("Reply number 150.", "quote")
		if !strings.Contains(bob.page.Find("#reply-body").Text(), "Reply number 150.") || bob.page.Find("#post-"+ids[150]).Length() != 1 {
			t.Error("quoting a reply of page 2")
		}
		// The newest notification links to the last reply, on page 3.
		alice.follow("[data-testid=notifications-link]")
		alice.follow("[data-testid=notification-link]")
		if alice.page.Find("#post-"+ids[replies-1]).Length() != 1 || alice.page.Find("nav[data-testid=reply-pages] a[aria-current=page]").First().Text() != "3" {
			t.Errorf("the notification opened %s", alice.res.URL)
		}
		if _, earlier := alice.page.Find("section[aria-labelledby=replies-heading]").Attr("data-earlier-page"); earlier {
			t.Error("the last page says it is an earlier one")
		}
		// A reply from page 1 lands on the last page, at the new post.
		alice.get(threadURL)
		res := alice.reply("The very last word.")
		if res.StatusCode != http.StatusOK || postSel(alice.page, "The very last word.").Length() != 1 || !strings.Contains(res.URL, "post=") {
			t.Errorf("after replying: %d at %s", res.StatusCode, res.URL)
		}
		// Bob, who wrote 230 replies this minute, is refused: the form comes
		// back with his text, on the last page, where replies go.
		bob.get(threadURL)
		if res := bob.reply("One more."); res.StatusCode != http.StatusTooManyRequests || bob.page.Find("#reply-body").Text() != "One more." ||
			postSel(bob.page, "The very last word.").Length() != 1 {
			t.Errorf("a refused reply: %d", res.StatusCode)
		}
		bob.get(withQuery(t, threadURL, "page", "99"))
		if bob.page.Find("#post-"+ids[replies-1]).Length() != 1 {
			t.Error("a page past the last does not show the last")
		}
	})
}
