package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// raw sends a request in the person's session as a script would, and
// returns the status, the response's body and its Content-Type.
func (m *member) raw(method, rawURL, accept string, body io.Reader, contentType string) (int, string, string) {
	m.t.Helper()
	req, err := http.NewRequest(method, m.abs(rawURL), body)
	if err != nil {
		m.t.Fatal(err)
	}
	req.Header.Set("Accept", accept)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := m.b.HTTPClient().Do(req)
	if err != nil {
		m.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header.Get("Content-Type")
}

// Preview without a script: the form comes back with the text kept and
// rendered as the post would be (sanitised), nothing stored, and no post
// of the person's limit spent.
func TestComposePreviewWithoutScript(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		alice.follow("[data-testid=ask]")
		text := "Is **x** safe? <script>alert(1)</script> <img src=x onerror=alert(2)>"
		res := alice.submit("form.post-form", map[string]string{"kind": "question", "title": "A preview", "body": text, "tags": "safety", "preview": "1"})
		if res.StatusCode != http.StatusOK {
			t.Fatalf("preview: %d %.500s", res.StatusCode, res.Body)
		}
		if got := text2(alice, "[data-testid=preview-body] strong"); got != "x" {
			t.Errorf("preview of **x**: %q", got)
		}
		html, _ := alice.page.Find("[data-testid=preview-body]").Html()
		if low := strings.ToLower(html); strings.Contains(low, "<script") || strings.Contains(low, "onerror") {
			t.Errorf("the preview carries a script: %s", html)
		}
		if alice.page.Find("#body").Text() != text || alice.page.Find("#title").AttrOr("value", "") != "A preview" || alice.page.Find("#tags").AttrOr("value", "") != "safety" {
			t.Error("the form lost what was typed")
		}
		if n := env.Count(t, "threads"); n != 0 {
			t.Errorf("a preview stored %d threads", n)
		}
		// Posting from the previewed form.
		res = alice.submit("form.post-form", map[string]string{"preview": ""})
		if res.StatusCode != http.StatusOK || env.Count(t, "threads") != 1 {
			t.Fatalf("post after preview: %d", res.StatusCode)
		}
		threadURL := alice.res.URL

		// Replies: more previews than the posts a minute allows, then a post.
		for i := 0; i < 8; i++ {
			alice.get(threadURL)
			res = alice.submit("#reply form", map[string]string{"body": "Try **bold** now", "preview": "1"})
			if res.StatusCode != http.StatusOK || text2(alice, "#reply [data-testid=preview-body] strong") != "bold" || alice.page.Find("#reply-body").Text() != "Try **bold** now" {
				t.Fatalf("reply preview %d: %d %q", i, res.StatusCode, text2(alice, "[data-testid=preview-body]"))
			}
		}
		if n := env.Count(t, "posts"); n != 1 {
			t.Errorf("previews stored %d posts", n)
		}
		res = alice.submit("#reply form", map[string]string{"preview": ""})
		if res.StatusCode != http.StatusOK || env.Count(t, "posts") != 2 {
			t.Errorf("reply after previews: %d, %d posts", res.StatusCode, env.Count(t, "posts"))
		}

		// Edits.
		alice.follow("[data-testid=edit]")
		res = alice.submit("form.post-form", map[string]string{"body": "Now _edited_", "preview": "1"})
		if res.StatusCode != http.StatusOK || text2(alice, "[data-testid=preview-body] em") != "edited" || alice.page.Find("#body").Text() != "Now _edited_" {
			t.Errorf("edit preview: %d %q", res.StatusCode, text2(alice, "[data-testid=preview-body]"))
		}
		var revisions int64
		env.DB.Raw(`SELECT COUNT(*) FROM post_revisions`).Scan(&revisions)
		if revisions != 0 {
			t.Errorf("an edit's preview kept %d revisions", revisions)
		}
	})
}

func text2(m *member, sel string) string { return strings.TrimSpace(m.page.Find(sel).First().Text()) }

