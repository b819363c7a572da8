package web_test

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// prPeople are the four learners of the peer review's privacy tests, by
// LMS subject, with their names and what they submit: no submission text
// and no file name holds a name, so a page that shows a text or a
// neutral file name names no one.
type prPerson struct {
	subject, name, text, file string
	m                         *member
	id                        string // Roundtable user id
}

// reviewCSRF is the session's CSRF token, read from the work form's
// action (where the streamed form carries it).
func (m *member) reviewCSRF() string {
	m.t.Helper()
	m.get(m.activityURL("/review/work"))
	u, err := url.Parse(m.page.Find("[data-testid=work-form]").AttrOr("action", ""))
	if err != nil || u.Query().Get("csrf") == "" {
		m.t.Fatalf("no CSRF token in the work form's action:\n%.2000s", m.res.Body)
	}
	return u.Query().Get("csrf")
}

// postAs posts a form to a URL in m's session: its link token, when it
// has one, as the pages' forms send it.
func (m *member) postAs(rawURL string, v url.Values) *ltiplatform.Result {
	m.t.Helper()
	if v == nil {
		v = url.Values{}
	}
	if m.rt != "" {
		v.Set("rt", m.rt)
	}
	return m.visit(m.b.PostForm(context.Background(), rawURL, v))
}

