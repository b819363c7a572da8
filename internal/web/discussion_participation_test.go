package web_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/roundtable-lms/roundtable/internal/apptest"
)

// fakeClock is a time the test moves, read safely by the server's goroutines.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *fakeClock) now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) add(d time.Duration) { c.ns.Add(int64(d)) }

type learnerRow struct {
	name, threads, replies, accepted, upvotes, lastActive string
}

func participationRows(d *goquery.Document) []learnerRow {
	var out []learnerRow
	d.Find("[data-testid=learner]").Each(func(_ int, s *goquery.Selection) {
		cell := func(id string) string { return strings.TrimSpace(s.Find("[data-testid=" + id + "]").Text()) }
		out = append(out, learnerRow{cell("name"), cell("threads"), cell("replies"), cell("accepted"), cell("upvotes"),
			s.Find("[data-testid=last-active] time").AttrOr("datetime", cell("last-active"))})
	})
	return out
}

func TestParticipationForStaff(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		// Posts happen a day ahead of the launches, so each poster's last
		// post is their last activity.
		clock := &fakeClock{}
		t0 := time.Now().UTC().Add(24 * time.Hour).Truncate(time.Second)
		clock.set(t0)
		env.App.Web.Discussions.Now = clock.now

		addLearner(t, env, "learner-carol", "Carol Diaz", "Carol", "Diaz")
		addLearner(t, env, "learner-dave", "=SUM(1+1) Dave", "Dave", "")
		alice := join(t, env, apptest.Learner)
		bob := join(t, env, apptest.Learner2)
		carol := join(t, env, "learner-carol")
		join(t, env, "learner-dave") // launches, never posts
		ines := join(t, env, apptest.Instructor)

		// Q1 by alice, answered by bob after 30 minutes, accepted.
		alice.ask("question", "First question", "Where are the gloves?", nil)
		q1 := alice.res.URL
		clock.add(30 * time.Minute)
		bob.get(q1)
		bob.reply("In the blue cabinet.")
		clock.add(10 * time.Minute)
		alice.get(q1)
		alice.reply("Found them, thanks.") // the asker's own reply is no answer
		alice.postAction("blue cabinet", "accept")
		// Q2 by bob at +1h, first answered by carol 2h30 later.
		clock.set(t0.Add(time.Hour))
		bob.follow("nav.discussion-nav a")
		bob.ask("question", "Second question", "Who signs the permit?", nil)
		q2 := bob.res.URL
		clock.set(t0.Add(3*time.Hour + 30*time.Minute))
		carol.get(q2)
		carol.reply("The site manager.")
		// Q3 by carol, with only her own reply: unanswered.
		clock.set(t0.Add(4 * time.Hour))
		carol.follow("nav.discussion-nav a")
		carol.ask("question", "Third question", "Is there a fire drill?", nil)
		clock.add(10 * time.Minute)
		carol.reply("Never mind, found it.")
		// A discussion by alice: her last activity.
		clock.set(t0.Add(5 * time.Hour))
		alice.follow("nav.discussion-nav a")
		alice.ask("discussion", "A discussion", "Share a near miss.", nil)
		// Upvotes: bob's answer 2 (staff's counts), carol's answer 1, alice's question 1.
		ines.get(q1)
		ines.postAction("blue cabinet", "vote")
		carol.get(q1)
		carol.postAction("blue cabinet", "vote")
		bob.get(q1)
		bob.postAction("gloves", "vote")
		alice.get(q2)
		alice.postAction("site manager", "vote")
		// Ines's own reply does not make her a row.
		ines.get(q2)
		ines.reply("Confirmed.")

		ines.get(q1)
		ines.follow("[data-testid=participation-link]")
		if ines.res.StatusCode != http.StatusOK {
			t.Fatalf("participation: %d", ines.res.StatusCode)
		}
		at := func(d time.Duration) string { return t0.Add(d).Format(time.RFC3339) }
		got := participationRows(ines.page)
		if len(got) != 4 {
			t.Fatalf("rows: %+v", got)
		}
		want := map[string]learnerRow{
			"Alice Mbeki":    {"Alice Mbeki", "2", "1", "0", "1", at(5 * time.Hour)},
			"Bob Lindqvist":  {"Bob Lindqvist", "1", "1", "1", "2", at(time.Hour)},
			"Carol Diaz":     {"Carol Diaz", "1", "2", "0", "1", at(4*time.Hour + 10*time.Minute)},
			"=SUM(1+1) Dave": {"=SUM(1+1) Dave", "0", "0", "0", "0", ""},
		}
		for _, r := range got {
			w := want[r.name]
			if r.name == "=SUM(1+1) Dave" {
				// Dave never posted: his last launch, before the posts.
				if last, err := time.Parse(time.RFC3339, r.lastActive); err != nil || !last.Before(t0) {
					t.Errorf("dave's last active %q", r.lastActive)
				}
				w.lastActive = r.lastActive
			}
			if r != w {
				t.Errorf("row %+v, want %+v", r, w)
			}
		}
		if names := ines.page.Find("[data-testid=not-participated] li").Text(); names != "=SUM(1+1) Dave" {
			t.Errorf("not participated: %q", names)
		}
		if m := text(ines.page, "[data-testid=median-first-answer] strong"); m != "1 hour 30 minutes" {
			t.Errorf("median time to a first answer: %q, want 1 hour 30 minutes", m)
		}

		// Sorted by a column, by a plain link.
		ines.follow("th a:contains('Replies')")
		var order []string
		for _, r := range participationRows(ines.page) {
			order = append(order, r.name)
		}
		if strings.Join(order, ",") != "Carol Diaz,Alice Mbeki,Bob Lindqvist,=SUM(1+1) Dave" {
			t.Errorf("by replies: %v", order)
		}

		// The CSV: an attachment, escaped, formula-safe.
		href := ines.page.Find("[data-testid=participation-csv]").AttrOr("href", "")
		res, err := ines.b.HTTPClient().Get(ines.abs(href))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if cd := res.Header.Get("Content-Disposition"); res.StatusCode != http.StatusOK || !strings.HasPrefix(cd, "attachment;") ||
			!strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
			t.Errorf("CSV answered %d, %q, %q", res.StatusCode, cd, res.Header.Get("Content-Type"))
		}
		records, err := csv.NewReader(res.Body).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(records) != 5 || strings.Join(records[0], "|") != "Learner|Email|Threads|Replies|Accepted answers|Upvotes received|Peer reviews|Last active (UTC)" {
			t.Fatalf("CSV: %v", records)
		}
		if strings.Join(records[1][:6], "|") != "Carol Diaz|learner-carol@example.edu|1|2|0|1" || records[1][6] != "0" || records[1][7] != at(4*time.Hour+10*time.Minute) {
			t.Errorf("CSV row: %v", records[1])
		}
		if records[4][0] != "'=SUM(1+1) Dave" {
			t.Errorf("a formula-like name is not escaped: %q", records[4][0])
		}
	})
}