// The preview endpoint renders as posts do, for the session's own forms
// (CSRF), bounded in size and in rate.
func TestPreviewEndpointLimits(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		alice.follow("[data-testid=ask]")
		box := alice.page.Find("textarea[data-composer]")
		previewURL := box.AttrOr("data-preview-url", "")
		csrf := fields(alice.page.Find("form.post-form")).Get("csrf")
		if previewURL == "" || csrf == "" {
			t.Fatalf("no preview URL %q or token", previewURL)
		}
		form := func(v url.Values) io.Reader { return strings.NewReader(v.Encode()) }
		const formType = "application/x-www-form-urlencoded"
		status, body, _ := alice.raw(http.MethodPost, previewURL, "text/html", form(url.Values{"csrf": {csrf}, "body": {"**x** <script>alert(1)</script>"}}), formType)
		if status != http.StatusOK || !strings.Contains(body, "<strong>x</strong>") || strings.Contains(body, "<script") {
			t.Errorf("preview: %d %q", status, body)
		}
		if status, _, _ = alice.raw(http.MethodPost, previewURL, "text/html", form(url.Values{"body": {"**x**"}}), formType); status != http.StatusForbidden {
			t.Errorf("without the CSRF token: %d, want 403", status)
		}
		big := url.Values{"csrf": {csrf}, "body": {strings.Repeat("é", 300_000)}}
		status, body, ctype := alice.raw(http.MethodPost, previewURL, "application/json", form(big), formType)
		var problem struct{ Status int }
		if status != http.StatusRequestEntityTooLarge || !strings.Contains(ctype, "json") || json.Unmarshal([]byte(body), &problem) != nil || problem.Status != 413 {
			t.Errorf("oversized: %d %s %.200s", status, ctype, body)
		}
		long := url.Values{"csrf": {csrf}, "body": {strings.Repeat("a", 20_001)}}
		if status, _, _ = alice.raw(http.MethodPost, previewURL, "application/json", form(long), formType); status != http.StatusRequestEntityTooLarge {
			t.Errorf("longer than a post: %d, want 413", status)
		}
		limited := false
		for i := 0; i < 70 && !limited; i++ {
			status, _, _ = alice.raw(http.MethodPost, previewURL, "text/html", form(url.Values{"csrf": {csrf}, "body": {"hi"}}), formType)
			limited = status == http.StatusTooManyRequests
		}
		if !limited {
			t.Error("previews are not rate limited")
		}
	})
}

