package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// reviewLaunch is the LMS gradebook's submission review of learner's work
// on the seeded activity, opened by reviewer in a browser of their own.
func reviewLaunch(t *testing.T, env *apptest.Env, reviewer, learner string) (*ltiplatform.Browser, *ltiplatform.Result) {
	t.Helper()
	b := ltiplatform.NewBrowser()
	res, err := b.Launch(context.Background(), env.Platform, ltiplatform.LaunchRequest{
		ClientID: apptest.ClientID, UserID: reviewer, CourseID: apptest.CourseID, ResourceLinkID: apptest.LinkID,
		MessageType: lti.MessageSubmissionReview, ForUserID: learner,
	})
	if err != nil {
		t.Fatalf("submission review of %s by %s: %v", learner, reviewer, err)
	}
	return b, res
}

// roundtableID is the id Roundtable gave the person the seeded
// organisation knows by subject.
func roundtableID(t *testing.T, env *apptest.Env, subject string) string {
	t.Helper()
	var ids []string
	must(t, env.DB.Raw(`SELECT id FROM users WHERE org_id = ? AND issuer = ? AND subject = ?`,
		env.Registered.OrgID, env.Platform.Issuer(), subject).Scan(&ids).Error)
	if len(ids) != 1 {
		t.Fatalf("%d people known as %s in the organisation", len(ids), subject)
	}
	return ids[0]
}

// mustSeeNothingToReview checks that staff were told there is nothing of
// the person's to review, with a working link to the activity.
func mustSeeNothingToReview(t *testing.T, b *ltiplatform.Browser, res *ltiplatform.Result, reviewer string) {
	t.Helper()
	d := doc(t, res.Body)
	if res.StatusCode != http.StatusOK || d.Find("[data-testid=review-nobody]").Length() != 1 || strings.Contains(res.URL, "/review/") {
		t.Fatalf("ended at %s with %d:\n%.600s", res.URL, res.StatusCode, res.Body)
	}
	href, _ := d.Find("a[data-testid=open-activity]").Attr("href")
	page, err := b.Get(context.Background(), res.URL[:strings.Index(res.URL, "/lti/")]+href)
	must(t, err)
	mustSeeActivity(t, page, reviewer, "Instructor")
}

// A submission review opened by staff from the LMS's gradebook opens a
// session as their launch does and sends them to the learner's review
// page; a learner asking sees only the activity, as by an ordinary launch.
func TestSubmissionReviewLaunch(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		_, res := env.Launch(t, apptest.Learner, nil)
		mustSeeActivity(t, res, "Alice Mbeki", "Learner")
		alice := roundtableID(t, env, apptest.Learner)
		var linkID string
		must(t, env.DB.Raw(`SELECT id FROM resource_links WHERE resource_link_id = ?`, apptest.LinkID).Scan(&linkID).Error)

		// Nobody set the activity up: staff set it up first, as after a
		// resource link launch.
		b, res := reviewLaunch(t, env, apptest.Instructor, apptest.Learner)
		if !strings.Contains(res.URL, "/a/"+linkID+"/settings?setup=1") {
			t.Fatalf("review of an activity nobody set up ended at %s", res.URL)
		}
		pastSetup(t, b, res)

		for _, who := range []struct{ id, name, role string }{
			{apptest.Instructor, "Ines Okafor", "Instructor"}, {apptest.Assistant, "Tom Reyes", "Teaching assistant"},
		} {
			b, res := reviewLaunch(t, env, who.id, apptest.Learner)
			u, err := url.Parse(res.URL)
			must(t, err)
			if want := "/a/" + linkID + "/review/u/" + alice; u.Path != want {
				t.Fatalf("%s's review of Alice ended at %s, want %s", who.id, res.URL, want)
			}
			// The token carries the reviewer's own session, as a launch's
			// redirect does.
			rt := u.Query().Get("rt")
			if rt == "" {
				t.Fatalf("%s: the redirect carries no session token: %s", who.id, res.URL)
			}
			page, err := b.Get(ctx, env.App.URL("/a/"+linkID+"?rt="+url.QueryEscape(rt)))
			must(t, err)
			mustSeeActivity(t, page, who.name, who.role)
		}

		// Learners see their own activity, never someone else's review,
		// whoever for_user names.
		for _, who := range []struct{ id, name, of string }{
			{apptest.Learner2, "Bob Lindqvist", apptest.Learner}, {apptest.Learner, "Alice Mbeki", apptest.Learner},
		} {
			_, res := reviewLaunch(t, env, who.id, who.of)
			if strings.Contains(res.URL, "/review/") {
				t.Fatalf("%s's review of %s ended at %s", who.id, who.of, res.URL)
			}
			mustSeeActivity(t, res, who.name, "Learner")
		}
	})
}

// Roundtable sends staff to the review page only of a person it knows as
// a member of the activity's course, through the same LMS and organisation.
// Anyone else is created nowhere: staff read that there is nothing to
// review.
func TestSubmissionReviewOfAStranger(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		b, res := env.Launch(t, apptest.Instructor, nil)
		pastSetup(t, b, res)

		// Carol opened an activity of another course of the organisation;
		// Dana, one of another organisation on the same LMS.
		sameOrg := registerInOrg(t, env, "second-registration", env.Registered.OrgID, "course-202")
		otherOrg := registerInOrg(t, env, "other-customer", "", "course-303")
		for _, p := range []struct {
			id  string
			reg orgRegistration
		}{{"learner-carol", sameOrg}, {"learner-dana", otherOrg}} {
			must(t, env.Platform.AddUser(ltiplatform.User{ID: p.id, Name: p.id}))
			must(t, env.Platform.Enroll(p.reg.course, p.id, lti.RoleLearner))
			joinVia(t, env, p.reg, p.id)
		}
		users := env.Count(t, "users")
		for _, stranger := range []string{
			"learner-carol", "learner-dana",
			apptest.Learner2, // in the course, never opened the activity
		} {
			b, res := reviewLaunch(t, env, apptest.Instructor, stranger)
			mustSeeNothingToReview(t, b, res, "Ines Okafor")
		}
		if n := env.Count(t, "users"); n != users {
			t.Errorf("reviews of strangers made %d people", n-users)
		}
		var danas int64
		must(t, env.DB.Raw(`SELECT COUNT(*) FROM users WHERE org_id = ? AND subject = ?`, env.Registered.OrgID, "learner-dana").Scan(&danas).Error)
		if danas != 0 {
			t.Errorf("Dana of another organisation is in this one")
		}
	})
}
