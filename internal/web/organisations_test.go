package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/activity"
	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// orgRegistration is one more registration of the test LMS (the same
// issuer, its own client id and deployment), in organisation orgID ("" for
// an organisation of its own), with a course of its own whose activity it
// launches.
type orgRegistration struct {
	tenant.Platform
	course, link string
}

func registerInOrg(t *testing.T, env *apptest.Env, clientID, orgID, courseID string) orgRegistration {
	t.Helper()
	ctx := context.Background()
	deployment := "deployment-" + clientID
	reg, err := env.App.Registry.Add(ctx, tenant.Platform{
		Name: "Test LMS " + clientID, OrgID: orgID, Issuer: env.Platform.Issuer(), ClientID: clientID, AuthURL: env.Platform.AuthURL(),
		TokenURL: env.Platform.TokenURL(), JWKSURL: env.Platform.JWKSURL(), Deployments: []string{deployment},
	})
	must(t, err)
	must(t, env.Platform.AddTool(ltiplatform.Tool{
		ClientID: clientID, DeploymentID: deployment, Name: "Roundtable",
		LoginURL: env.App.URL("/lti/login"), RedirectURIs: []string{env.App.URL("/lti/launch")},
		TargetLinkURI: env.App.URL("/lti/launch"), JWKSURL: env.App.Web.JWKSURL(reg.ID),
	}))
	if courseID != apptest.CourseID {
		must(t, env.Platform.AddCourse(ltiplatform.Course{ID: courseID, Label: "HIST-2", Title: "Industrial History"}))
		for _, u := range []struct{ id, role string }{{apptest.Learner, lti.RoleLearner}, {apptest.Instructor, lti.RoleInstructor}} {
			must(t, env.Platform.Enroll(courseID, u.id, u.role))
		}
	}
	link := "link-" + clientID
	must(t, env.Platform.AddResourceLink(ltiplatform.ResourceLink{ID: link, CourseID: courseID, ClientID: clientID,
		Title: "Discussion of " + clientID}))
	return orgRegistration{Platform: reg, course: courseID, link: link}
}