// Mention completion lists the members of the person's cohort, never
// another cohort's; tag completion the tags of its threads.
func TestMentionAndTagCompletionStayInTheCohort(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		join(t, env, apptest.Learner2)
		alice.ask("question", "Gloves for solvents?", "Which ones?", map[string]string{"tags": "safety solvents"})
		// The thread's reply box completes too.
		completeURL := alice.page.Find("textarea[data-composer]").AttrOr("data-complete-url", "")
		if completeURL == "" {
			t.Fatal("no completion URL")
		}
		complete := func(m *member, u, what, q string) []string {
			t.Helper()
			sep := "?"
			if strings.Contains(u, "?") {
				sep = "&"
			}
			status, body, _ := m.raw(http.MethodGet, u+sep+"for="+what+"&q="+url.QueryEscape(q), "application/json", nil, "")
			var got struct {
				Items []struct{ Label, Value string }
			}
			if status != http.StatusOK || json.Unmarshal([]byte(body), &got) != nil {
				t.Fatalf("complete %s %q: %d %.300s", what, q, status, body)
			}
			var out []string
			for _, it := range got.Items {
				out = append(out, it.Label+"="+it.Value)
			}
			return out
		}
		if got := complete(alice, completeURL, "mention", "bo"); strings.Join(got, ",") != "Bob Lindqvist=@bob.lindqvist" {
			t.Errorf("@bo: %v", got)
		}
		if got := complete(alice, completeURL, "mention", "lind"); strings.Join(got, ",") != "Bob Lindqvist=@bob.lindqvist" {
			t.Errorf("@lind (a family name): %v", got)
		}
		if got := complete(alice, completeURL, "tag", "sa"); strings.Join(got, ",") != "#safety=safety" {
			t.Errorf("#sa: %v", got)
		}

		// A learner of another course's activity.
		must(t, env.Platform.AddCourse(ltiplatform.Course{ID: "course-202", Label: "CHEM-202", Title: "Chemistry"}))
		must(t, env.Platform.AddUser(ltiplatform.User{ID: "learner-zed", Name: "Zed Other", GivenName: "Zed", Email: "zed@example.edu"}))
		must(t, env.Platform.Enroll("course-202", "learner-zed", lti.RoleLearner))
		must(t, env.Platform.AddResourceLink(ltiplatform.ResourceLink{ID: "link-chem", CourseID: "course-202", Title: "Chemistry forum"}))
		zb := ltiplatform.NewBrowser()
		res, err := zb.Launch(context.Background(), env.Platform, ltiplatform.LaunchRequest{ClientID: apptest.ClientID, UserID: "learner-zed", CourseID: "course-202", ResourceLinkID: "link-chem"})
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("zed's launch: %v %d", err, res.StatusCode)
		}
		zed := &member{t: t, env: env, b: zb, res: res, page: doc(t, res.Body)}
		zed.follow("[data-testid=ask]")
		zedURL := zed.page.Find("textarea[data-composer]").AttrOr("data-complete-url", "")
		for _, q := range []string{"al", "bo", "a"} {
			if got := complete(zed, zedURL, "mention", q); len(got) != 0 {
				t.Errorf("another course's learner completes @%s to %v", q, got)
			}
		}
		if got := complete(zed, zedURL, "tag", "s"); len(got) != 0 {
			t.Errorf("another course's learner completes #s to %v", got)
		}
		if got := complete(alice, completeURL, "mention", "ze"); len(got) != 0 {
			t.Errorf("@ze lists another course's learner: %v", got)
		}
	})
}

// Reply on a post opens the form under it (?reply=), and the reply is
// posted as an answer to that post; a reply to a nested reply answers
// its parent, the form under the nested one.
func TestReplyFormUnderThePostItAnswers(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		alice.ask("question", "Where is the eyewash?", "I could not find it.", nil)
		threadURL := alice.res.URL
		bob := join(t, env, apptest.Learner2)
		bob.get(threadURL)
		bob.reply("Next to the door.")
		alice.get(threadURL)
		bobPost := postSel(alice.page, "Next to the door.").AttrOr("id", "")[len("post-"):]

		alice.postActionFollow("Next to the door.", "reply")
		if !strings.Contains(alice.res.URL, "reply="+bobPost) {
			t.Errorf("the Reply link opened %s", alice.res.URL)
		}
		form := alice.page.Find("#reply-" + bobPost + " #reply form")
		if form.Length() != 1 || form.Find("input[name=parent_id]").AttrOr("value", "") != bobPost {
			t.Fatalf("no reply form under the post answered:\n%.3000s", alice.res.Body)
		}
		if alice.page.Find("#post-"+bobPost).Next().AttrOr("id", "") != "reply-"+bobPost {
			t.Error("the form is not right under the post")
		}
		if alice.page.Find("[data-reply-home] #reply").Length() != 0 || alice.page.Find("[data-testid=reply-to-thread]").Length() != 1 {
			t.Error("the end of the thread still holds the form, or no link to answer the thread")
		}
		if res := alice.submit("#reply form", map[string]string{"body": "Thanks, found it."}); res.StatusCode != http.StatusOK {
			t.Fatalf("reply: %d", res.StatusCode)
		}
		child := alice.page.Find("#post-" + bobPost).Parent().Find(".children [data-testid=post]")
		if child.Length() != 1 || !strings.Contains(child.Text(), "Thanks, found it.") {
			t.Fatalf("the reply is not under the post it answers")
		}
		childID := child.AttrOr("id", "")[len("post-"):]

		// A reply to the nested reply: the form under it, answering its parent.
		bob.get(threadURL)
		bob.postActionFollow("Thanks, found it.", "reply")
		form = bob.page.Find("#reply-" + childID + " #reply form")
		if form.Length() != 1 || form.Find("input[name=parent_id]").AttrOr("value", "") != bobPost {
			t.Fatalf("reply to a nested reply: form %d, parent %q", form.Length(), form.Find("input[name=parent_id]").AttrOr("value", ""))
		}
		// Refused (empty), the form comes back in the same place.
		if res := bob.submit("#reply form", map[string]string{"body": ""}); res.StatusCode != http.StatusUnprocessableEntity ||
			bob.page.Find("#reply-"+childID+" #reply [data-testid=form-error]").Length() != 1 {
			t.Errorf("refused reply: %d, form under the post %d", res.StatusCode, bob.page.Find("#reply-"+childID+" #reply").Length())
		}
		if res := bob.submit("#reply form", map[string]string{"body": "Good."}); res.StatusCode != http.StatusOK ||
			bob.page.Find("#post-"+bobPost).Parent().Find(".children [data-testid=post]").Length() != 2 {
			t.Errorf("nested reply: %d", res.StatusCode)
		}
	})
}

