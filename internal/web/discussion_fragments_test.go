package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/roundtable-lms/roundtable/internal/activity"
	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// sessionTokens matches the session tokens in links and hidden fields:
// each response hands out a fresh one.
var sessionTokens = regexp.MustCompile(`(rt=|name="rt" value=")[A-Za-z0-9_\-.%]+`)

func outer(t *testing.T, s *goquery.Selection) string {
	t.Helper()
	h, err := goquery.OuterHtml(s)
	if err != nil {
		t.Fatal(err)
	}
	return sessionTokens.ReplaceAllString(h, "${1}TOKEN")
}

// fragment GETs a fragment path in the member's session.
func (m *member) fragment(path string) *ltiplatform.Result {
	m.t.Helper()
	res, err := m.b.Get(context.Background(), m.abs(path+"?rt="+url.QueryEscape(m.rt)))
	if err != nil {
		m.t.Fatal(err)
	}
	return res
}

// A post fragment is the post exactly as the thread page shows it to the
// same person (anonymity, hidden and removed placeholders, accepted and
// endorsed markers, votes, staff controls, the forms' tokens), and a row
// fragment the thread exactly as the list shows it.
func TestFragmentsAreWhatThePagesShow(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		bob := join(t, env, apptest.Learner2)
		ines := join(t, env, apptest.Instructor)
		alice.ask("question", "Which gloves for solvents?", "Nitrile or latex?", map[string]string{"tags": "ppe"})
		threadURL := alice.res.URL
		base, threadID := spaceOf(t, threadURL)
		bob.get(threadURL)
		bob.submit("#reply form", map[string]string{"body": "Nitrile, always.", "anonymous": "1"})
		bob.reply("Cheap gloves at spam.example")
		alice.get(threadURL)
		alice.postActionFollow("Nitrile, always.", "quote")
		alice.reply("Thanks, even for acetone?")
		alice.reply("Never mind this one")
		alice.postAction("Never mind this one", "delete")
		alice.postAction("Nitrile, always.", "accept")
		alice.flag("Cheap gloves", "spam", "")
		ines.get(threadURL)
		ines.reply("Check the chart on the cabinet door.")
		ines.postAction("Nitrile, always.", "endorse")
		ines.postAction("Cheap gloves", "hide")
		bob.get(threadURL)
		bob.postAction("Check the chart", "vote")

		// A second thread, marked a duplicate, and a third one hidden.
		bob.get(bob.abs(base))
		bob.ask("question", "Gloves for acetone?", "Same question really.", nil)
		_, dupID := spaceOf(t, bob.res.URL)
		ines.get(bob.res.URL)
		ines.follow("[data-testid=mark-duplicate-link]")
		ines.submit("[data-testid=duplicate-form]", map[string]string{"of": threadID})
		bob.get(bob.abs(base))
		bob.ask("discussion", "Off topic chatter", "Anyone for football?", nil)
		_, hiddenID := spaceOf(t, bob.res.URL)
		ines.get(bob.res.URL)
		ines.postAction("Anyone for football?", "hide")

		for _, m := range []*member{alice, bob, ines} {
			// The first visit marks posts seen; the second shows what a
			// fragment shows (a fragment records no visit).
			m.get(threadURL)
			m.get(threadURL)
			posts := m.page.Find("[data-testid=post]")
			if posts.Length() != 6 {
				t.Fatalf("%s sees %d posts, want 6", m.res.URL, posts.Length())
			}
			posts.Each(func(_ int, p *goquery.Selection) {
				id := strings.TrimPrefix(p.AttrOr("id", ""), "post-")
				res := m.fragment(base + "/t/" + threadID + "/p/" + id + "/fragment")
				if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" ||
					!strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
					t.Fatalf("fragment of %s: %d %v", id, res.StatusCode, res.Header)
				}
				f := doc(t, res.Body)
				got := f.Find("[data-testid=post]")
				if got.Length() != 1 {
					t.Fatalf("fragment of %s holds %d posts:\n%s", id, got.Length(), res.Body)
				}
				if want := outer(t, p); outer(t, got) != want {
					t.Errorf("post %s alone:\n%s\non the page:\n%s", id, outer(t, got), want)
				}
				// Where it goes: a top-level reply comes in its reply
				// block; a nested one names its parent.
				parent := p.Parent()
				switch {
				case p.HasClass("opening"):
					if f.Find(".reply").Length() != 0 || res.Header.Get("Roundtable-Post-Parent") != "" {
						t.Errorf("the opening post's fragment: %s %v", res.Body, res.Header)
					}
				case parent.HasClass("children"):
					want := strings.TrimPrefix(parent.Parent().Find("[data-testid=post]").First().AttrOr("id", ""), "post-")
					if got := res.Header.Get("Roundtable-Post-Parent"); got != want || f.Find(".reply").Length() != 0 {
						t.Errorf("nested reply %s: parent %q, want %q", id, got, want)
					}
				default:
					if !got.Parent().Is("div.reply") || res.Header.Get("Roundtable-Post-Parent") != "" {
						t.Errorf("top-level reply %s: %s", id, res.Body)
					}
				}
			})

			m.get(m.abs(base))
			rows := m.page.Find("[data-testid=thread]")
			want := 2
			if m == ines {
				want = 3
			}
			if rows.Length() != want {
				t.Fatalf("%s sees %d threads, want %d", m.res.URL, rows.Length(), want)
			}
			rows.Each(func(_ int, r *goquery.Selection) {
				id := r.AttrOr("data-thread-id", "")
				res := m.fragment(base + "/t/" + id + "/row")
				got := doc(t, res.Body).Find("[data-testid=thread]")
				if res.StatusCode != http.StatusOK || got.Length() != 1 {
					t.Fatalf("row of %s: %d\n%s", id, res.StatusCode, res.Body)
				}
				if outer(t, got) != outer(t, r) {
					t.Errorf("thread %s alone:\n%s\nin the list:\n%s", id, outer(t, got), outer(t, r))
				}
			})
		}

		// What the comparisons covered.
		alice.get(threadURL)
		if p := postSel(alice.page, "Nitrile, always."); p.Find("[data-testid=author]").Text() != "Anonymous learner" ||
			p.Find("[data-testid=accepted]").Length() != 1 || p.Find("[data-testid=endorsed]").Length() != 1 {
			t.Errorf("the anonymous, accepted, endorsed answer to its asker:\n%s", outer(t, p))
		}
		if alice.page.Find("[data-testid=hidden-placeholder]").Length() != 1 || alice.page.Find("[data-testid=removed]").Length() != 1 {
			t.Error("the learner's page lacks the hidden and removed placeholders")
		}
		ines.get(ines.abs(base))
		if ines.page.Find(`[data-thread-id="`+dupID+`"] [data-testid=duplicate-of]`).Length() != 1 ||
			ines.page.Find(`[data-thread-id="`+hiddenID+`"] [data-testid=hidden]`).Length() != 1 {
			t.Error("staff's list lacks the duplicate and hidden badges")
		}

		// A thread hidden from learners is no row of theirs.
		if res := bob.fragment(base + "/t/" + hiddenID + "/row"); res.StatusCode != http.StatusNotFound || strings.Contains(res.Body, "football") {
			t.Errorf("a hidden thread's row to a learner: %d", res.StatusCode)
		}
		// A post of another thread, or none: not found.
		opening := strings.TrimPrefix(alice.page.Find("[data-testid=post]").First().AttrOr("id", ""), "post-")
		if res := alice.fragment(base + "/t/" + dupID + "/p/" + opening + "/fragment"); res.StatusCode != http.StatusNotFound {
			t.Errorf("a post under another thread: %d", res.StatusCode)
		}
		// The session cookie does as well as the token, and then no token
		// is handed out.
		res, err := alice.b.Get(context.Background(), alice.abs(base+"/t/"+threadID+"/p/"+opening+"/fragment"))
		if err != nil || res.StatusCode != http.StatusOK || strings.Contains(res.Body, "rt=") || strings.Contains(res.Body, `name="rt"`) {
			t.Errorf("with the cookie: %v %d", err, res.StatusCode)
		}

		// Another course's learner, guessing the ids through their own
		// activity, finds nothing; through this one they have no session.
		must(t, env.Platform.AddCourse(ltiplatform.Course{ID: "course-202", Label: "CHEM-202", Title: "Chemistry"}))
		must(t, env.Platform.AddUser(ltiplatform.User{ID: "learner-zed", Name: "Zed Other", Email: "zed@example.edu"}))
		must(t, env.Platform.Enroll("course-202", "learner-zed", lti.RoleLearner))
		must(t, env.Platform.AddResourceLink(ltiplatform.ResourceLink{ID: "link-chem", CourseID: "course-202", Title: "Chemistry forum"}))
		zb := ltiplatform.NewBrowser()
		zres, err := zb.Launch(context.Background(), env.Platform, ltiplatform.LaunchRequest{ClientID: apptest.ClientID, UserID: "learner-zed", CourseID: "course-202", ResourceLinkID: "link-chem"})
		if err != nil || zres.StatusCode != 200 {
			t.Fatalf("zed's launch: %v %d", err, zres.StatusCode)
		}
		zu, _ := url.Parse(zres.URL)
		zed := &member{rt: zu.Query().Get("rt"), t: t, env: env, b: zb, res: zres, page: doc(t, zres.Body)}
		zedBase := "/a/" + strings.Split(zu.Path, "/")[2]
		for _, p := range []string{"/t/" + threadID + "/p/" + opening + "/fragment", "/t/" + threadID + "/row"} {
			if r := zed.fragment(zedBase + p); r.StatusCode != http.StatusNotFound || strings.Contains(r.Body, "gloves") {
				t.Errorf("GET %s through zed's activity: %d", p, r.StatusCode)
			}
			if r := zed.fragment(base + p); r.StatusCode != http.StatusUnauthorized || strings.Contains(r.Body, "gloves") {
				t.Errorf("GET %s with zed's session: %d", p, r.StatusCode)
			}
		}
	})
}