// joinVia launches user into the registration's activity in a browser of
// their own, past the setup page staff see first.
func joinVia(t *testing.T, env *apptest.Env, r orgRegistration, user string) *member {
	t.Helper()
	b := ltiplatform.NewBrowser()
	res, err := b.Launch(context.Background(), env.Platform, ltiplatform.LaunchRequest{
		ClientID: r.ClientID, UserID: user, CourseID: r.course, ResourceLinkID: r.link})
	if err != nil {
		t.Fatalf("launch %s through %s: %v", user, r.ClientID, err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("launch %s through %s: %d %.300s", user, r.ClientID, res.StatusCode, res.Body)
	}
	res = pastSetup(t, b, res)
	u, _ := url.Parse(res.URL)
	return &member{rt: u.Query().Get("rt"), t: t, env: env, b: b, res: res, page: doc(t, res.Body)}
}

// sessionsOf lists the organisation, registration and person of every
// session a subject opened.
func sessionsOf(t *testing.T, env *apptest.Env, subject string) (orgs, platforms, users map[string]bool) {
	t.Helper()
	var rows []struct{ OrgID, PlatformID, UserID string }
	must(t, env.DB.Raw(`SELECT s.org_id, s.platform_id, s.user_id FROM sessions s
		JOIN users u ON u.org_id = s.org_id AND u.id = s.user_id WHERE u.subject = ?`, subject).Scan(&rows).Error)
	orgs, platforms, users = map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, r := range rows {
		orgs[r.OrgID], platforms[r.PlatformID], users[r.UserID] = true, true, true
	}
	return orgs, platforms, users
}

// One human who launches through two registrations of one organisation,
// into two courses, is one person: one user, the same author on both
// courses' posts, and what happens in one course reaches them in the other.
func TestOnePersonAcrossTheRegistrationsOfAnOrganisation(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		second := registerInOrg(t, env, "second-client", env.Registered.OrgID, "course-202")
		if second.OrgID != env.Registered.OrgID {
			t.Fatalf("the second registration is in organisation %q, want %q", second.OrgID, env.Registered.OrgID)
		}
		aliceHere := join(t, env, apptest.Learner)
		inesThere := joinVia(t, env, second, apptest.Instructor)
		aliceThere := joinVia(t, env, second, apptest.Learner)

		orgs, platforms, users := sessionsOf(t, env, apptest.Learner)
		if len(orgs) != 1 || len(platforms) != 2 || len(users) != 1 {
			t.Fatalf("Alice's sessions: organisations %v, registrations %v, users %v; want one person through two registrations", orgs, platforms, users)
		}
		var people int64
		must(t, env.DB.Raw(`SELECT COUNT(*) FROM users WHERE subject = ?`, apptest.Learner).Scan(&people).Error)
		if people != 1 {
			t.Errorf("%d people for Alice, want 1", people)
		}
		// The courses stay apart, each as LTI keys it.
		var courses int64
		must(t, env.DB.Raw(`SELECT COUNT(*) FROM courses WHERE org_id = ?`, env.Registered.OrgID).Scan(&courses).Error)
		if courses != 2 {
			t.Errorf("%d courses in the organisation, want 2", courses)
		}

		aliceHere.ask("discussion", "Ladders in corridors", "Someone left a stepladder by the fire door.", nil)
		aliceThere.ask("question", "Mill wheels", "How did a mill wheel drive the looms?", nil)
		var authors []string
		must(t, env.DB.Raw(`SELECT DISTINCT author_id FROM posts WHERE org_id = ?`, env.Registered.OrgID).Scan(&authors).Error)
		if len(authors) != 1 {
			t.Errorf("Alice's posts in the two courses have authors %v, want one", authors)
		}
		for _, m := range []*member{aliceHere, aliceThere} {
			if got := strings.TrimSpace(m.page.Find("[data-testid=post] [data-testid=author]").First().Text()); got != "Alice Mbeki" {
				t.Errorf("the author of Alice's post on %s: %q", m.res.URL, got)
			}
		}

		// Ines answers in the second course; Alice, on the first course's
		// page, is told, with where it happened.
		inesThere.home()
		inesThere.follow("a:contains('Mill wheels')")
		inesThere.reply("Through a shaft and belts.")
		aliceHere.home()
		kinds, texts := aliceHere.notificationsOf()
		if strings.Join(kinds, ",") != "answer" || len(texts) != 1 || texts[0] != "Ines Okafor answered your question" {
			t.Fatalf("Alice's notifications in the first course: %v %v", kinds, texts)
		}
		if where := strings.TrimSpace(aliceHere.page.Find("[data-testid=notification] [data-testid=notification-space]").Text()); !strings.Contains(where, "Discussion of second-client") {
			t.Errorf("the notification does not say it comes from the other activity: %q", where)
		}
		// The person-level read (for email and digests) sees it too.
		var aliceID string
		must(t, env.DB.Raw(`SELECT id FROM users WHERE subject = ?`, apptest.Learner).Scan(&aliceID).Error)
		pn, err := discussion.NewStore(env.DB).PersonNotifications(context.Background(), env.Registered.OrgID, aliceID)
		must(t, err)
		if len(pn.Items) != 1 || pn.Unseen != 1 || pn.Items[0].ActivityTitle != "Discussion of second-client" || pn.Items[0].CourseTitle != "Industrial History" {
			t.Errorf("Alice's notifications as a person: %+v", pn)
		}
		// In the course it came from, it is the page's own.
		aliceThere.home()
		aliceThere.notificationsOf()
		if aliceThere.page.Find("[data-testid=notification]").Length() != 1 || aliceThere.page.Find("[data-testid=notification-space]").Length() != 0 {
			t.Errorf("in the second course, the notification is not listed as its own:\n%.2000s", aliceThere.res.Body)
		}
	})
}

// The same issuer and sub under a registration of another organisation (a
// cloud LMS's other customer) is another person, who sees nothing of the
// first organisation's, even in a course with the same LMS context.
func TestTheSameSubjectInAnotherOrganisationIsAnotherPerson(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		alice.ask("question", "Ladder safety", "Who checks the ladders?", nil)
		other := registerInOrg(t, env, "other-customer", "", apptest.CourseID)
		if other.OrgID == "" || other.OrgID == env.Registered.OrgID {
			t.Fatalf("a new registration is in organisation %q, want one of its own", other.OrgID)
		}
		stranger := joinVia(t, env, other, apptest.Learner)
		orgs, _, users := sessionsOf(t, env, apptest.Learner)
		if len(orgs) != 2 || len(users) != 2 {
			t.Fatalf("Alice's sessions: organisations %v, users %v; want two people in two organisations", orgs, users)
		}
		if stranger.page.Find("[data-testid=empty]").Length() != 1 || strings.Contains(stranger.res.Body, "Ladder safety") {
			t.Errorf("the other organisation's Alice sees the first's discussion:\n%.2000s", stranger.res.Body)
		}
		stranger.follow("[data-testid=notifications-link]")
		if stranger.page.Find("[data-testid=notification]").Length() != 0 {
			t.Error("the other organisation's Alice has notifications")
		}
	})
}

