package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// linkIDOf is the activity id in a page's address (/a/<link>/...).
func linkIDOf(t *testing.T, rawURL string) string {
	t.Helper()
	parts := strings.Split(pathOf(t, rawURL), "/")
	if len(parts) < 3 || parts[1] != "a" {
		t.Fatalf("not an activity page: %s", rawURL)
	}
	return parts[2]
}

// cohortSpace is the id of the space of activity link's cohort with key
// cohortKey.
func cohortSpace(t *testing.T, env *apptest.Env, link, cohortKey string) string {
	t.Helper()
	var ids []string
	if err := env.DB.Raw(`SELECT s.id FROM spaces s JOIN cohorts co ON co.id = s.cohort_id WHERE s.link_id = ? AND co.cohort_key = ?`,
		link, cohortKey).Scan(&ids).Error; err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 {
		t.Fatalf("%d spaces of cohort %s of activity %s", len(ids), cohortKey, link)
	}
	return ids[0]
}

// From her session of one activity, a learner reads and posts in the
// discussion of another activity of her course, without launching it,
// with and without cookies: what she writes lands in that activity's
// space, her session stays her activity's, and the activity's own pages in
// the header lead back to it.
func TestSessionReachesAnotherSpaceOfItsCourse(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		addLink(t, env, "link-second", nil)
		ines := launchAs(t, env, apptest.Instructor, ltiplatform.LaunchRequest{ResourceLinkID: "link-second"})
		ines.visit(pastSetup(t, ines.b, ines.res), nil)
		second := linkIDOf(t, ines.res.URL)
		ines.ask("discussion", "Welcome to the second activity", "Say hello here.", nil)
		secondThread := pathOf(t, ines.res.URL)

		alice := join(t, env, apptest.Learner)
		own := linkIDOf(t, alice.res.URL)
		reached := "/a/" + own + "/s/" + cohortSpace(t, env, second, "course")

		// With cookies.
		alice.visit(alice.b.Get(context.Background(), env.App.URL(reached)))
		if alice.res.StatusCode != http.StatusOK {
			t.Fatalf("the other activity's space: %d\n%.800s", alice.res.StatusCode, alice.res.Body)
		}
		if got := text(alice.page, "h1"); got != "Activity link-second" {
			t.Errorf("the reached space's heading %q", got)
		}
		if got := text(alice.page, "[data-testid=user-role]"); got != "Learner" {
			t.Errorf("role in the reached space %q", got)
		}
		if got := threadTitles(alice.page); len(got) != 1 || got[0] != "Welcome to the second activity" {
			t.Errorf("threads of the reached space: %q", got)
		}
		mustCarryNoToken(t, alice)
		alice.follow("[data-testid=thread-link]")
		if !strings.HasPrefix(pathOf(t, alice.res.URL), reached+"/t/") {
			t.Errorf("a thread of the reached space opened at %s", alice.res.URL)
		}
		alice.reply("Hello from the first activity.")
		if alice.res.StatusCode != http.StatusOK || postSel(alice.page, "Hello from the first activity.").Length() != 1 ||
			!strings.HasPrefix(pathOf(t, alice.res.URL), reached+"/t/") {
			t.Fatalf("reply in the reached space: %d at %s", alice.res.StatusCode, alice.res.URL)
		}
		mustCarryNoToken(t, alice)
		alice.visit(alice.b.Get(context.Background(), env.App.URL(reached)))
		alice.ask("question", "Asked from afar", "Does this land in the second activity?", nil)
		if !strings.HasPrefix(pathOf(t, alice.res.URL), reached+"/t/") {
			t.Errorf("a thread posted in the reached space ended at %s", alice.res.URL)
		}

		// What she wrote is the second activity's, as its own people see it.
		ines.get(env.App.URL(secondThread))
		if postSel(ines.page, "Hello from the first activity.").Length() != 1 {
			t.Error("the reply is not in the second activity's thread")
		}
		ines.get(env.App.URL("/a/" + second))
		if got := threadTitles(ines.page); len(got) != 2 {
			t.Errorf("the second activity's threads: %q", got)
		}
		// Her session is still her own activity's, which has neither.
		alice.visit(alice.b.Get(context.Background(), env.App.URL("/a/"+own)))
		if got := text(alice.page, "h1"); got != "Week 1 discussion" || len(threadTitles(alice.page)) != 0 {
			t.Errorf("her own activity after reaching another: %q %q", got, threadTitles(alice.page))
		}
		// The activity's own pages, from the reached space, are her activity's.
		alice.visit(alice.b.Get(context.Background(), env.App.URL(reached)))
		alice.follow("[data-testid=notifications-link]")
		if alice.res.StatusCode != http.StatusOK || pathOf(t, alice.res.URL) != "/a/"+own+"/notifications" {
			t.Errorf("notifications from the reached space: %d at %s", alice.res.StatusCode, alice.res.URL)
		}

		// Without cookies, by the link token of her session.
		framed := &member{t: t, env: env, b: ltiplatform.NewBrowser(), rt: alice.rt}
		framed.get(env.App.URL(reached))
		if framed.res.StatusCode != http.StatusOK || len(threadTitles(framed.page)) != 2 {
			t.Fatalf("the reached space by token: %d %q", framed.res.StatusCode, threadTitles(framed.page))
		}
		mustCarryToken(t, framed)
		framed.follow("[data-testid=thread-link]")
		mustCarryToken(t, framed)
		framed.reply("And hello again, without cookies.")
		if framed.res.StatusCode != http.StatusOK || postSel(framed.page, "And hello again, without cookies.").Length() != 1 ||
			!strings.HasPrefix(pathOf(t, framed.res.URL), reached+"/t/") {
			t.Fatalf("reply in the reached space by token: %d at %s", framed.res.StatusCode, framed.res.URL)
		}
		mustCarryToken(t, framed)
	})
}

