package web_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/live"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/space"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// accessClock gives the server's access check a clock the test moves past
// its cache period.
func accessClock(env *apptest.Env) *fakeClock {
	clock := &fakeClock{}
	clock.set(time.Now())
	env.App.Web.Access.Now = clock.now
	return clock
}

// pastAccessCache moves the clock past the period a check is reused.
func pastAccessCache(clock *fakeClock) { clock.add(session.DefaultAccessCache + time.Second) }

// staffPages are the pages only staff may open, with learners' names and
// emails on them.
var staffPages = []string{"/participation", "/participation.csv", "/roster", "/grades", "/settings", "/moderation"}

// mustRefuse checks that res is the refusal page carrying want.
func mustRefuse(t *testing.T, what string, res *ltiplatform.Result, status int, want string) {
	t.Helper()
	if res.StatusCode != status || !strings.Contains(res.Body, want) {
		t.Errorf("%s: %d, want %d with %q:\n%.600s", what, res.StatusCode, status, want, res.Body)
	}
}

func threadCount(t *testing.T, env *apptest.Env) int64 { return env.Count(t, "threads") }

// An administrator disabling the platform ends its sessions: once the
// check's cache period has passed, the next request of a session opened
// before is refused with a page that says why, and nothing is posted.
func TestDisablingThePlatformEndsItsSessions(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		clock := accessClock(env)
		alice := join(t, env, apptest.Learner)
		list := linkOf(alice.res.URL)
		alice.follow("[data-testid=ask]")
		askPage := alice.res

		stream := openStream(t, alice.b.HTTPClient(), list+"/events?rt="+url.QueryEscape(alice.rt), "")
		if stream.resp.StatusCode != http.StatusOK {
			t.Fatalf("live stream: %d", stream.resp.StatusCode)
		}
		<-stream.msgs // the retry hint: the handler is streaming

		if err := env.App.Registry.SetStatus(ctx, env.Registered.ID, tenant.StatusDisabled); err != nil {
			t.Fatal(err)
		}
		// Within the cache period the session still reads what it read.
		if res := alice.get(list); res.StatusCode != http.StatusOK {
			t.Fatalf("within the cache period: %d", res.StatusCode)
		}
		pastAccessCache(clock)
		const page = "This course&#39;s LMS connection has been disabled by an administrator"
		mustRefuse(t, "the list", alice.get(list), http.StatusForbidden, page)
		alice.res, alice.page = askPage, doc(t, askPage.Body)
		before := threadCount(t, env)
		res := alice.submit("form.post-form", map[string]string{"kind": "question", "title": "Still there?", "body": "Posting after the platform was disabled."})
		mustRefuse(t, "posting", res, http.StatusForbidden, page)
		if n := threadCount(t, env); n != before {
			t.Errorf("a thread was posted after the platform was disabled: %d then %d", before, n)
		}
		// The stream opened before ends at its next event, which it does not
		// deliver, and a new one is refused.
		sess, err := env.App.Sessions.FromToken(ctx, alice.rt)
		if err != nil {
			t.Fatal(err)
		}
		publishTo(t, env.App.Live, activityTopic(t, env, sess), "post.created", 1)
		streamEnds(t, stream)
		s := openStream(t, alice.b.HTTPClient(), list+"/events?rt="+url.QueryEscape(alice.rt), "")
		if s.resp.StatusCode != http.StatusForbidden {
			t.Errorf("live stream of a disabled platform: %d", s.resp.StatusCode)
		}

		// Enabled again, the same session works again.
		if err := env.App.Registry.SetStatus(ctx, env.Registered.ID, tenant.StatusActive); err != nil {
			t.Fatal(err)
		}
		pastAccessCache(clock)
		if res := alice.get(list); res.StatusCode != http.StatusOK {
			t.Errorf("after enabling the platform again: %d", res.StatusCode)
		}
	})
}