// A registration made by LTI Dynamic Registration starts an organisation
// of its own, even when it claims the issuer of an existing registration.
func TestDynamicRegistrationStartsItsOwnOrganisation(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		join(t, env, apptest.Learner)
		reg, err := env.App.Web.RegisterPlatform(ctx, env.Platform.OpenIDConfigurationURL(), env.Platform.NewRegistrationToken(), true)
		must(t, err)
		if reg.Issuer != env.Registered.Issuer {
			t.Fatalf("the dynamic registration's issuer %q, want %q", reg.Issuer, env.Registered.Issuer)
		}
		if reg.OrgID == "" || reg.OrgID == env.Registered.OrgID {
			t.Errorf("the dynamic registration is in organisation %q, the existing one's is %q", reg.OrgID, env.Registered.OrgID)
		}
	})
}

// An admin attaches a registration nobody launched through yet to another
// organisation; one whose organisation holds people or courses is refused,
// and nothing moves.
func TestAttachingARegistrationWithDataIsRefused(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		fresh := registerInOrg(t, env, "fresh-client", "", "course-303")
		join(t, env, apptest.Learner)
		err := env.App.Registry.Attach(ctx, env.Registered.ID, fresh.OrgID)
		var re *roundtable.Error
		if !errors.As(err, &re) || re.Code != roundtable.ECONFLICT || !strings.Contains(re.Message, "does not move") {
			t.Fatalf("attaching a registration people launched through: %v", err)
		}
		if p, _ := env.App.Registry.Get(ctx, env.Registered.ID); p.OrgID != env.Registered.OrgID {
			t.Errorf("the refused registration moved to %q", p.OrgID)
		}

		must(t, env.App.Registry.Attach(ctx, fresh.ID, env.Registered.OrgID))
		if p, _ := env.App.Registry.Get(ctx, fresh.ID); p.OrgID != env.Registered.OrgID {
			t.Errorf("the attached registration is in %q", p.OrgID)
		}
		if _, err := env.App.Registry.Organisation(ctx, fresh.OrgID); err == nil {
			t.Error("the organisation the registration left, empty, was kept")
		}
		// Launched through it, Alice is the organisation's Alice.
		joinVia(t, env, fresh, apptest.Learner)
		if orgs, platforms, users := sessionsOf(t, env, apptest.Learner); len(orgs) != 1 || len(platforms) != 2 || len(users) != 1 {
			t.Errorf("after attaching: organisations %v, registrations %v, users %v", orgs, platforms, users)
		}
	})
}

