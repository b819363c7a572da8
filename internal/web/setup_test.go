package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/roundtable-lms/roundtable/internal/activity"
	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// pastSetup takes staff who landed on "Set up this activity" on to the
// discussion by pressing "Use the defaults"; any other page is returned as
// it is.
func pastSetup(t testing.TB, b *ltiplatform.Browser, res *ltiplatform.Result) *ltiplatform.Result {
	t.Helper()
	if doc(t, res.Body).Find("form[data-testid=use-defaults-form]").Length() == 0 {
		return res
	}
	return submitForm(t, b, res, "form[data-testid=use-defaults-form]", nil, "")
}

// Staff opening an activity nobody set up land on its setup page; learners
// go to the discussion. "Use the defaults" sets it up and goes on to the
// discussion, after which nobody is asked again.
func TestStaffSetUpAnActivityNobodySetUp(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		_, res := env.Launch(t, apptest.Learner, nil)
		mustSeeActivity(t, res, "Alice Mbeki", "Learner")

		for _, who := range []string{apptest.Instructor, apptest.Assistant} {
			_, res := env.Launch(t, who, nil)
			d := doc(t, res.Body)
			if res.StatusCode != http.StatusOK || !strings.Contains(res.URL, "/settings?setup=1") || text(d, "h1") != "Set up this activity" {
				t.Fatalf("%s's first launch: %d %s %q", who, res.StatusCode, res.URL, text(d, "h1"))
			}
			if d.Find("[data-testid=use-defaults]").Length() != 1 || d.Find("form[data-testid=settings-form]").Length() != 1 {
				t.Errorf("%s: the setup page lacks Use the defaults or the settings form", who)
			}
			// With several links in a course, staff see which one this is.
			if got := text(d, "[data-testid=activity-title]"); got != "Week 1 discussion · Workplace Safety Essentials" {
				t.Errorf("%s: the setup page names the activity %q", who, got)
			}
		}
		b, res := env.Launch(t, apptest.Instructor, nil)
		res = pastSetup(t, b, res)
		d := mustSeeActivity(t, res, "Ines Okafor", "Instructor")
		if d.Find("[data-testid=use-defaults]").Length() != 0 {
			t.Error("the discussion offers the defaults again")
		}
		var linkID string
		env.DB.Raw(`SELECT id FROM resource_links WHERE resource_link_id = ?`, apptest.LinkID).Scan(&linkID)
		st, err := env.App.Courses.Settings(ctx, env.Registered.ID, linkID)
		if err != nil {
			t.Fatal(err)
		}
		want := course.DefaultSettings(env.Registered.ID, linkID)
		if !st.Configured || st.Kind != want.Kind || st.CohortPolicy != want.CohortPolicy || st.Options != want.Options || st.Graded {
			t.Errorf("settings after Use the defaults: %+v", st)
		}
		// Set up now: the assistant goes straight to the discussion, and the
		// settings page is the ordinary one, even asked for setup.
		_, res = env.Launch(t, apptest.Assistant, nil)
		mustSeeActivity(t, res, "Tom Reyes", "Teaching assistant")
		u, _ := url.Parse(res.URL)
		page, err := b.Get(ctx, env.App.URL("/a/"+linkID+"/settings?setup=1&rt="+u.Query().Get("rt")))
		if err != nil || text(doc(t, page.Body), "h1") != "Activity settings" {
			t.Errorf("settings page of a set-up activity: %v %q", err, text(doc(t, page.Body), "h1"))
		}
	})
}

// Saving the setup form keeps the choice, and the next launch opens the
// discussion; a placed link needs no setup.
func TestSetupFormSavesAndContinues(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		b, res := env.Launch(t, apptest.Instructor, nil)
		if !strings.Contains(res.URL, "/settings?setup=1") {
			t.Fatalf("first launch at %s", res.URL)
		}
		res = submitForm(t, b, res, "form[data-testid=settings-form]", url.Values{"kind": {activity.KindQuestionBoard}, "instructions": {"One question per learner."}}, "")
		if d := doc(t, res.Body); d.Find("[data-testid=saved]").Length() != 1 || text(d, "h1") != "Activity settings" {
			t.Fatalf("after saving the setup form: %d %s %q", res.StatusCode, res.URL, text(d, "h1"))
		}
		_, res = env.Launch(t, apptest.Instructor, nil)
		mustSeeActivity(t, res, "Ines Okafor", "Instructor")
		var linkID string
		env.DB.Raw(`SELECT id FROM resource_links WHERE resource_link_id = ?`, apptest.LinkID).Scan(&linkID)
		if st, _ := env.App.Courses.Settings(ctx, env.Registered.ID, linkID); !st.Configured || st.Kind != activity.KindQuestionBoard ||
			st.Instructions != "One question per learner." {
			t.Errorf("saved settings %+v", st)
		}

		link := place(t, env, url.Values{"title": {"Placed"}})
		res2, err := ltiplatform.NewBrowser().Launch(ctx, env.Platform, ltiplatform.LaunchRequest{
			ClientID: apptest.ClientID, UserID: apptest.Instructor, CourseID: apptest.CourseID, ResourceLinkID: link.ID})
		if err != nil || res2.StatusCode != http.StatusOK || strings.Contains(res2.URL, "/settings") || text(doc(t, res2.Body), "h1") != "Placed" {
			t.Errorf("first launch of a placed link: %v %s %q", err, res2.URL, text(doc(t, res2.Body), "h1"))
		}
	})
}
