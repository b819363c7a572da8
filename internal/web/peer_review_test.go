package web_test

import (
	"context"

	"github.com/PuerkitoBio/goquery"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/grade"
)

// peerReviewSettings make the seeded activity a graded peer review: text
// and files, two reviewers each, double-blind, released by hand, the
// default rubric.
var peerReviewSettings = map[string]string{"kind": "peer_review", "submit_text": "1", "submit_files": "1", "max_file_mb": "2",
	"max_files": "3", "file_types": "any", "reviewers": "2", "anonymity": "double_blind", "release": "manual",
	"submission_weight": "80", "aggregation": "median", "reviewing_basis": "completion", "time_zone": "UTC",
	"graded": "1", "points": "10"}

// submitWork sends the work form as a browser does: multipart, the
// tokens in its action.
func (m *member) submitWork(body string, files ...[3]string) (*http.Response, string) {
	m.t.Helper()
	m.get(m.activityURL("/review/work"))
	form := m.page.Find("[data-testid=work-form]")
	if form.Length() == 0 {
		m.t.Fatalf("no work form:\n%.2000s", m.res.Body)
	}
	res, page := m.postFiles(form.AttrOr("action", ""), url.Values{"body": {body}}, files...)
	if res.StatusCode == http.StatusSeeOther {
		next := m.get(m.abs(res.Header.Get("Location")))
		return &http.Response{StatusCode: next.StatusCode}, next.Body
	}
	return res, page
}

// reviewAll submits every review in m's queue, choosing the level at
// pick(levels) of every criterion, with comments long enough.
func (m *member) reviewAll(pick func(levels int) int) int {
	m.t.Helper()
	m.get(m.activityURL("/review"))
	var links []string
	m.page.Find("[data-testid=queue-item] a").Each(func(_ int, a *goquery.Selection) { links = append(links, a.AttrOr("href", "")) })
	for _, href := range links {
		m.get(m.abs(href))
		form := m.page.Find("[data-testid=review-form]")
		v := fields(form)
		form.Find("[data-testid=criterion]").Each(func(_ int, c *goquery.Selection) {
			radios := c.Find("input[type=radio]")
			if radios.Length() > 0 {
				v.Set(radios.First().AttrOr("name", ""), radios.Eq(pick(radios.Length())).AttrOr("value", ""))
			}
			if ta := c.Find("textarea"); ta.Length() > 0 {
				v.Set(ta.AttrOr("name", ""), "Clear structure; the second example needs a source.")
			}
		})
		v.Set("note_0", "This opening is strong.")
		v.Set("action", "submit")
		res := m.visit(m.b.PostForm(context.Background(), m.abs(form.AttrOr("action", "")), v))
		if res.StatusCode != http.StatusOK || !strings.Contains(res.URL, "reviewed=1") {
			m.t.Fatalf("submitting a review: %d %s\n%.2000s", res.StatusCode, res.URL, res.Body)
		}
	}
	return len(links)
}

