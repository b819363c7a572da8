package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/roundtable-lms/roundtable/apptest"
)

// An error met inside an activity keeps the activity's navigation and a
// link back to the discussion, in the person's session.
func TestErrorInsideAnActivityKeepsTheWayBack(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		res := alice.get(alice.activityURL("/participation"))
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("a learner opened the participation page: %d", res.StatusCode)
		}
		if alice.page.Find("nav.discussion-nav [data-testid=notifications-link]").Length() != 1 {
			t.Error("the error page lost the activity's navigation")
		}
		back, ok := alice.page.Find("[data-testid=error-back]").Attr("href")
		if !ok || !strings.Contains(back, alice.activityURL("")[strings.Index(alice.activityURL(""), "/a/"):]) {
			t.Fatalf("back link %q", back)
		}
		if res := alice.get(env.App.URL(back)); res.StatusCode != http.StatusOK || alice.page.Find("[data-testid=threads], [data-testid=empty]").Length() == 0 {
			t.Errorf("the back link leads to %d %s", res.StatusCode, res.URL)
		}
	})
}
