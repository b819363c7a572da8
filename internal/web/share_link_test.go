package web_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/roundtable-lms/roundtable/internal/apptest"
)

// TestSharedPostLink: a post's link to share carries no session token. A
// classmate in the activity opens it and sees the post; anyone without a
// session for the activity (a stranger, or someone whose session ended)
// is told which activity and course to open it from, and sees nothing of
// the post.
func TestSharedPostLink(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		alice.ask("question", "Where are the spill kits kept?", "Asking for the night shift: nobody could find one.", nil)
		share := alice.page.Find("[data-testid=copy-link]").First().AttrOr("data-copy-link", "")
		if share == "" || strings.Contains(share, "rt=") {
			t.Fatalf("the link to share is %q", share)
		}
		link := alice.abs(share)

		bob := join(t, env, apptest.Learner2)
		res := bob.get(link)
		if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "nobody could find one") {
			t.Errorf("a classmate opening the link: %d %.300s", res.StatusCode, res.Body)
		}

		stranger, err := http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(stranger.Body)
		stranger.Body.Close()
		page := string(body)
		if stranger.StatusCode != http.StatusUnauthorized {
			t.Errorf("a stranger opening the link: %d", stranger.StatusCode)
		}
		for _, want := range []string{"Week 1 discussion", "Workplace Safety Essentials", "Open that activity from your course"} {
			if !strings.Contains(page, want) {
				t.Errorf("the page for a stranger does not say %q:\n%.1500s", want, page)
			}
		}
		for _, secret := range []string{"spill kits", "night shift", "Alice", apptest.Learner} {
			if strings.Contains(strings.ToLower(page), strings.ToLower(secret)) {
				t.Errorf("the page for a stranger shows %q", secret)
			}
		}
	})
}