func TestPeerReviewSubmitReviewReleaseGrade(t *testing.T) {
	eachDBFastGrades(t, func(t *testing.T, env *apptest.Env) {
		carol := apptest.SeedLearners(t, env, 1)[0]
		ines := join(t, env, apptest.Instructor)
		res := ines.postSettings(map[string]string{"kind": "peer_review", "reviewers": "0", "submit_text": "1"})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "between 1 and 10 reviewers") {
			t.Fatalf("no reviewers: %d\n%.2000s", res.StatusCode, res.Body)
		}
		ines.configure(peerReviewSettings)

		alice := join(t, env, apptest.Learner)
		if alice.page.Find("[data-testid=submit-work]").Length() != 1 {
			t.Fatalf("a learner's first page offers no way to submit:\n%.3000s", alice.res.Body)
		}
		// An empty submission is refused in words, with nothing kept.
		if res, body := alice.submitWork("   "); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Your submission is empty") {
			t.Fatalf("empty work: %d\n%.2000s", res.StatusCode, body)
		}
		// A file of a refused kind is refused, and nothing of it stays.
		res2, body := alice.submitWork("My essay", [3]string{"files", "page.html", "<html><script>alert(1)</script></html>"})
		if res2.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "is not a kind of file") {
			t.Fatalf("an HTML file: %d\n%.2000s", res2.StatusCode, body)
		}
		var kept int
		env.DB.Raw(`SELECT COUNT(*) FROM pr_files`).Row().Scan(&kept)
		if kept != 0 {
			t.Fatalf("%d files kept from a refused form", kept)
		}
		res2, body = alice.submitWork("First essay\n\nIts second paragraph.", [3]string{"files", "chart.png", string(onePixelPNG)})
		if res2.StatusCode != http.StatusOK || !strings.Contains(body, "Submitted") {
			t.Fatalf("alice submits: %d\n%.2000s", res2.StatusCode, body)
		}
		bob := join(t, env, apptest.Learner2)
		bob.submitWork("Second essay\n\nMore.")
		cl := join(t, env, carol)
		cl.submitWork("Third essay\n\nMore.")

		// Everyone reviews two: dynamic allocation gave as they came.
		for _, m := range []*member{alice, bob, cl} {
			m.get(m.activityURL("/review"))
			if got := text(m.page, "[data-testid=queue-summary]"); !strings.Contains(got, "2 reviews to do") {
				t.Fatalf("queue: %q", got)
			}
			// Double-blind: no author's name anywhere on the review page.
			href := m.page.Find("[data-testid=queue-item] a").First().AttrOr("href", "")
			m.get(m.abs(href))
			for _, name := range []string{"Alice", "Bob", "Learner 0"} {
				if strings.Contains(m.page.Find("main").Text(), name) {
					t.Errorf("a double-blind review page names %s", name)
				}
			}
		}
		// A reviewer reads the image of the work they review; a stranger
		// to it does not.
		var fileID string
		env.DB.Raw(`SELECT id FROM pr_files`).Row().Scan(&fileID)
		bob.get(bob.activityURL("/review"))
		// Before release, an author reads no review.
		var reviewOfAlice string
		env.DB.Raw(`SELECT r.id FROM pr_reviews r JOIN pr_submissions s ON s.org_id = r.org_id AND s.id = r.submission_id
			WHERE s.author_id = (SELECT id FROM users WHERE subject = ?) LIMIT 1`, apptest.Learner).Row().Scan(&reviewOfAlice)
		if r := alice.get(alice.activityURL("/review/r/" + reviewOfAlice)); r.StatusCode != http.StatusNotFound {
			t.Errorf("an author opened a review of her work before release: %d", r.StatusCode)
		}
		// A learner cannot release results or see the dashboard.
		if r := bob.get(bob.activityURL("/review/dashboard")); r.StatusCode != http.StatusForbidden {
			t.Errorf("a learner opened the dashboard: %d", r.StatusCode)
		}

		// Staff remind those who are behind, naming what each owes.
		ines.get(ines.activityURL("/review/dashboard"))
		ines.submit("form:has([data-testid=remind])", nil)
		bob.get(bob.activityURL("/notifications"))
		if got := text(bob.page, "[data-testid=notifications]"); !strings.Contains(got, "reminded you: 2 reviews to do") {
			t.Errorf("bob's reminder: %q", got)
		}

		alice.reviewAll(func(n int) int { return n - 1 })
		bob.reviewAll(func(n int) int { return n - 1 })
		cl.reviewAll(func(n int) int { return n - 2 })
		waitUntil(t, "alice's pending score", func() bool {
			s, ok := latestScore(env, apptest.Learner)
			return ok && s.GradingProgress == grade.GradingPending && s.ActivityProgress == grade.ActivityCompleted
		})

		// Reviews count as participation in the course.
		ines.get(ines.activityURL("/participation"))
		if got := ines.page.Find("[data-testid=learner]").FilterFunction(func(_ int, s *goquery.Selection) bool {
			return strings.Contains(s.Find("[data-testid=name]").Text(), "Alice")
		}).Find("[data-testid=reviews]").Text(); got != "2" {
			t.Errorf("alice's peer reviews on the participation page: %q", got)
		}
		ines.get(ines.activityURL("/review/dashboard"))
		if got := text(ines.page, "[data-testid=reviews-progress]"); got != "6 of 6 reviews done" {
			t.Errorf("dashboard progress: %q", got)
		}
		ines.follow("[data-testid=all-reviews-link]")
		if n := ines.page.Find("[data-testid=review-row]").Length(); n != 6 {
			t.Errorf("every review lists %d, want 6", n)
		}
		ines.get(ines.activityURL("/review/dashboard"))
		ines.submit("form:has([data-testid=release])", nil)
		if !strings.Contains(text(ines.page, "[data-testid=notice]"), "released") {
			t.Fatalf("release: %.2000s", ines.res.Body)
		}
		waitUntil(t, "alice's final score", func() bool {
			s, ok := latestScore(env, apptest.Learner)
			return ok && s.GradingProgress == grade.GradingFullyGraded && s.ScoreGiven != nil && *s.ScoreGiven > 5
		})

		alice.get(alice.activityURL("/notifications"))
		if got := text(alice.page, "[data-testid=notifications]"); !strings.Contains(got, "results are out") {
			t.Errorf("alice is not told her results are out: %q", got)
		}
		// The author reads her feedback in place, rates and flags a review.
		alice.get(alice.activityURL("/review/feedback"))
		if alice.page.Find("[data-testid=feedback-review]").Length() != 2 || alice.page.Find("[data-testid=anchored-note]").Length() != 2 {
			t.Fatalf("feedback page:\n%.4000s", alice.res.Body)
		}
		alice.submit("[data-testid=rate-form]", map[string]string{"rating": "5", "rating_note": "Precise."})
		if alice.page.Find("[data-testid=feedback-review]").Length() != 2 || !strings.Contains(alice.res.URL, "rated=1") {
			t.Fatalf("rating: %s", alice.res.URL)
		}
		alice.submit("[data-testid=flag-form]", map[string]string{"reason": "It ignores my chart."})
		if alice.page.Find("[data-testid=flagged]").Length() != 1 {
			t.Fatalf("flag not shown back:\n%.3000s", alice.res.Body)
		}
		ines.get(ines.activityURL("/review/dashboard"))
		if !strings.Contains(text(ines.page, "[data-testid=flags]"), "It ignores my chart.") {
			t.Errorf("the flag does not reach the dashboard")
		}
		// The export is safe from spreadsheet formulas.
		res3, csvBody := ines.fetch(ines.activityURL("/review/export.csv"))
		if res3.StatusCode != http.StatusOK || !strings.Contains(string(csvBody), "Alice Mbeki") {
			t.Errorf("export: %d %s", res3.StatusCode, csvBody)
		}
		_ = fileID

		// Alice shares her work with one review's feedback as a work
		// sample; her classmates find it on the peer review's page.
		alice.get(alice.activityURL("/review/share"))
		firstReview := alice.page.Find("input[name=include]").First().AttrOr("value", "")
		alice.submit("[data-testid=share-form]", map[string]string{"include": firstReview, "intro": "What I learned."})
		if alice.res.StatusCode != http.StatusOK || !strings.Contains(alice.res.URL, "/t/") || !strings.Contains(alice.res.Body, "Feedback from Reviewer") {
			t.Fatalf("sharing: %d %s\n%.3000s", alice.res.StatusCode, alice.res.URL, alice.res.Body)
		}
		bob.get(bob.activityURL("/review"))
		if bob.page.Find("[data-testid=work-sample]").Length() != 1 {
			t.Errorf("bob does not see alice's work sample:\n%.3000s", bob.res.Body)
		}

		// Changing how the rubric assesses, once reviews began, asks staff
		// to confirm; the reviews done keep their rubric and stay readable.
		res = ines.postSettings(map[string]string{"crit_levels_0": "0 Missing\n5 Present"})
		if res.StatusCode != http.StatusUnprocessableEntity || ines.page.Find("[data-testid=confirm-rubric]").Length() != 1 {
			t.Fatalf("a rubric change after reviews began: %d\n%.3000s", res.StatusCode, res.Body)
		}
		ines.configure(map[string]string{"crit_levels_0": "0 Missing\n5 Present", "confirm_change": "1"})
		var versions int
		env.DB.Raw(`SELECT COUNT(*) FROM pr_rubrics`).Row().Scan(&versions)
		if versions != 1 {
			t.Errorf("%d rubric versions kept, want the first one", versions)
		}
		alice.get(alice.activityURL("/review/feedback"))
		if got := alice.page.Find("[data-testid=feedback-review] td").First().Text(); !strings.Contains(got, "Excellent") {
			t.Errorf("a review of the first rubric reads %q after the change", got)
		}
	})
}
