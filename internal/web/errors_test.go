package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/roundtable-lms/roundtable/internal/apptest"
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

// Nobody can upvote their own post, so their own posts offer no Upvote
// button (which could only lead to a refusal): they show the count.
func TestOwnPostsOfferNoUpvote(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		alice.ask("question", "Which respirator for paint fumes?", "Half mask or full?", nil)
		alice.reply("Answering myself: the label says half mask.")
		if n := alice.page.Find("[data-testid=vote]").Length(); n != 0 {
			t.Errorf("alice's own posts offer %d upvote buttons", n)
		}
		if got := alice.page.Find("[data-testid=post] [data-testid=votes]").First().Text(); got != "0 upvotes" {
			t.Errorf("the count reads %q", got)
		}
		bob := join(t, env, apptest.Learner2)
		bob.get(env.App.URL(strings.Replace(alice.res.URL[strings.Index(alice.res.URL, "/a/"):], "rt="+alice.rt, "rt="+bob.rt, 1)))
		if n := bob.page.Find("[data-testid=vote]").Length(); n != 2 {
			t.Errorf("a classmate sees %d upvote buttons on alice's two posts, want 2", n)
		}
	})
}