// An instructor relaunched as a learner, or demoted by a roster refresh,
// loses the staff pages (with learners' emails) on the next request of any
// session opened before, and sees the learner's view.
func TestDemotedStaffLoseStaffPages(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		clock := accessClock(env)
		ines := join(t, env, apptest.Instructor)
		tom := join(t, env, apptest.Assistant)
		list := linkOf(ines.res.URL)
		for _, m := range []*member{ines, tom} {
			for _, p := range staffPages {
				if res := m.get(list + p); res.StatusCode != http.StatusOK {
					t.Fatalf("staff page %s before the demotion: %d", p, res.StatusCode)
				}
			}
		}

		// The LMS now says Ines is a learner; she relaunches in another
		// browser. Her first session, still open, is a learner's at once on
		// this replica (the launch recorded her roles), and on any other
		// after the cache period.
		if err := env.Platform.Enroll(apptest.CourseID, apptest.Instructor, lti.RoleLearner); err != nil {
			t.Fatal(err)
		}
		_, res := env.Launch(t, apptest.Instructor, nil)
		mustSeeActivity(t, res, "Ines Okafor", "Learner")
		pastAccessCache(clock)
		for _, p := range staffPages {
			if res := ines.get(list + p); res.StatusCode != http.StatusForbidden || strings.Contains(res.Body, "alice@example.edu") {
				t.Errorf("demoted instructor's old session opened %s: %d", p, res.StatusCode)
			}
		}
		ines.get(list)
		if got := text(ines.page, "[data-testid=user-role]"); got != "Learner" || ines.page.Find("[data-testid=participation-link]").Length() != 0 {
			t.Errorf("demoted instructor's old session shows role %q and the staff links", got)
		}

		// The roster says Tom is a learner now.
		if err := env.Platform.Enroll(apptest.CourseID, apptest.Assistant, lti.RoleLearner); err != nil {
			t.Fatal(err)
		}
		var linkID string
		must(t, env.DB.Raw(`SELECT id FROM resource_links WHERE resource_link_id = ?`, apptest.LinkID).Scan(&linkID).Error)
		if _, err := env.App.Roster.SyncLink(ctx, env.Registered.ID, linkID); err != nil {
			t.Fatal(err)
		}
		pastAccessCache(clock)
		for _, p := range staffPages {
			if res := tom.get(list + p); res.StatusCode != http.StatusForbidden {
				t.Errorf("TA demoted by the roster opened %s: %d", p, res.StatusCode)
			}
		}
		// A form already on his page is refused as well.
		if res := tom.get(list); res.StatusCode != http.StatusOK || text(tom.page, "[data-testid=user-role]") != "Learner" {
			t.Errorf("demoted TA's list: %d as %q", res.StatusCode, text(tom.page, "[data-testid=user-role]"))
		}
	})
}

// A learner the roster marks inactive (dropped from the course) cannot
// read or post any more; a new launch, which the LMS allows only to its
// members, makes them active again.
func TestRosterInactiveLearnerCannotPost(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		clock := accessClock(env)
		alice := join(t, env, apptest.Learner)
		join(t, env, apptest.Instructor)
		list := linkOf(alice.res.URL)
		alice.follow("[data-testid=ask]")
		askPage := alice.res

		env.Platform.SetMemberActive(apptest.CourseID, apptest.Learner, false)
		var linkID string
		must(t, env.DB.Raw(`SELECT id FROM resource_links WHERE resource_link_id = ?`, apptest.LinkID).Scan(&linkID).Error)
		if _, err := env.App.Roster.SyncLink(ctx, env.Registered.ID, linkID); err != nil {
			t.Fatal(err)
		}
		if _, status := userOf(t, env, apptest.Learner); status != "inactive" {
			t.Fatalf("the roster left alice %s", status)
		}
		pastAccessCache(clock)
		const page = "Your enrolment in this course is no longer active"
		before := threadCount(t, env)
		alice.res, alice.page = askPage, doc(t, askPage.Body)
		res := alice.submit("form.post-form", map[string]string{"kind": "question", "title": "Can I still post?", "body": "After being dropped."})
		mustRefuse(t, "posting", res, http.StatusForbidden, page)
		if n := threadCount(t, env); n != before {
			t.Errorf("an inactive learner posted: %d threads, then %d", before, n)
		}
		mustRefuse(t, "the list", alice.get(list), http.StatusForbidden, page)

		// Back in the course: her launch makes her active again.
		env.Platform.SetMemberActive(apptest.CourseID, apptest.Learner, true)
		again := join(t, env, apptest.Learner)
		again.ask("question", "Back again", "Re-enrolled.", nil)
	})
}

