package ltiplatform_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

func TestGradebookShowsScoresRequestsAndSwitchesFailure(t *testing.T) {
	e := newSvcEnv(t)
	tok := e.token(t)
	must(t, e.p.AddResourceLink(ltiplatform.ResourceLink{ID: "rl-graded", CourseID: "c-101", ClientID: svcClient, Title: "Debate",
		LineItem: &ltiplatform.LineItemSpec{ScoreMaximum: 10, Tag: "participation"}}))
	li, _ := e.p.LinkLineItem("rl-graded")
	scores := e.p.LineItemURL(li) + "/scores"
	for _, body := range []string{
		`{"userId":"u-ben","scoreGiven":7.5,"scoreMaximum":10,"activityProgress":"Completed","gradingProgress":"FullyGraded","timestamp":"2026-11-29T10:00:00.000Z"}`,
		`{"userId":"u-ben","scoreGiven":2,"scoreMaximum":10,"activityProgress":"Completed","gradingProgress":"FullyGraded","timestamp":"2026-11-29T09:00:00.000Z"}`,
	} {
		if resp, b := call(t, "POST", scores, tok, mtScore, body); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("score: %d %s", resp.StatusCode, b)
		}
	}

	b := ltiplatform.NewBrowser()
	course, err := b.Get(t.Context(), e.p.URL("/courses/c-101"))
	must(t, err)
	if href := parseHTML(t, course.Body).one(t, "a.gradebook-link").attr("href"); href != ltiplatform.GradebookPath("c-101") {
		t.Errorf("gradebook link %q", href)
	}
	res, err := b.Get(t.Context(), e.p.URL(ltiplatform.GradebookPath("c-101")))
	must(t, err)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("gradebook: %d", res.StatusCode)
	}
	doc := parseHTML(t, res.Body)
	cols := doc.all("th.column")
	if len(cols) != 1 || !strings.HasPrefix(cols[0].text(), "Debate") || !strings.Contains(cols[0].text(), "out of 10") {
		t.Fatalf("columns %d %q", len(cols), doc.one(t, "table.gradebook").text())
	}
	// Learners only: Ben is the course's one learner.
	rows := doc.all("tr.learner")
	if len(rows) != 1 || rows[0].attr("data-user") != "u-ben" {
		t.Fatalf("%d learner rows", len(rows))
	}
	cell := rows[0].one(t, "td.grade")
	if got := cell.one(t, ".score").text(); got != "7.5 / 10" {
		t.Errorf("Ben's score %q", got)
	}
	if got := cell.text(); !strings.Contains(got, "Completed") || !strings.Contains(got, "FullyGraded") || !strings.Contains(got, "1 older score(s) not applied") {
		t.Errorf("Ben's cell %q", got)
	}
	// Ben's work opens in the tool as a submission review by Ana, the
	// course's instructor.
	if href := cell.one(t, "a.review").attr("href"); href != ltiplatform.ReviewPagePath("c-101", "rl-graded", "u-ana", "u-ben") {
		t.Errorf("review link %q", href)
	}
	reqs := doc.all("tr.request")
	if len(reqs) < 3 || !strings.Contains(reqs[0].text(), "POST /api/lti/courses/c-101/lineitems/") || reqs[0].one(t, "td.status").text() != "204" {
		t.Errorf("request log: %d rows, first %q", len(reqs), reqs[0].text())
	}

	// The demo's switch: fail, see the failure, recover.
	form := doc.one(t, "div.services-state form")
	res, err = b.PostForm(t.Context(), e.p.URL(form.attr("action")), url.Values{"action": {"fail"}})
	must(t, err)
	if _, on := e.p.ServiceFault(); !on {
		t.Fatal("the services are not failing")
	}
	if resp, _ := call(t, "POST", scores, tok, mtScore, `{}`); resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("score while failing: %d", resp.StatusCode)
	}
	doc = parseHTML(t, res.Body)
	if got := doc.one(t, "div.services-state").text(); !strings.Contains(got, "Failing") || !strings.Contains(got, "500") {
		t.Errorf("state %q", got)
	}
	if v := doc.one(t, "div.services-state button").attr("value"); v != "recover" {
		t.Errorf("button %q, want recover", v)
	}
	_, err = b.PostForm(t.Context(), e.p.URL(form.attr("action")), url.Values{"action": {"recover"}})
	must(t, err)
	if _, on := e.p.ServiceFault(); on {
		t.Error("still failing after recover")
	}
	bad, err := b.PostForm(t.Context(), e.p.URL(form.attr("action")), url.Values{"action": {"explode"}})
	must(t, err)
	if bad.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown action: %d", bad.StatusCode)
	}
	if res, err := b.Get(t.Context(), e.p.URL(ltiplatform.GradebookPath("c-404"))); err != nil || res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown course's gradebook: %v %v", res, err)
	}
}

func TestGradebookWithoutColumns(t *testing.T) {
	e := newEnv(t)
	res, err := ltiplatform.NewBrowser().Get(t.Context(), e.p.URL(ltiplatform.GradebookPath("c-101")))
	must(t, err)
	doc := parseHTML(t, res.Body)
	doc.one(t, "p.no-columns")
	doc.one(t, "p.no-requests")
}
