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
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// A placement's id replayed in a link of another course, or of another
// deployment, is not adopted there: the link behaves as one added by hand.
// The placed link itself, and a copy of its course that the LMS reports as
// one, take its settings.
func TestPlacementReplayedElsewhereIsNotAdopted(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		// The LMS sends every launch of the tool the course's copy history,
		// as Roundtable asks when it registers.
		tool, err := env.Platform.Tool(apptest.ClientID)
		must(err)
		tool.Custom = map[string]string{course.ContextHistoryParam: "$Context.id.history"}
		must(env.Platform.AddTool(tool))

		link := place(t, env, url.Values{"kind": {activity.KindQuestionBoard}, "title": {"Ask the cohort"},
			"graded": {"1"}, "points": {"30"}, "min_accepted": {"1"}})
		pid := link.Custom["rt_placement"]
		adopted := func(linkID string) bool {
			t.Helper()
			st, err := env.App.Courses.Settings(ctx, env.Registered.ID, linkID)
			must(err)
			return st.Configured && st.Points == 30 && st.Kind == activity.KindQuestionBoard
		}
		if l := launchLinkAs(t, env, apptest.Learner, apptest.CourseID, link.ID); !adopted(l) {
			t.Fatal("the placed link did not take its settings")
		}

		// Another course of the same deployment: links added by hand name
		// the placement, by custom parameter and by URL.
		must(env.Platform.AddCourse(ltiplatform.Course{ID: "course-b", Label: "OTHER-200", Title: "Another course"}))
		must(env.Platform.Enroll("course-b", apptest.Learner, lti.RoleLearner))
		must(env.Platform.Enroll("course-b", apptest.Instructor, lti.RoleInstructor))
		must(env.Platform.AddResourceLink(ltiplatform.ResourceLink{ID: "replayed-custom", CourseID: "course-b", Title: "Mine now",
			Custom: map[string]string{"rt_placement": pid}}))
		must(env.Platform.AddResourceLink(ltiplatform.ResourceLink{ID: "replayed-url", CourseID: "course-b", Title: "Mine too",
			URL: env.App.URL("/lti/launch?rt_placement=" + pid)}))
		for _, id := range []string{"replayed-custom", "replayed-url"} {
			if l := launchLinkAs(t, env, apptest.Learner, "course-b", id); adopted(l) {
				t.Errorf("%s in another course adopted the placement", id)
			}
		}
		// Its instructor sets it up, as any link added by hand.
		res, err := ltiplatform.NewBrowser().Launch(ctx, env.Platform, ltiplatform.LaunchRequest{
			ClientID: apptest.ClientID, UserID: apptest.Instructor, CourseID: "course-b", ResourceLinkID: "replayed-custom"})
		if err != nil || res.StatusCode != http.StatusOK || !strings.Contains(res.URL, "/settings?setup=1") {
			t.Errorf("instructor's launch of the replayed link: %v %s", err, res.URL)
		}

		// A copy of the placement's course, which the LMS reports: adopted.
		must(env.Platform.AddCourse(ltiplatform.Course{ID: "course-copy", Title: "Workplace Safety Essentials, 2027",
			History: []string{apptest.CourseID}}))
		must(env.Platform.Enroll("course-copy", apptest.Learner2, lti.RoleLearner))
		must(env.Platform.AddResourceLink(ltiplatform.ResourceLink{ID: "copied-link", CourseID: "course-copy", Title: link.Title,
			Custom: map[string]string{"rt_placement": pid}}))
		if l := launchLinkAs(t, env, apptest.Learner2, "course-copy", "copied-link"); !adopted(l) {
			t.Error("the copied course's link did not take the settings")
		}

		// Another deployment of the same registration, even in the same
		// course: not adopted.
		must(env.App.Registry.AddDeployment(ctx, env.Registered.ID, "deployment-2"))
		must(env.Platform.AddResourceLink(ltiplatform.ResourceLink{ID: "other-deployment", CourseID: apptest.CourseID, Title: "Elsewhere",
			Custom: map[string]string{"rt_placement": pid}}))
		res, err = ltiplatform.NewBrowser().Launch(ctx, env.Platform, ltiplatform.LaunchRequest{
			ClientID: apptest.ClientID, UserID: apptest.Learner, CourseID: apptest.CourseID, ResourceLinkID: "other-deployment",
			Tamper: &ltiplatform.Tamper{Claims: func(c map[string]any) { c[lti.ClaimDeploymentID] = "deployment-2" }}})
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("launch from another deployment: %v %+v", err, res)
		}
		u, _ := url.Parse(res.URL)
		if l := strings.Split(strings.TrimPrefix(u.Path, "/a/"), "/")[0]; adopted(l) {
			t.Error("a link of another deployment adopted the placement")
		}
	})
}