// In a space the session reached, the composer previews and completes
// in that space, by the space's own routes.
func TestComposerInAReachedSpace(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		addLink(t, env, "link-second", nil)
		ines := launchAs(t, env, apptest.Instructor, ltiplatform.LaunchRequest{ResourceLinkID: "link-second"})
		ines.visit(pastSetup(t, ines.b, ines.res), nil)
		second := linkIDOf(t, ines.res.URL)
		ines.ask("discussion", "Welcome to the second activity", "Say hello here.", map[string]string{"tags": "welcome"})

		alice := join(t, env, apptest.Learner)
		reached := "/a/" + linkIDOf(t, alice.res.URL) + "/s/" + cohortSpace(t, env, second, "course")
		alice.visit(alice.b.Get(context.Background(), env.App.URL(reached)))
		alice.follow("[data-testid=thread-link]")
		box := alice.page.Find("#reply-body")
		previewURL, completeURL := box.AttrOr("data-preview-url", ""), box.AttrOr("data-complete-url", "")
		if pathOf(t, alice.abs(previewURL)) != reached+"/preview" || pathOf(t, alice.abs(completeURL)) != reached+"/complete" {
			t.Fatalf("the composer calls %q and %q", previewURL, completeURL)
		}
		v := url.Values{"csrf": {fields(alice.page.Find("#reply form")).Get("csrf")}, "body": {"**hi**"}}
		if status, body, _ := alice.raw(http.MethodPost, previewURL, "text/html", strings.NewReader(v.Encode()), "application/x-www-form-urlencoded"); status != http.StatusOK || !strings.Contains(body, "<strong>hi</strong>") {
			t.Errorf("preview in the reached space: %d %q", status, body)
		}
		if status, body, _ := alice.raw(http.MethodGet, completeURL+"?for=tag&q=wel", "application/json", nil, ""); status != http.StatusOK || !strings.Contains(body, `"value":"welcome"`) {
			t.Errorf("tags in the reached space: %d %s", status, body)
		}
		// Her own activity's threads have no such tag.
		alice.visit(alice.b.Get(context.Background(), env.App.URL("/a/"+linkIDOf(t, alice.res.URL))))
		alice.follow("[data-testid=ask]")
		own := alice.page.Find("#body").AttrOr("data-complete-url", "")
		if status, body, _ := alice.raw(http.MethodGet, own+"?for=tag&q=wel", "application/json", nil, ""); status != http.StatusOK || strings.Contains(body, "welcome") {
			t.Errorf("tags in her own activity: %d %s", status, body)
		}
	})
}