// prSnapshot is activity link's peer review as the database holds it:
// every row of its tables and its notifications, for comparing before
// and after refused actions.
func prSnapshot(t *testing.T, env *apptest.Env, link string) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT id, reviewer_id, state, submission_id, version, doc, helpfulness, helpfulness_note FROM pr_reviews WHERE link_id = ? ORDER BY id`,
		`SELECT id, author_id, version, withdrawn FROM pr_submissions WHERE link_id = ? ORDER BY id`,
		`SELECT id, submission_id, name, blob_key FROM pr_files WHERE link_id = ? ORDER BY id`,
		`SELECT link_id, released_at FROM pr_activity_state WHERE link_id = ? ORDER BY link_id`,
		`SELECT review_id, reason, resolution, resolved_by FROM pr_flags WHERE link_id = ? ORDER BY review_id`,
		`SELECT * FROM pr_overrides WHERE link_id = ? ORDER BY user_id`,
		`SELECT id, title, body FROM pr_examples WHERE link_id = ? ORDER BY id`,
		`SELECT COUNT(*) FROM pr_allocation_log WHERE link_id = ?`,
		`SELECT COUNT(*) FROM pr_grades WHERE link_id = ?`,
		`SELECT COUNT(*) FROM notifications WHERE link_id = ?`,
	} {
		rows, err := env.DB.Raw(q, link).Rows()
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprintf(&b, "%v|", v)
			}
			b.WriteByte('\n')
		}
		rows.Close()
		b.WriteString("--\n")
	}
	if !strings.Contains(b.String(), "|") {
		t.Fatalf("no peer review in activity %s", link)
	}
	return b.String()
}

// blobCount is how many blobs the app's file store holds.
func blobCount(t *testing.T, env *apptest.Env) int {
	t.Helper()
	n := 0
	filepath.WalkDir(filepath.Join(env.App.Config.DataDir, "files"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// prReview is a review as the database holds it.
type prReview struct{ ID, Reviewer, Author string }

func prReviews(t *testing.T, env *apptest.Env) []prReview {
	t.Helper()
	var out []prReview
	must(t, env.DB.Raw(`SELECT r.id, r.reviewer_id AS reviewer, s.author_id AS author FROM pr_reviews r
		JOIN pr_submissions s ON s.org_id = r.org_id AND s.id = r.submission_id WHERE r.state <> 'removed' ORDER BY r.id`).Scan(&out).Error)
	return out
}

// mustNotShow fails when a body holds any of the secrets.
func mustNotShow(t *testing.T, what, body string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(body, s) {
			t.Errorf("%s shows %q:\n%.1500s", what, s, body)
		}
	}
}

// saveExample has staff save a calibration example with its key: the
// top level of every criterion, a comment on each. It returns its id.
func saveExample(t *testing.T, env *apptest.Env, ines *member) string {
	t.Helper()
	ines.get(ines.activityURL("/review/examples/new"))
	form := ines.page.Find("[data-testid=example-form]")
	v := fields(form)
	form.Find("[data-testid=criterion]").Each(func(_ int, c *goquery.Selection) {
		if radios := c.Find("input[type=radio]"); radios.Length() > 0 {
			v.Set(radios.First().AttrOr("name", ""), radios.Last().AttrOr("value", ""))
		}
		if ta := c.Find("textarea"); ta.Length() > 0 {
			v.Set(ta.AttrOr("name", ""), "A clear structure with sources for every claim.")
		}
	})
	v.Set("title", "A model answer")
	v.Set("body", "An example text QX-EXAMPLE.\n\nIts second paragraph.")
	res := ines.visit(ines.b.PostForm(context.Background(), ines.abs(form.AttrOr("action", "")), v))
	var id string
	must(t, env.DB.Raw(`SELECT id FROM pr_examples`).Scan(&id).Error)
	if id == "" {
		t.Fatalf("saving an example: %d\n%.2000s", res.StatusCode, res.Body)
	}
	return id
}

// peerReviewWithWork sets the seeded activity up as a peer review with
// settings edits, has four learners submit a text and a file, and has
// the instructor allocate the rest. It returns the instructor and the
// learners.
func peerReviewWithWork(t *testing.T, env *apptest.Env, edits map[string]string) (*member, []*prPerson) {
	t.Helper()
	seeded := apptest.SeedLearners(t, env, 2)
	ines := join(t, env, apptest.Instructor)
	settings := map[string]string{}
	for k, v := range peerReviewSettings {
		settings[k] = v
	}
	for k, v := range edits {
		settings[k] = v
	}
	ines.configure(settings)
	people := []*prPerson{
		{subject: apptest.Learner, name: "Alice Mbeki", text: "Canal locks raise boats QX-ALPHA-1.\n\nThe second paragraph.", file: "alice-mbeki-draft.png"},
		{subject: apptest.Learner2, name: "Bob Lindqvist", text: "Steam pumps drained mines QX-BRAVO-2.\n\nMore.", file: "bob-lindqvist-chart.png"},
		{subject: seeded[0], name: "Learner 0", text: "Spinning jennies QX-CHARLIE-3.\n\nMore.", file: "learner0-scan.png"},
		{subject: seeded[1], name: "Learner 1", text: "Railway gauges QX-DELTA-4.\n\nMore.", file: "learner1-photo.png"},
	}
	for _, p := range people {
		p.m = join(t, env, p.subject)
		res, body := p.m.submitWork(p.text, [3]string{"files", p.file, string(onePixelPNG)})
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s submits: %d\n%.2000s", p.name, res.StatusCode, body)
		}
		must(t, env.DB.Raw(`SELECT id FROM users WHERE org_id = ? AND subject = ?`, env.Registered.OrgID, p.subject).Scan(&p.id).Error)
	}
	ines.get(ines.activityURL("/review/dashboard"))
	if ines.page.Find("[data-testid=fill]").Length() > 0 {
		ines.submit("form:has([data-testid=fill])", nil)
	}
	return ines, people
}

// Learners of the activity read only their own work and the work given
// them to review, and act on nothing of the instructor's; double-blind
// names no one to anyone, in pages, file names and notifications.
func TestPeerReviewLearnersSeeOnlyTheirOwnAndAssigned(t *testing.T) {
	eachDBFastGrades(t, func(t *testing.T, env *apptest.Env) {
		ines, people := peerReviewWithWork(t, env, nil)
		bySubject, byID := map[string]*prPerson{}, map[string]*prPerson{}
		for _, p := range people {
			bySubject[p.subject], byID[p.id] = p, p
		}
		link := linkIDOf(t, ines.res.URL)
		base := env.App.URL("/a/" + link)
		csrf := map[*prPerson]string{}
		for _, p := range people {
			csrf[p] = p.m.reviewCSRF()
		}
		reviews := prReviews(t, env)
		if len(reviews) < 8 {
			t.Fatalf("%d reviews allocated, want at least 8", len(reviews))
		}
		reviewersOf := map[string]map[string]bool{} // author -> reviewers
		for _, r := range reviews {
			if reviewersOf[r.Author] == nil {
				reviewersOf[r.Author] = map[string]bool{}
			}
			reviewersOf[r.Author][r.Reviewer] = true
		}
		// stranger is a learner who neither wrote the work nor reviews it.
		stranger := func(author string) *prPerson {
			for _, p := range people {
				if p.id != author && !reviewersOf[author][p.id] {
					return p
				}
			}
			return nil
		}
		var files []struct{ ID, Author, Name string }
		must(t, env.DB.Raw(`SELECT f.id, s.author_id AS author, f.name FROM pr_files f JOIN pr_submissions s ON s.org_id = f.org_id AND s.id = f.submission_id`).Scan(&files).Error)
		if len(files) != len(people) {
			t.Fatalf("%d files kept, want %d", len(files), len(people))
		}
		textOf := func(p *prPerson) string { return strings.SplitN(p.text, "\n", 2)[0] }

		// A learner who neither wrote nor reviews a work: nothing of it.
		strangersTried := 0
		for _, r := range reviews {
			x := stranger(r.Author)
			if x == nil {
				continue
			}
			strangersTried++
			secrets := []string{textOf(byID[r.Author]), byID[r.Author].file}
			u := base + "/review/r/" + r.ID
			if res := x.m.get(u); res.StatusCode != http.StatusNotFound {
				t.Errorf("%s opened another's review %s: %d", x.name, r.ID, res.StatusCode)
			}
			mustNotShow(t, "a stranger's GET of a review", x.m.res.Body, secrets)
			res := x.m.postAs(u, url.Values{"csrf": {csrf[x]}, "action": {"save"}, "comment": {"Hijacked."}})
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("%s saved another's review %s: %d", x.name, r.ID, res.StatusCode)
			}
			mustNotShow(t, "a stranger's POST of a review", res.Body, secrets)
			if res := x.m.get(base + "/review/u/" + r.Author); res.StatusCode != http.StatusForbidden {
				t.Errorf("%s opened another learner's page: %d", x.name, res.StatusCode)
			}
			mustNotShow(t, "a learner's page, to a learner", x.m.res.Body, secrets)
		}
		if strangersTried == 0 {
			t.Fatal("no review has a stranger among the learners")
		}
		for _, f := range files {
			x := stranger(f.Author)
			if x == nil {
				continue
			}
			for _, name := range []string{f.Name, "file-1.png"} {
				res, body := x.m.fetch(base + "/review/files/" + f.ID + "/" + name)
				if res.StatusCode != http.StatusNotFound {
					t.Errorf("%s fetched a file of work not theirs to review: %d", x.name, res.StatusCode)
				}
				if strings.Contains(string(body), "\x89PNG") {
					t.Errorf("a stranger was served the file's bytes")
				}
			}
		}
		// Reading the file of one's own work and of work one reviews works.
		for _, f := range files {
			for _, p := range people {
				if p.id != f.Author && !reviewersOf[f.Author][p.id] {
					continue
				}
				if res, _ := p.m.fetch(base + "/review/files/" + f.ID + "/x.png"); res.StatusCode != http.StatusOK {
					t.Errorf("%s cannot read a file they may: %d", p.name, res.StatusCode)
				}
			}
		}

		// Double-blind: the queue, the review page, its files and the
		// served file name no author.
		alice, bob := bySubject[apptest.Learner], bySubject[apptest.Learner2]
		var names, files4 []string
		for _, p := range people {
			names = append(names, p.name, strings.Fields(p.name)[0])
			files4 = append(files4, p.file)
		}
		for _, p := range people {
			others := []string{}
			for _, q := range people {
				if q != p {
					others = append(others, q.name, strings.Fields(q.name)[0], q.file, strings.TrimSuffix(q.file, ".png"))
				}
			}
			p.m.get(base + "/review")
			mustNotShow(t, p.name+"'s queue", p.m.res.Body, others)
			var hrefs []string
			p.m.page.Find("[data-testid=queue-item] a").Each(func(_ int, a *goquery.Selection) { hrefs = append(hrefs, a.AttrOr("href", "")) })
			if len(hrefs) < 2 {
				t.Fatalf("%s's queue has %d reviews", p.name, len(hrefs))
			}
			for _, h := range hrefs {
				p.m.get(p.m.abs(h))
				mustNotShow(t, p.name+"'s review page", p.m.res.Body, others)
				links := p.m.page.Find("[data-testid=work-file] figcaption a")
				if links.Length() != 1 || strings.TrimSpace(links.Text()) != "file-1.png" || !strings.Contains(links.AttrOr("href", ""), "/file-1.png") ||
					links.AttrOr("download", "") != "file-1.png" {
					t.Errorf("a double-blind file link: %q %q", links.Text(), links.AttrOr("href", ""))
				}
				res, _ := p.m.fetch(p.m.abs(links.AttrOr("href", "")))
				if res.StatusCode != http.StatusOK {
					t.Fatalf("the reviewer's file: %d", res.StatusCode)
				}
				cd := res.Header.Get("Content-Disposition")
				if cd == "" || !strings.Contains(cd, "file-1.png") {
					t.Errorf("served file's Content-Disposition %q", cd)
				}
				mustNotShow(t, "a served file's headers", fmt.Sprint(res.Header), others)
				if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
					t.Errorf("X-Content-Type-Options %q", got)
				}
				if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") {
					t.Errorf("a served file's CSP %q has no sandbox", csp)
				}
			}
		}

		// A learner against every staff action: refused, nothing changed.
		exampleID := saveExample(t, env, ines)
		staffGets := []string{"/review/dashboard", "/review/export.csv", "/review/u/" + alice.id, "/review/u/" + bob.id,
			"/review/examples/new", "/review/examples/" + exampleID}
		staffPosts := func() map[string]url.Values {
			r := reviews[0]
			return map[string]url.Values{
				"/review/fill":                      {},
				"/review/release":                   {},
				"/review/release?withdraw=1":        {"withdraw": {"1"}},
				"/review/remind":                    {},
				"/review/u/" + bob.id + "/override": {"percent": {"100"}, "note": {"Mine now."}},
				"/review/u/" + bob.id + "/assign":   {"reviewer": {alice.id}},
				"/review/r/" + r.ID + "/remove":     {},
				"/review/r/" + r.ID + "/resolve":    {"resolution": {"Dismissed."}},
				"/review/examples":                  {"title": {"Forged"}, "body": {"Forged example."}, "id": {exampleID}},
			}
		}
		allSecrets := append(append([]string{}, names...), files4...)
		for _, p := range people {
			allSecrets = append(allSecrets, textOf(p))
		}
		learnersRefused := func(stage string) {
			t.Helper()
			before, blobs := prSnapshot(t, env, link), blobCount(t, env)
			for _, p := range people {
				for _, path := range staffGets {
					res, body := p.m.fetch(base + path)
					if res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusNotFound {
						t.Errorf("%s: %s GET %s: %d", stage, p.name, path, res.StatusCode)
					}
					others := []string{}
					for _, s := range allSecrets {
						if !strings.Contains(p.name+p.text+p.file, s) {
							others = append(others, s)
						}
					}
					mustNotShow(t, stage+": a learner's GET "+path, string(body), others)
				}
				for path, v := range staffPosts() {
					v.Set("csrf", csrf[p])
					res := p.m.postAs(base+path, v)
					if res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusNotFound {
						t.Errorf("%s: %s POST %s: %d", stage, p.name, path, res.StatusCode)
					}
				}
			}
			if after := prSnapshot(t, env, link); after != before {
				t.Errorf("%s: learners' refused staff actions changed the peer review:\nbefore:\n%s\nafter:\n%s", stage, before, after)
			}
			if blobCount(t, env) != blobs {
				t.Errorf("%s: learners' refused actions changed the files", stage)
			}
		}
		learnersRefused("before release")

		// Reminders name no one else.
		ines.get(ines.activityURL("/review/dashboard"))
		if ines.page.Find("[data-testid=remind]").Length() > 0 {
			ines.submit("form:has([data-testid=remind])", nil)
		}
		var reminders int64
		must(t, env.DB.Raw(`SELECT COUNT(*) FROM notifications WHERE kind = 'review_reminder'`).Scan(&reminders).Error)
		if reminders == 0 {
			t.Fatal("the reminder notified no one")
		}
		for _, p := range people {
			others := []string{}
			for _, q := range people {
				if q != p {
					others = append(others, q.name, q.file, textOf(q))
				}
			}
			if res := p.m.get(base + "/notifications"); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "to do") {
				t.Errorf("%s's notifications: %d\n%.1500s", p.name, res.StatusCode, res.Body)
			}
			mustNotShow(t, p.name+"'s notifications", p.m.res.Body, others)
		}

		for _, p := range people {
			p.m.reviewAll(func(n int) int { return n - 1 })
		}
		ines.get(ines.activityURL("/review/dashboard"))
		ines.submit("form:has([data-testid=release])", nil)
		if !strings.Contains(text(ines.page, "[data-testid=notice]"), "released") {
			t.Fatalf("release: %.2000s", ines.res.Body)
		}

		// After release: the author reads her feedback naming no reviewer;
		// a stranger cannot rate or flag a review of another's work.
		for _, p := range people {
			p.m.get(base + "/review/feedback")
			if p.m.res.StatusCode != http.StatusOK || p.m.page.Find("[data-testid=feedback-review]").Length() < 2 {
				t.Fatalf("%s's feedback: %d\n%.2000s", p.name, p.m.res.StatusCode, p.m.res.Body)
			}
			others := []string{}
			for _, q := range people {
				if q != p {
					others = append(others, q.name, strings.Fields(q.name)[0], q.file)
				}
			}
			mustNotShow(t, p.name+"'s feedback", p.m.res.Body, others)
			// Her page with its grade and its explanation, too.
			if res := p.m.get(base + "/review"); res.StatusCode != http.StatusOK || p.m.page.Find("[data-testid=results]").Length() != 1 {
				t.Errorf("%s's page after release: %d", p.name, res.StatusCode)
			}
			mustNotShow(t, p.name+"'s page after release", p.m.res.Body, others)
		}
		alice.m.get(base + "/review/feedback")
		alice.m.submit("[data-testid=flag-form]", map[string]string{"reason": "It ignores my chart."})
		for _, r := range prReviews(t, env) {
			x := stranger(r.Author)
			if x == nil {
				continue
			}
			before := prSnapshot(t, env, link)
			if res := x.m.postAs(base+"/review/r/"+r.ID+"/rate", url.Values{"csrf": {csrf[x]}, "rating": {"1"}, "rating_note": {"Bad."}}); res.StatusCode != http.StatusNotFound {
				t.Errorf("%s rated a review of another's work: %d", x.name, res.StatusCode)
			}
			if res := x.m.postAs(base+"/review/r/"+r.ID+"/flag", url.Values{"csrf": {csrf[x]}, "reason": {"Unfair."}}); res.StatusCode != http.StatusNotFound {
				t.Errorf("%s flagged a review of another's work: %d", x.name, res.StatusCode)
			}
			if res := x.m.get(base + "/review/r/" + r.ID); res.StatusCode != http.StatusNotFound {
				t.Errorf("%s opened a review of another's work after release: %d", x.name, res.StatusCode)
			}
			// The reviewer rates nothing of the work they reviewed.
			rev := byID[r.Reviewer]
			if rev != nil && r.Reviewer != r.Author {
				if res := rev.m.postAs(base+"/review/r/"+r.ID+"/rate", url.Values{"csrf": {csrf[rev]}, "rating": {"5"}}); res.StatusCode != http.StatusNotFound {
					t.Errorf("a reviewer rated their own review: %d", res.StatusCode)
				}
			}
			if after := prSnapshot(t, env, link); after != before {
				t.Errorf("refused ratings and flags changed the peer review:\n%s\n%s", before, after)
			}
		}
		learnersRefused("after release")
	})
}

// With anonymity open, the same pages name authors and reviewers: the
// positive control of the double-blind test.
func TestPeerReviewOpenAnonymityNamesPeople(t *testing.T) {
	eachDBFastGrades(t, func(t *testing.T, env *apptest.Env) {
		ines, people := peerReviewWithWork(t, env, map[string]string{"anonymity": "open"})
		bob := people[1]
		bob.m.get(bob.m.activityURL("/review"))
		var queue = bob.m.page.Find("[data-testid=queue]").Text()
		named := 0
		for _, p := range people[:1] {
			if strings.Contains(queue, p.name) {
				named++
			}
		}
		var hrefs []string
		bob.m.page.Find("[data-testid=queue-item] a").Each(func(_ int, a *goquery.Selection) { hrefs = append(hrefs, a.AttrOr("href", "")) })
		shown := 0
		for _, h := range hrefs {
			bob.m.get(bob.m.abs(h))
			for _, p := range people {
				if p != bob && strings.Contains(bob.m.res.Body, p.name) {
					shown++
					if !strings.Contains(bob.m.res.Body, p.file) {
						t.Errorf("an open review page hides the file's name %s", p.file)
					}
				}
			}
		}
		if shown != len(hrefs) || len(hrefs) < 2 {
			t.Errorf("open anonymity: %d of %d review pages name their author", shown, len(hrefs))
		}
		for _, p := range people {
			p.m.reviewAll(func(n int) int { return n - 1 })
		}
		ines.get(ines.activityURL("/review/dashboard"))
		ines.submit("form:has([data-testid=release])", nil)
		alice := people[0]
		alice.m.get(alice.m.activityURL("/review/feedback"))
		reviewers := 0
		for _, p := range people[1:] {
			if strings.Contains(alice.m.page.Find("main").Text(), p.name) {
				reviewers++
			}
		}
		if reviewers < 2 {
			t.Errorf("open anonymity: the feedback page names %d reviewers:\n%.3000s", reviewers, alice.m.res.Body)
		}
	})
}

// A learner of another course, and one of another organisation, reach
// nothing of the activity with their own sessions: not by its address,
// nor by its ids under their own activity's address.
func TestPeerReviewUnreachableFromAnotherCourseOrPlatform(t *testing.T) {
	eachDBFastGrades(t, func(t *testing.T, env *apptest.Env) {
		ines, people := peerReviewWithWork(t, env, nil)
		link := linkIDOf(t, ines.res.URL)
		var secrets []string
		for _, p := range people {
			secrets = append(secrets, p.name, p.file, strings.SplitN(p.text, "\n", 2)[0])
		}
		reviews := prReviews(t, env)
		var fileIDs, exampleIDs []string
		must(t, env.DB.Raw(`SELECT id FROM pr_files`).Scan(&fileIDs).Error)
		exampleIDs = append(exampleIDs, saveExample(t, env, ines))
		secrets = append(secrets, "QX-EXAMPLE")
		// Every address of the activity, with real ids.
		gets := []string{"/review", "/review/work", "/review/feedback", "/review/dashboard", "/review/export.csv", "/review/examples/new"}
		posts := []string{"/review/work", "/review/fill", "/review/release", "/review/remind", "/review/examples"}
		for _, r := range reviews[:3] {
			gets = append(gets, "/review/r/"+r.ID)
			posts = append(posts, "/review/r/"+r.ID, "/review/r/"+r.ID+"/rate", "/review/r/"+r.ID+"/flag", "/review/r/"+r.ID+"/remove", "/review/r/"+r.ID+"/resolve")
		}
		for _, p := range people {
			gets = append(gets, "/review/u/"+p.id)
			posts = append(posts, "/review/u/"+p.id+"/override", "/review/u/"+p.id+"/assign")
		}
		for _, f := range fileIDs {
			gets = append(gets, "/review/files/"+f+"/file-1.png")
		}
		for _, e := range exampleIDs {
			gets = append(gets, "/review/examples/"+e, "/review/calibrate/"+e)
			posts = append(posts, "/review/calibrate/"+e)
		}

		// Another course of the same platform, whose own activity is a
		// peer review too; another organisation's registration likewise.
		must(t, env.Platform.AddCourse(ltiplatform.Course{ID: "course-202", Label: "CHEM-202", Title: "Chemistry"}))
		must(t, env.Platform.AddUser(ltiplatform.User{ID: "learner-zed", Name: "Zed Other", Email: "zed@example.edu"}))
		must(t, env.Platform.Enroll("course-202", "learner-zed", lti.RoleLearner))
		must(t, env.Platform.Enroll("course-202", apptest.Instructor, lti.RoleInstructor))
		must(t, env.Platform.AddResourceLink(ltiplatform.ResourceLink{ID: "link-chem", CourseID: "course-202", Title: "Chemistry review"}))
		chem := orgRegistration{Platform: env.Registered, course: "course-202", link: "link-chem"}
		joinVia(t, env, chem, apptest.Instructor).configure(peerReviewSettings)
		zed := joinVia(t, env, chem, "learner-zed")

		other := registerInOrg(t, env, "other-client", "", "course-303")
		joinVia(t, env, other, apptest.Instructor).configure(peerReviewSettings)
		// Alice herself, through another organisation: another person there.
		aliceElsewhere := joinVia(t, env, other, apptest.Learner)

		before, blobs := prSnapshot(t, env, link), blobCount(t, env)
		for who, m := range map[string]*member{"a learner of another course": zed, "a learner of another organisation": aliceElsewhere} {
			own := linkIDOf(t, m.res.URL)
			csrf := m.reviewCSRF()
			for _, l := range []string{link, own} {
				for _, path := range gets {
					u := env.App.URL("/a/" + l + path)
					res := m.get(u)
					if res.StatusCode == http.StatusOK && l == link {
						t.Errorf("%s opened %s: 200", who, path)
					}
					if l == own && res.StatusCode == http.StatusOK && strings.Contains(path, "/r/") {
						t.Errorf("%s opened the activity's review under their own address %s", who, path)
					}
					mustNotShow(t, who+" GET /a/"+l+path, res.Body, secrets)
					raw, body := m.fetch(u)
					if raw.StatusCode == http.StatusOK && strings.Contains(path, "/files/") {
						t.Errorf("%s was served a file at /a/%s%s", who, l, path)
					}
					mustNotShow(t, who+" fetch /a/"+l+path, string(body), secrets)
				}
				for _, path := range posts {
					res := m.postAs(env.App.URL("/a/"+l+path), url.Values{"csrf": {csrf}, "rating": {"1"}, "reason": {"x"},
						"percent": {"0"}, "reviewer": {people[0].id}, "title": {"Forged"}, "body": {"Forged."}, "action": {"submit"}})
					if res.StatusCode == http.StatusOK && l == link {
						t.Errorf("%s posted %s: 200", who, path)
					}
					mustNotShow(t, who+" POST /a/"+l+path, res.Body, secrets)
				}
			}
		}
		if after := prSnapshot(t, env, link); after != before {
			t.Errorf("outsiders changed the peer review:\nbefore:\n%s\nafter:\n%s", before, after)
		}
		if blobCount(t, env) != blobs {
			t.Errorf("outsiders changed the files")
		}
	})
}

// The work form refuses a file larger than the activity takes, in words,
// and keeps nothing of it; forms without their CSRF token are refused.
func TestPeerReviewOversizedUploadAndForgedForms(t *testing.T) {
	eachDBFastGrades(t, func(t *testing.T, env *apptest.Env) {
		ines := join(t, env, apptest.Instructor)
		ines.configure(peerReviewSettings) // max_file_mb 2
		alice := join(t, env, apptest.Learner)
		big := string(onePixelPNG) + strings.Repeat("\x00", 3<<20)
		files, blobs := env.Count(t, "pr_files"), blobCount(t, env)
		res, body := alice.submitWork("An essay.", [3]string{"files", "huge.png", big})
		if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "huge.png is too large: a file may be at most 2 MB") {
			t.Errorf("an oversized file: %d\n%.2000s", res.StatusCode, body)
		}
		if n := env.Count(t, "pr_files"); n != files {
			t.Errorf("%d pr_files rows after a refused file, want %d", n, files)
		}
		if n := blobCount(t, env); n != blobs {
			t.Errorf("%d blobs after a refused file, want %d", n, blobs)
		}
		if n := env.Count(t, "pr_submissions"); n != 0 {
			t.Errorf("%d submissions after a refused form", n)
		}
		// A second file past the first that fits: neither stays.
		res, body = alice.submitWork("An essay.", [3]string{"files", "small.png", string(onePixelPNG)}, [3]string{"files", "huge.png", big})
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("an oversized second file: %d\n%.1000s", res.StatusCode, body)
		}
		if n := env.Count(t, "pr_files"); n != files {
			t.Errorf("%d pr_files rows after a refused form, want %d", n, files)
		}
		if n := blobCount(t, env); n != blobs {
			t.Errorf("%d blobs after a refused form, want %d", n, blobs)
		}

		// The work form without its token in the action.
		alice.get(alice.activityURL("/review/work"))
		action, _ := url.Parse(alice.abs(alice.page.Find("[data-testid=work-form]").AttrOr("action", "")))
		q := action.Query()
		q.Del("csrf")
		action.RawQuery = q.Encode()
		if res, _ := alice.postFiles(action.String(), url.Values{"body": {"Forged work."}}); res.StatusCode != http.StatusForbidden {
			t.Errorf("work without its CSRF token: %d", res.StatusCode)
		}
		q.Set("csrf", "forged")
		action.RawQuery = q.Encode()
		if res, _ := alice.postFiles(action.String(), url.Values{"body": {"Forged work."}}); res.StatusCode != http.StatusForbidden {
			t.Errorf("work with a forged CSRF token: %d", res.StatusCode)
		}
		if n := env.Count(t, "pr_submissions"); n != 0 {
			t.Errorf("a forged form kept %d submissions", n)
		}
		// A review without its token.
		if res, _ := alice.submitWork("An essay.\n\nIts second paragraph."); res.StatusCode != http.StatusOK {
			t.Fatalf("alice submits: %d", res.StatusCode)
		}
		join(t, env, apptest.Learner2).submitWork("Bob's essay.")
		ines.get(ines.activityURL("/review/dashboard"))
		if ines.page.Find("[data-testid=fill]").Length() > 0 {
			ines.submit("form:has([data-testid=fill])", nil)
		}
		alice.get(alice.activityURL("/review"))
		href := alice.page.Find("[data-testid=queue-item] a").First().AttrOr("href", "")
		if href == "" {
			t.Fatalf("alice has nothing to review:\n%.2000s", alice.res.Body)
		}
		alice.get(alice.abs(href))
		form := alice.page.Find("[data-testid=review-form]")
		v := fields(form)
		v.Del("csrf")
		v.Set("comment", "Forged.")
		v.Set("action", "save")
		if res := alice.visit(alice.b.PostForm(context.Background(), alice.abs(form.AttrOr("action", "")), v)); res.StatusCode != http.StatusForbidden {
			t.Errorf("a review without its CSRF token: %d", res.StatusCode)
		}
		var drafts int64
		must(t, env.DB.Raw(`SELECT COUNT(*) FROM pr_reviews WHERE state <> 'assigned'`).Scan(&drafts).Error)
		if drafts != 0 {
			t.Errorf("a forged review form changed %d reviews", drafts)
		}
	})
}

// A learner of another cohort of the same activity (reviews allocated
// within each cohort) reaches nothing of the other cohort's work: its
// reviews, files, ratings and flags are not found, and no page of theirs
// names its people or shows its text.
func TestPeerReviewCohortsApart(t *testing.T) {
	eachDBFastGrades(t, func(t *testing.T, env *apptest.Env) {
		seeded := apptest.SeedLearners(t, env, 2)
		ines := join(t, env, apptest.Instructor)
		settings := map[string]string{"cohort_policy": "section"}
		for k, v := range peerReviewSettings {
			settings[k] = v
		}
		ines.configure(settings)
		section := func(id string) ltiplatform.LaunchRequest {
			return ltiplatform.LaunchRequest{LIS: &lti.LISClaim{CourseSectionSourcedID: id}}
		}
		type learner struct {
			m          *member
			text, file string
		}
		north := []learner{
			{launchAs(t, env, apptest.Learner, section("NORTH")), "North essay QX-NORTH-1.\n\nMore.", "north-alice.png"},
			{launchAs(t, env, apptest.Learner2, section("NORTH")), "North essay QX-NORTH-2.\n\nMore.", "north-bob.png"},
		}
		south := []learner{
			{launchAs(t, env, seeded[0], section("SOUTH")), "South essay QX-SOUTH-1.\n\nMore.", "south-0.png"},
			{launchAs(t, env, seeded[1], section("SOUTH")), "South essay QX-SOUTH-2.\n\nMore.", "south-1.png"},
		}
		for _, l := range append(append([]learner{}, north...), south...) {
			if got := text(l.m.page, "[data-testid=cohort-name]"); got != "" && !strings.HasPrefix(got, "Section") {
				t.Fatalf("cohort shown %q", got)
			}
			if res, body := l.m.submitWork(l.text, [3]string{"files", l.file, string(onePixelPNG)}); res.StatusCode != http.StatusOK {
				t.Fatalf("submitting: %d\n%.1500s", res.StatusCode, body)
			}
		}
		var cohorts int64
		must(t, env.DB.Raw(`SELECT COUNT(DISTINCT cohort_id) FROM pr_submissions`).Scan(&cohorts).Error)
		if cohorts != 2 {
			t.Fatalf("submissions in %d cohorts, want 2", cohorts)
		}
		link := linkIDOf(t, ines.res.URL)
		base := env.App.URL("/a/" + link)
		var northReviews, northFiles []string
		must(t, env.DB.Raw(`SELECT r.id FROM pr_reviews r JOIN pr_submissions s ON s.org_id = r.org_id AND s.id = r.submission_id
			JOIN users u ON u.org_id = s.org_id AND u.id = s.author_id WHERE u.subject IN (?, ?)`, apptest.Learner, apptest.Learner2).Scan(&northReviews).Error)
		must(t, env.DB.Raw(`SELECT f.id FROM pr_files f JOIN users u ON u.org_id = f.org_id AND u.id = f.uploader_id WHERE u.subject IN (?, ?)`,
			apptest.Learner, apptest.Learner2).Scan(&northFiles).Error)
		var northIDs []string
		must(t, env.DB.Raw(`SELECT id FROM users WHERE subject IN (?, ?)`, apptest.Learner, apptest.Learner2).Scan(&northIDs).Error)
		if len(northReviews) == 0 || len(northFiles) != 2 {
			t.Fatalf("the north cohort: %d reviews, %d files", len(northReviews), len(northFiles))
		}
		secrets := []string{"Alice Mbeki", "Bob Lindqvist", "QX-NORTH", "north-alice", "north-bob"}
		before := prSnapshot(t, env, link)
		for _, s := range south {
			csrf := s.m.reviewCSRF()
			s.m.get(base + "/review")
			mustNotShow(t, "a south learner's home", s.m.res.Body, secrets)
			for _, r := range northReviews {
				if res := s.m.get(base + "/review/r/" + r); res.StatusCode != http.StatusNotFound {
					t.Errorf("another cohort's review: %d", res.StatusCode)
				}
				mustNotShow(t, "another cohort's review", s.m.res.Body, secrets)
				for _, action := range []string{"", "/rate", "/flag"} {
					res := s.m.postAs(base+"/review/r/"+r+action, url.Values{"csrf": {csrf}, "action": {"save"}, "rating": {"5"}, "reason": {"Unfair."}})
					if res.StatusCode != http.StatusNotFound {
						t.Errorf("POST another cohort's review%s: %d", action, res.StatusCode)
					}
					mustNotShow(t, "POST another cohort's review"+action, res.Body, secrets)
				}
			}
			for _, f := range northFiles {
				if res, _ := s.m.fetch(base + "/review/files/" + f + "/file-1.png"); res.StatusCode != http.StatusNotFound {
					t.Errorf("another cohort's file: %d", res.StatusCode)
				}
			}
			for _, id := range northIDs {
				if res := s.m.get(base + "/review/u/" + id); res.StatusCode != http.StatusForbidden {
					t.Errorf("another cohort's learner page: %d", res.StatusCode)
				}
				mustNotShow(t, "another cohort's learner page", s.m.res.Body, secrets)
			}
		}
		if after := prSnapshot(t, env, link); after != before {
			t.Errorf("another cohort's learners changed the peer review:\n%s\n%s", before, after)
		}
	})
}