// In a post-first activity a learner who has not started a thread gets no
// fragment of another's, as the pages refuse them; once they have, they do.
func TestFragmentsKeepPostFirst(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		alice.ask("question", "Which gloves for solvents?", "Nitrile or latex?", nil)
		threadURL := alice.res.URL
		base, threadID := spaceOf(t, threadURL)
		opening := strings.TrimPrefix(alice.page.Find("[data-testid=post]").First().AttrOr("id", ""), "post-")
		bob := join(t, env, apptest.Learner2)
		sess, err := env.App.Sessions.FromToken(context.Background(), bob.rt)
		if err != nil {
			t.Fatal(err)
		}
		st := course.DefaultSettings(sess.OrgID, sess.LinkID)
		st.Options = activity.DiscussionOptions{AllowAnonymous: true, PostFirst: true, Credit: activity.CreditFull}
		must(t, env.App.Courses.SaveSettings(context.Background(), env.DB.DB, st))

		paths := []string{base + "/t/" + threadID + "/p/" + opening + "/fragment", base + "/t/" + threadID + "/row"}
		for _, p := range paths {
			if r := bob.fragment(p); r.StatusCode != http.StatusNotFound || strings.Contains(r.Body, "gloves") || strings.Contains(r.Body, "Nitrile") {
				t.Errorf("GET %s before posting first: %d", p, r.StatusCode)
			}
			if r := alice.fragment(p); r.StatusCode != http.StatusOK {
				t.Errorf("GET %s by the author: %d", p, r.StatusCode)
			}
		}
		bob.get(bob.abs(base))
		bob.ask("discussion", "My own take", "Gloves matter.", nil)
		for _, p := range paths {
			if r := bob.fragment(p); r.StatusCode != http.StatusOK || !(strings.Contains(r.Body, "gloves") || strings.Contains(r.Body, "Nitrile")) {
				t.Errorf("GET %s after posting first: %d", p, r.StatusCode)
			}
		}
	})
}