// A session cannot reach a space of a course its person is not in, nor a
// cohort that is not theirs, nor a space that does not exist: each is a
// page that says so, and nothing of the space is shown.
func TestSessionCannotReachSpacesNotItsPersons(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		// Another course, with its own learner and activity.
		must(t, env.Platform.AddCourse(ltiplatform.Course{ID: "course-202", Label: "CHEM-202", Title: "Chemistry"}))
		must(t, env.Platform.AddUser(ltiplatform.User{ID: "learner-zed", Name: "Zed Other", Email: "zed@example.edu"}))
		must(t, env.Platform.Enroll("course-202", "learner-zed", lti.RoleLearner))
		must(t, env.Platform.AddResourceLink(ltiplatform.ResourceLink{ID: "link-chem", CourseID: "course-202", Title: "Chemistry forum"}))
		zb := ltiplatform.NewBrowser()
		zres, err := zb.Launch(context.Background(), env.Platform, ltiplatform.LaunchRequest{ClientID: apptest.ClientID, UserID: "learner-zed", CourseID: "course-202", ResourceLinkID: "link-chem"})
		if err != nil || zres.StatusCode != http.StatusOK {
			t.Fatalf("zed's launch: %v %d", err, zres.StatusCode)
		}
		chemSpace := cohortSpace(t, env, linkIDOf(t, zres.URL), "course")

		// A cohort of this course that is not Alice's: Bob's section.
		addLink(t, env, "link-sections", map[string]string{"canvas_section_ids": "$Canvas.course.sectionIds"})
		sections := func(ids string) map[string]string { return map[string]string{"$Canvas.course.sectionIds": ids} }
		ines := launchAs(t, env, apptest.Instructor, ltiplatform.LaunchRequest{ResourceLinkID: "link-sections", Variables: sections("31,200")})
		ines.configure(map[string]string{"cohort_policy": "section"})
		bob := launchAs(t, env, apptest.Learner2, ltiplatform.LaunchRequest{ResourceLinkID: "link-sections", Variables: sections("200")})
		bob.ask("discussion", "Section 200 only", "Not for other sections.", nil)
		bobSpace := cohortSpace(t, env, linkIDOf(t, bob.res.URL), "section:200")

		alice := join(t, env, apptest.Learner)
		own := "/a/" + linkIDOf(t, alice.res.URL)
		for _, tc := range []struct {
			what, space string
			status      int
			want        string
		}{
			{"a space of another course", chemSpace, http.StatusForbidden, "a course you are not a member of"},
			{"a cohort not hers", bobSpace, http.StatusForbidden, "a cohort that is not yours"},
			{"no such space", "no-such-space", http.StatusNotFound, "There is no such discussion"},
		} {
			for _, how := range []string{"cookie", "token"} {
				b, u := alice.b, env.App.URL(own+"/s/"+tc.space)
				if how == "token" {
					b, u = ltiplatform.NewBrowser(), withQuery(t, u, "rt", alice.rt)
				}
				res, err := b.Get(context.Background(), u)
				if err != nil {
					t.Fatal(err)
				}
				mustRefuse(t, tc.what+" by "+how, res, tc.status, tc.want)
				if strings.Contains(res.Body, "Section 200 only") {
					t.Errorf("%s by %s shows the space's threads", tc.what, how)
				}
			}
		}
		// Posting there is refused the same way, and posts nothing.
		threads := env.Count(t, "threads")
		csrf := fields(alice.page.Find("form[data-testid=sign-out-form]")).Get("csrf")
		res, err := alice.b.PostForm(context.Background(), env.App.URL(own+"/s/"+bobSpace+"/threads"),
			map[string][]string{"csrf": {csrf}, "kind": {"discussion"}, "title": {"Sneaking in"}, "body": {"Into section 200."}})
		if err != nil {
			t.Fatal(err)
		}
		mustRefuse(t, "posting in a cohort not hers", res, http.StatusForbidden, "a cohort that is not yours")
		if n := env.Count(t, "threads"); n != threads {
			t.Errorf("a refused post added %d threads", n-threads)
		}
		// Bob, whose cohort it is, reaches it from his own session anyway.
		bob.visit(bob.b.Get(context.Background(), env.App.URL("/a/"+linkIDOf(t, bob.res.URL)+"/s/"+bobSpace)))
		if bob.res.StatusCode != http.StatusOK || len(threadTitles(bob.page)) != 1 {
			t.Errorf("Bob reaching his own cohort's space: %d %q", bob.res.StatusCode, threadTitles(bob.page))
		}
	})
}
