package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// hostile is what an LMS, or anyone posing as one, may put in what the
// console shows: markup that would run if it were not escaped.
const hostile = `<script>alert("rt")</script><img src=x onerror=alert(1)>`

// noMarkupFrom fails when the page holds an element the hostile text
// would have made: the console's pages have no script or image of their
// own.
func noMarkupFrom(t *testing.T, page *goquery.Document, where string) {
	t.Helper()
	if n := page.Find("script, img, [onerror]").Length(); n != 0 {
		t.Errorf("%s: %d elements came from an LMS's text", where, n)
	}
}

// A registration's name and client ID, and what a failed registration's
// LMS answered, reach the console as text, never as markup.
func TestAdminConsoleEscapesWhatLMSsSend(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		p, err := env.App.Registry.Get(ctx, env.Registered.ID)
		if err != nil {
			t.Fatal(err)
		}
		p.Name, p.ClientID = "Moodle "+hostile, "client "+hostile
		if _, err := env.App.Registry.Update(ctx, p); err != nil {
			t.Fatal(err)
		}
		if err := env.App.Registry.RecordRegistrationFailure(ctx, tenant.RegistrationFailure{Reference: "ref-1",
			OpenIDConfiguration: "https://lms.example/openid", Reason: "registration_refused", Message: "The LMS refused the registration.",
			Detail: "detail " + hostile, AnswerStatus: http.StatusBadRequest, AnswerSaid: "said " + hostile, AnswerBody: "body " + hostile}); err != nil {
			t.Fatal(err)
		}
		c := newAdmin(t, env)
		for _, path := range []string{"/admin/platforms", "/admin/platforms/" + p.ID, "/admin/platforms/" + p.ID + "/edit",
			"/admin/platforms/" + p.ID + "/delete", "/admin/keys", "/admin/registrations"} {
			if res := c.get(path); res.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d", path, res.StatusCode)
			}
			noMarkupFrom(t, c.page, path)
			if path == "/admin/registrations" {
				for _, sel := range []string{"[data-testid=failure-detail]", "[data-testid=failure-said]", "[data-testid=failure-body]"} {
					if got := text(c.page, sel); !strings.HasSuffix(got, hostile) {
						t.Errorf("%s shows %q", sel, got)
					}
				}
				continue
			}
			if !strings.Contains(c.page.Find("main").Text(), "Moodle "+hostile) {
				t.Errorf("%s does not show the platform's name as text: %q", path, c.page.Find("main").Text())
			}
		}
		c.get("/admin/platforms")
		if got := text(c.page, "[data-platform] td.mono"); got != "client "+hostile {
			t.Errorf("client ID in the list: %q", got)
		}
		c.get("/admin/platforms/" + p.ID + "/edit")
		if got := attr(c.page, "#f-name", "value"); got != "Moodle "+hostile {
			t.Errorf("name in the form: %q", got)
		}
	})
}

// A learner's name from the LMS, and the LMS's answer to a score it
// refused, reach the grade delivery page as text.
func TestAdminGradesEscapeLearnerNames(t *testing.T) {
	eachDBFastGrades(t, func(t *testing.T, env *apptest.Env) {
		join(t, env, apptest.Instructor)
		gradeActivity(t, env, "ines")
		learner, err := env.Platform.User(apptest.Learner)
		if err != nil {
			t.Fatal(err)
		}
		learner.Name = "Alice " + hostile
		if err := env.Platform.AddUser(learner); err != nil {
			t.Fatal(err)
		}
		env.Platform.FailServices(ltiplatform.Fault{Status: http.StatusUnauthorized})
		alice := join(t, env, apptest.Learner)
		alice.ask("question", "Who checks the first-aid kits?", "And how often?", nil)
		c := newAdmin(t, env)
		waitUntil(t, "the failure in the console", func() bool {
			c.get("/admin/grades")
			return c.page.Find("[data-testid=failed-grade]").Length() == 1
		})
		noMarkupFrom(t, c.page, "/admin/grades")
		row := c.page.Find("[data-testid=failed-grade]")
		if got := strings.TrimSpace(row.Find("th[scope=row]").Text()); got != "Alice "+hostile {
			t.Errorf("learner shown as %q", got)
		}
		if got := attr(c.page, "[data-testid=failed-grade] button", "aria-label"); got != "Retry the score of Alice "+hostile {
			t.Errorf("retry button labelled %q", got)
		}
	})
}
