package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// FuzzLaunchInput posts arbitrary launch forms and login requests to the
// real endpoints: whatever arrives, the answer is a 4xx page, never a 5xx,
// and nothing is recorded.
func FuzzLaunchInput(f *testing.F) {
	env := apptest.Start(f, store.SQLite)
	loginURL, err := env.Platform.StartLaunch(ltiplatform.LaunchRequest{ClientID: apptest.ClientID, UserID: apptest.Learner, CourseID: apptest.CourseID, ResourceLinkID: apptest.LinkID})
	if err != nil {
		f.Fatal(err)
	}
	ar, err := ltiplatform.NewBrowser().Login(context.Background(), loginURL)
	if err != nil {
		f.Fatal(err)
	}
	lu, _ := url.Parse(loginURL)
	f.Add(ar.Fields.Get("id_token"), ar.Fields.Get("state"), lu.RawQuery)
	f.Add(ar.Fields.Get("id_token")+"x", "", "iss=x&login_hint=y&target_link_uri=z")
	f.Add("a.b.c", ar.Fields.Get("state"), "iss=%zz")
	f.Add("eyJhbGciOiJub25lIn0.e30.", "state", strings.Repeat("iss=1&", 100))
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	f.Fuzz(func(t *testing.T, idToken, state, loginQuery string) {
		resp, err := client.PostForm(env.App.URL("/lti/launch"), url.Values{"id_token": {idToken}, "state": {state}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("launch answered %d", resp.StatusCode)
		}
		resp, err = client.Get(env.App.URL("/lti/login") + "?" + loginQuery)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("login answered %d", resp.StatusCode)
		}
		// This client never holds the login's browser cookie, so even the
		// seeded valid token and state must not produce a session.
		if n := env.Count(t, "sessions"); n != 0 {
			t.Fatalf("%d sessions after fuzzed launches", n)
		}
	})
}