// A teaching assistant whose launch names sections sees only their
// sections' cohorts: the switcher lists no other, a switch to another is
// refused, and a session switched before the limit is refused once the
// check's cache period has passed. Instructors switch to any cohort, and a
// TA whose launch names no section too.
func TestTeachingAssistantLimitedToTheirSections(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		clock := accessClock(env)
		addLink(t, env, "link-sections", map[string]string{"canvas_section_ids": "$Canvas.course.sectionIds"})
		sections := func(ids string) map[string]string { return map[string]string{"$Canvas.course.sectionIds": ids} }
		ines := launchAs(t, env, apptest.Instructor, ltiplatform.LaunchRequest{ResourceLinkID: "link-sections", Variables: sections("31,200")})
		ines.configure(map[string]string{"cohort_policy": "section"})
		launchAs(t, env, apptest.Learner, ltiplatform.LaunchRequest{ResourceLinkID: "link-sections", Variables: sections("31")})
		launchAs(t, env, apptest.Learner2, ltiplatform.LaunchRequest{ResourceLinkID: "link-sections", Variables: sections("200")})

		options := func(m *member) []string {
			var out []string
			m.page.Find("[data-testid=cohort-select] option").Each(func(_ int, o *goquery.Selection) {
				out = append(out, strings.SplitN(o.Text(), ":", 2)[0])
			})
			return out
		}
		// The instructor sees and switches to every cohort, her sections or not.
		ines.list()
		if got := options(ines); strings.Join(got, "|") != "Whole course (Workplace Safety Essentials)|Section 200|Section 31" {
			t.Errorf("instructor's switcher: %q", got)
		}
		// A TA without a section is not limited: he switches to section 200.
		tom := launchAs(t, env, apptest.Assistant, ltiplatform.LaunchRequest{ResourceLinkID: "link-sections"})
		if res := tom.switchTo("Section 200"); res.StatusCode != http.StatusOK || !strings.HasPrefix(text(tom.page, "[data-testid=current-cohort]"), "Section 200") {
			t.Fatalf("unlimited TA switching: %d %q", res.StatusCode, text(tom.page, "[data-testid=current-cohort]"))
		}
		switched := tom.res.URL
		otherCohort := ""
		tom.page.Find("[data-testid=cohort-select] option[selected]").Each(func(_ int, o *goquery.Selection) { otherCohort = o.AttrOr("value", "") })

		// Now his launches name section 31 only: he is in section 31 and
		// limited to it.
		limited := launchAs(t, env, apptest.Assistant, ltiplatform.LaunchRequest{ResourceLinkID: "link-sections", Variables: sections("31")})
		if got := text(limited.page, "[data-testid=current-cohort]"); !strings.HasPrefix(got, "Section 31") {
			t.Errorf("limited TA placed in %q", got)
		}
		if got := options(limited); strings.Join(got, "|") != "Section 31" {
			t.Errorf("limited TA's switcher lists %q", got)
		}
		form := limited.page.Find("[data-testid=cohort-switcher] form")
		v := fields(form)
		v.Set("cohort", otherCohort)
		res := limited.visit(limited.b.PostForm(context.Background(), limited.abs(form.AttrOr("action", "")), v))
		mustRefuse(t, "limited TA switching to another section", res, http.StatusForbidden, "cohorts of your own sections")

		// His earlier session, switched to section 200, ends after the
		// cache period.
		pastAccessCache(clock)
		mustRefuse(t, "the TA's session in another section", tom.get(switched), http.StatusForbidden, "You can no longer see this cohort")

		// The instructor still switches anywhere.
		ines.list()
		if res := ines.switchTo("Section 200"); res.StatusCode != http.StatusOK {
			t.Errorf("instructor switching: %d", res.StatusCode)
		}
	})
}

// streamEnds checks that s closes without another event.
func streamEnds(t *testing.T, s *sseStream) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m, ok := <-s.msgs:
			if !ok {
				return
			}
			if m.Event != "" || m.Data != "" {
				t.Fatalf("the stream delivered %+v", m)
			}
		case <-timeout:
			t.Fatal("the stream is still open")
		}
	}
}

// activityTopic is the live topic a session's pages listen to: its
// cohort's space's in its activity.
func activityTopic(t *testing.T, env *apptest.Env, sess session.Session) string {
	t.Helper()
	sp, err := space.NewStore(env.DB).ForCohort(context.Background(), sess.OrgID, sess.CourseID, sess.LinkID, sess.CohortID)
	if err != nil {
		t.Fatal(err)
	}
	return live.SpaceTopic(sp.ID)
}