// In the console, an admin attaches a registration to another
// organisation from its page, after confirming what it means; one whose
// organisation people already launched into is refused with a message
// that says why. Deleting a registration whose organisation has another
// keeps the organisation's people and discussions.
func TestTheConsoleAttachesARegistrationToAnOrganisation(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		join(t, env, apptest.Learner)
		fresh := registerInOrg(t, env, "fresh-client", "", "course-303")
		c := newAdmin(t, env)

		c.get("/admin/platforms/" + fresh.ID)
		if got := text(c.page, "[data-testid=organisation]"); !strings.Contains(got, "Test LMS fresh-client") {
			t.Errorf("the registration's organisation: %q", got)
		}
		choice := attr(c.page, "[data-testid=attach-form] select[name=org_id] option", "value")
		if choice != env.Registered.OrgID {
			t.Fatalf("the organisations offered: %q, want %q", choice, env.Registered.OrgID)
		}
		if res := c.post("/admin/platforms/"+fresh.ID+"/organisation", url.Values{"org_id": {choice}}); res.StatusCode != http.StatusUnprocessableEntity ||
			!strings.Contains(text(c.page, "[data-testid=organisation-error]"), "Confirm") {
			t.Errorf("attaching without confirming: %d %q", res.StatusCode, text(c.page, "[data-testid=organisation-error]"))
		}
		res := c.post("/admin/platforms/"+fresh.ID+"/organisation", url.Values{"org_id": {choice}, "confirm": {"1"}})
		if res.StatusCode != http.StatusOK || !strings.Contains(text(c.page, "[data-testid=flash]"), "Attached") {
			t.Fatalf("attaching: %d at %s, flash %q", res.StatusCode, res.URL, text(c.page, "[data-testid=flash]"))
		}
		if p, _ := env.App.Registry.Get(ctx, fresh.ID); p.OrgID != env.Registered.OrgID {
			t.Errorf("after attaching, the registration is in %q", p.OrgID)
		}

		// The first registration's organisation holds Alice: refused.
		other := registerInOrg(t, env, "other-client", "", "course-404")
		c.get("/admin/platforms/" + env.Registered.ID)
		res = c.post("/admin/platforms/"+env.Registered.ID+"/organisation", url.Values{"org_id": {other.OrgID}, "confirm": {"1"}})
		if res.StatusCode != http.StatusConflict || !strings.Contains(text(c.page, "[data-testid=organisation-error]"), "does not move them") {
			t.Errorf("attaching a registration with people: %d %q", res.StatusCode, text(c.page, "[data-testid=organisation-error]"))
		}

		// Deleting the first registration keeps Alice: the attached one
		// still reaches her.
		c.get("/admin/platforms/" + env.Registered.ID + "/delete")
		if got := text(c.page, "[data-testid=delete-keeps]"); !strings.Contains(got, "1 person") {
			t.Errorf("the confirmation does not say the organisation keeps its person: %q", got)
		}
		c.post("/admin/platforms/"+env.Registered.ID+"/delete", nil)
		if _, err := env.App.Registry.Get(ctx, env.Registered.ID); err == nil {
			t.Fatal("the registration is still there")
		}
		alice := joinVia(t, env, fresh, apptest.Learner)
		if orgs, _, users := sessionsOf(t, env, apptest.Learner); len(orgs) != 1 || len(users) != 1 || alice.res.StatusCode != http.StatusOK {
			t.Errorf("after deleting one registration: organisations %v, users %v", orgs, users)
		}
	})
}

// The grades of an activity go to the LMS registration that launched it,
// with that registration's token, though its person is the organisation's.
func TestGradesGoThroughTheRegistrationThatLaunchedTheActivity(t *testing.T) {
	eachDBFastGrades(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		second := registerInOrg(t, env, "second-client", env.Registered.OrgID, "course-202")
		join(t, env, apptest.Learner)
		joinVia(t, env, second, apptest.Instructor)
		var linkID string
		must(t, env.DB.Raw(`SELECT id FROM resource_links WHERE resource_link_id = ?`, second.link).Scan(&linkID).Error)
		st := course.DefaultSettings(env.Registered.OrgID, linkID)
		st.Graded, st.Points, st.UpdatedBy = true, 10, "ines"
		st.Options = activity.DiscussionOptions{Credit: activity.CreditFull, Rule: activity.CompletionRule{MinThreads: 1}}
		must(t, env.DB.Tx(ctx, func(tx *gorm.DB) error {
			if err := env.App.Courses.SaveSettings(ctx, tx, st); err != nil {
				return err
			}
			return env.App.Grades.RecomputeActivity(ctx, tx, env.Registered.OrgID, linkID)
		}))
		alice := joinVia(t, env, second, apptest.Learner)
		alice.ask("question", "Mill wheels", "How did a mill wheel drive the looms?", nil)
		waitUntil(t, "alice's score in the second course's gradebook", func() bool {
			items := env.Platform.LineItems(second.course)
			if len(items) != 1 {
				return false
			}
			s, ok := env.Platform.LatestScore(items[0].ID, apptest.Learner)
			return ok && s.ScoreGiven != nil && *s.ScoreGiven == 10
		})
		if items := env.Platform.LineItems(second.course); items[0].ClientID != second.ClientID {
			t.Errorf("the line item belongs to %q, want %q", items[0].ClientID, second.ClientID)
		}
		if items := env.Platform.LineItems(apptest.CourseID); len(items) != 0 {
			t.Errorf("the first course's gradebook has %d columns", len(items))
		}
		for _, r := range env.Platform.ServiceRequests() {
			if strings.Contains(r.Path, "/scores") && r.ClientID != second.ClientID {
				t.Errorf("a score was sent by %q: %s", r.ClientID, r.Path)
			}
		}
	})
}