func TestParticipationIsForStaffOnly(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		for _, tc := range []struct {
			user string
			want int
		}{{apptest.Learner, http.StatusForbidden}, {apptest.Learner2, http.StatusForbidden}, {apptest.Assistant, http.StatusOK}, {apptest.Instructor, http.StatusOK}} {
			m := join(t, env, tc.user)
			if has := m.page.Find("[data-testid=participation-link]").Length() == 1; has != (tc.want == http.StatusOK) {
				t.Errorf("%s: participation link shown %v", tc.user, has)
			}
			for _, p := range []string{"/participation", "/participation.csv"} {
				u := strings.Split(m.res.URL, "?")[0] + p
				res, err := m.b.Get(context.Background(), u+"?rt="+m.rt)
				if err != nil {
					t.Fatal(err)
				}
				if res.StatusCode != tc.want {
					t.Errorf("%s GET %s: %d, want %d", tc.user, p, res.StatusCode, tc.want)
				}
				if tc.want != http.StatusOK && strings.Contains(res.Body, "example.edu") {
					t.Errorf("%s sees learners' emails at %s", tc.user, p)
				}
			}
		}
		// With no answered question, the page says so.
		ines := join(t, env, apptest.Instructor)
		ines.follow("[data-testid=participation-link]")
		if m := text(ines.page, "[data-testid=median-first-answer] strong"); m != "no answered questions yet" {
			t.Errorf("median with no answers: %q", m)
		}
	})
}