// A mentor (an LMS observer) reads their cohort's discussion, post-first
// activity or not, without any form to post, reply or vote; a forged form
// is refused and writes nothing; they are never graded, and the staff's
// participation page does not count them as a learner.
func TestMentorsReadWithoutPostingAndAreNeverGraded(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		const maya = "mentor-maya"
		must(t, env.Platform.AddUser(ltiplatform.User{ID: maya, Name: "Maya Osei", Email: "maya@example.edu"}))
		must(t, env.Platform.Enroll(apptest.CourseID, maya, lti.RoleMentor))
		ines := join(t, env, apptest.Instructor)
		alice := join(t, env, apptest.Learner)
		alice.ask("question", "Which gloves for solvents?", "Nitrile or latex?", nil)
		threadURL := alice.res.URL
		linkID := gradeActivity(t, env, "ines")
		ines.postSettings(map[string]string{"post_first": "1", "graded": "1", "min_threads": "1", "min_replies": "1"})

		m := join(t, env, maya)
		if got := text(m.page, "[data-testid=user-role]"); got != "Mentor" {
			t.Errorf("role shown %q", got)
		}
		if titles := threadTitles(m.page); len(titles) != 1 || m.page.Find("[data-testid=post-first]").Length() != 0 {
			t.Errorf("a mentor in a post-first activity sees %v", titles)
		}
		if m.page.Find("[data-testid=observer-notice]").Length() != 1 || m.page.Find("[data-testid=ask]").Length() != 0 ||
			m.page.Find("[data-testid=progress]").Length() != 0 {
			t.Error("the mentor's list offers posting or shows progress")
		}
		m.get(threadURL)
		if m.res.StatusCode != http.StatusOK || m.page.Find("#reply form, [data-testid=vote], [data-testid=follow], [data-testid=flag]").Length() != 0 ||
			m.page.Find("[data-testid=observer-notice]").Length() != 1 {
			t.Errorf("the mentor's thread page: %d, with forms:\n%.2000s", m.res.StatusCode, m.res.Body)
		}

		// Forged forms, with the mentor's own CSRF token.
		mayaSession, err := env.App.Sessions.FromToken(ctx, m.rt)
		if err != nil {
			t.Fatal(err)
		}
		csrf := env.App.Sessions.CSRFToken(mayaSession)
		base, threadID := spaceOf(t, threadURL)
		var postID string
		must(t, env.DB.Raw(`SELECT id FROM posts WHERE thread_id = ?`, threadID).Scan(&postID).Error)
		threads, votes := threadCount(t, env), env.Count(t, "post_votes")
		for path, form := range map[string]url.Values{
			"/threads":                    {"kind": {"question"}, "title": {"Mentor's question"}, "body": {"Posted by a mentor."}},
			"/t/" + threadID + "/replies": {"body": {"A mentor's reply."}},
			"/t/" + threadID + "/p/" + postID + "/vote": {},
		} {
			form.Set("csrf", csrf)
			form.Set("rt", m.rt)
			res, err := m.b.PostForm(ctx, env.App.URL(base+path), form)
			if err != nil {
				t.Fatal(err)
			}
			mustRefuse(t, "mentor posting to "+path, res, http.StatusForbidden, "You follow this discussion as a mentor")
		}
		if threadCount(t, env) != threads || env.Count(t, "post_votes") != votes || env.Count(t, "posts") != 1 {
			t.Error("a mentor's forged form wrote")
		}

		// Never graded, whatever asks for a score; a learner who did
		// nothing yet is.
		join(t, env, apptest.Learner2)
		mayaID, _ := userOf(t, env, maya)
		bobID, _ := userOf(t, env, apptest.Learner2)
		must(t, env.DB.Tx(ctx, func(tx *gorm.DB) error {
			return env.App.Grades.Recompute(ctx, tx, env.Registered.ID, linkID, mayaID, bobID)
		}))
		var scored []string
		must(t, env.DB.Raw(`SELECT user_id FROM grade_scores WHERE link_id = ?`, linkID).Scan(&scored).Error)
		if slices.Contains(scored, mayaID) || !slices.Contains(scored, bobID) {
			t.Errorf("scored %v: the mentor %s is scored, or the learner %s not", scored, mayaID, bobID)
		}
		ines.follow("[data-testid=participation-link]")
		if strings.Contains(ines.page.Find("main").Text(), "Maya Osei") {
			t.Error("the participation page lists the mentor as a learner")
		}
	})
}
