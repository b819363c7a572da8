package ltiplatform_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// hostile is what a tool or a course's data may hold: markup that would
// run if the demo LMS's pages did not escape it.
const hostile = `<script>alert("rt")</script><img src=x onerror=alert(1)>`

// People's names, tools' names and client ids, activity titles and
// gradebook columns come out of the demo LMS's pages as text.
func TestPagesEscapeWhatToolsAndPeopleSend(t *testing.T) {
	e := newSvcEnv(t)
	must(t, e.p.AddUser(ltiplatform.User{ID: "u-ben", Name: "Ben " + hostile, Email: "ben@example.edu"}))
	must(t, e.p.AddTool(ltiplatform.Tool{ClientID: "client " + hostile, DeploymentID: "dep " + hostile, LoginURL: "https://evil.example/login",
		RedirectURIs: []string{"https://evil.example/launch"}, JWKSURL: e.jwks.URL, Name: "Tool " + hostile}))
	must(t, e.p.AddResourceLink(ltiplatform.ResourceLink{ID: "rl-graded", CourseID: "c-101", ClientID: svcClient, Title: "Debate " + hostile,
		Description: "About " + hostile, LineItem: &ltiplatform.LineItemSpec{ScoreMaximum: 10, Tag: "tag " + hostile}}))

	b := ltiplatform.NewBrowser()
	get := func(path string) node {
		t.Helper()
		res, err := b.Get(t.Context(), e.p.URL(path))
		must(t, err)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
		doc := parseHTML(t, res.Body)
		if n := len(doc.all("img")) + len(doc.all("[onerror]")); n != 0 {
			t.Errorf("%s: %d elements came from a tool's or a person's text", path, n)
		}
		for _, s := range doc.all("script") {
			if s.attr("nonce") == "" || strings.Contains(s.text(), `alert("rt")`) {
				t.Errorf("%s: a script came from a tool's or a person's text", path)
			}
		}
		return doc
	}

	course := get("/courses/c-101")
	if got := course.all("tr.person")[1].one(t, "th").text(); got != "Ben "+hostile {
		t.Errorf("Ben shown as %q", got)
	}
	var graded node
	for _, a := range course.all("article.activity") {
		if a.attr("data-link") == "rl-graded" {
			graded = a
		}
	}
	if graded.Node == nil {
		t.Fatal("no article for the graded activity")
	}
	if got := graded.one(t, "h3").text(); got != "Debate "+hostile {
		t.Errorf("activity title %q", got)
	}
	if got := graded.one(t, "p.muted").text(); got != "About "+hostile {
		t.Errorf("activity description %q", got)
	}

	gradebook := get(ltiplatform.GradebookPath("c-101"))
	if got := gradebook.one(t, "tr.learner th").text(); got != "Ben "+hostile {
		t.Errorf("learner row %q", got)
	}
	if got := gradebook.one(t, "th.column").text(); !strings.HasPrefix(got, "Debate "+hostile) || !strings.HasSuffix(got, "tag "+hostile) {
		t.Errorf("gradebook column %q", got)
	}

	tools := get("/admin/tools/register")
	var row node
	for _, r := range tools.all("tr.tool") {
		if strings.HasPrefix(r.one(t, "th").text(), "Tool ") {
			row = r
		}
	}
	if row.Node == nil {
		t.Fatalf("no row for the tool: %q", tools.one(t, "table.tools").text())
	}
	if got := row.one(t, "th").text(); got != "Tool "+hostile {
		t.Errorf("tool name %q", got)
	}
	if got := row.all("code"); len(got) != 2 || got[0].text() != "client "+hostile || got[1].text() != "dep "+hostile {
		t.Errorf("tool ids %q", row.text())
	}
}
