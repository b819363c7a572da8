package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

type rosterRow struct{ name, role, status, lastOpened string }

func rosterRows(d *goquery.Document) map[string]rosterRow {
	out := map[string]rosterRow{}
	d.Find("[data-testid=member]").Each(func(_ int, s *goquery.Selection) {
		cell := func(id string) string { return strings.TrimSpace(s.Find("[data-testid=" + id + "]").Text()) }
		name := strings.TrimSpace(s.Find("[data-testid=name]").Contents().First().Text())
		out[name] = rosterRow{name, cell("role"), s.AttrOr("data-status", ""), cell("last-opened")}
	})
	return out
}

func neverOpened(d *goquery.Document) []string {
	var out []string
	d.Find("[data-testid=never-opened] li").Each(func(_ int, s *goquery.Selection) {
		out = append(out, strings.TrimSpace(s.Contents().First().Text()))
	})
	return out
}

// userOf reads a person's user id and course membership status.
func userOf(t *testing.T, env *apptest.Env, subject string) (id, status string) {
	t.Helper()
	var rows []struct{ ID, Status string }
	must(t, env.DB.Raw(`SELECT u.id, m.status FROM users u JOIN memberships m ON m.org_id = u.org_id AND m.user_id = u.id
		WHERE u.subject = ?`, subject).Scan(&rows).Error)
	if len(rows) != 1 {
		t.Fatalf("%d users and memberships for %s", len(rows), subject)
	}
	return rows[0].ID, rows[0].Status
}

func TestRosterFromTheLMSOverThreePagesScopedToTheActivity(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		for _, id := range []string{"learner-carol", "learner-dave", "learner-erin", "learner-fay", "learner-gus"} {
			addLearner(t, env, id, strings.ToUpper(id[8:9])+id[9:]+" Test", "", "")
		}
		env.Platform.SetMemberActive(apptest.CourseID, "learner-fay", false)
		env.Platform.SetServicePageSize(3) // 9 members: 3 pages
		ines := join(t, env, apptest.Instructor)
		join(t, env, apptest.Learner)

		ines.home()
		ines.follow("[data-testid=roster-link]")
		if ines.res.StatusCode != http.StatusOK {
			t.Fatalf("roster page: %d", ines.res.StatusCode)
		}
		if got := rosterRows(ines.page); len(got) != 2 {
			t.Errorf("before any sync the roster lists %v, want the two who launched", got)
		}
		if txt := ines.page.Find("[data-testid=roster-last-sync]").Text(); !strings.Contains(txt, "has not been read") {
			t.Errorf("last sync before any: %q", txt)
		}

		ines.submit("form:has([data-testid=roster-refresh])", nil)
		if ines.res.StatusCode != http.StatusOK || !strings.Contains(ines.res.URL, "/roster") {
			t.Fatalf("after refresh: %d at %s", ines.res.StatusCode, ines.res.URL)
		}
		outcome := ines.page.Find("[data-testid=roster-outcome]").Text()
		if !strings.Contains(outcome, "this activity's roster") || !strings.Contains(outcome, "9 members") || !strings.Contains(outcome, "7 added") {
			t.Errorf("outcome %q", outcome)
		}
		if txt := ines.page.Find("[data-testid=roster-last-sync]").Text(); !strings.Contains(txt, "This activity's roster was last read") ||
			!strings.Contains(txt, "(9 members)") || strings.Contains(txt, "has not been read") {
			t.Errorf("last sync after the refresh: %q", txt)
		}
		var pages int
		for _, r := range env.Platform.ServiceRequests() {
			if strings.Contains(r.Path, "/memberships") {
				pages++
				if !strings.Contains(r.Path, "rlid="+apptest.LinkID) || r.Status != http.StatusOK {
					t.Errorf("membership request %s answered %d, want rlid=%s", r.Path, r.Status, apptest.LinkID)
				}
			}
		}
		if pages != 3 {
			t.Errorf("%d membership requests, want 3 pages", pages)
		}

		rows := rosterRows(ines.page)
		want := map[string]rosterRow{
			"Ines Okafor":   {"Ines Okafor", "Instructor", "active", ""},
			"Alice Mbeki":   {"Alice Mbeki", "Learner", "active", ""},
			"Bob Lindqvist": {"Bob Lindqvist", "Learner", "never-opened", "never"},
			"Tom Reyes":     {"Tom Reyes", "Teaching assistant", "never-opened", "never"},
			"Fay Test":      {"Fay Test", "Learner", "inactive", "never"},
		}
		if len(rows) != 9 {
			t.Errorf("%d rows, want 9: %v", len(rows), rows)
		}
		for name, w := range want {
			got := rows[name]
			if w.lastOpened == "" && got.lastOpened != "never" {
				w.lastOpened = got.lastOpened // a time
			}
			if got != w {
				t.Errorf("%s: %+v, want %+v", name, got, w)
			}
		}
		// Staff and inactive learners are not in the list of learners who
		// never opened the activity.
		if got := strings.Join(neverOpened(ines.page), ","); got != "Bob Lindqvist,Carol Test,Dave Test,Erin Test,Gus Test" {
			t.Errorf("never opened: %s", got)
		}
		bobBefore, status := userOf(t, env, apptest.Learner2)
		if status != "not_yet_active" {
			t.Errorf("bob after the sync: %s", status)
		}

		// Bob launches: the same user row, now active, no longer listed.
		join(t, env, apptest.Learner2)
		bobAfter, status := userOf(t, env, apptest.Learner2)
		if bobAfter != bobBefore || status != "active" {
			t.Errorf("bob after his launch: user %s (was %s), status %s", bobAfter, bobBefore, status)
		}
		ines.home()
		ines.follow("[data-testid=roster-link]")
		if r := rosterRows(ines.page)["Bob Lindqvist"]; r.status != "active" || r.lastOpened == "never" {
			t.Errorf("bob's row after his launch: %+v", r)
		}
		if got := neverOpened(ines.page); len(got) != 4 || got[0] == "Bob Lindqvist" {
			t.Errorf("never opened after bob's launch: %v", got)
		}
	})
}

func TestRosterIsForStaffAndItsRefreshNeedsCSRF(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		alice := join(t, env, apptest.Learner)
		ines := join(t, env, apptest.Instructor)
		alice.home()
		if alice.page.Find("nav.discussion-nav").Length() != 1 || alice.page.Find("[data-testid=roster-link]").Length() != 0 {
			t.Error("a learner's header shows the roster link, or there is no header")
		}
		res := alice.get(linkOf(alice.res.URL) + "/roster")
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("learner's roster page: %d", res.StatusCode)
		}
		// alice's own valid form fields, sent to the refresh action.
		v := url.Values{"csrf": {alice.page.Find("input[name=csrf]").First().AttrOr("value", "")}, "rt": {alice.rt}}
		res, err := alice.b.PostForm(context.Background(), linkOf(alice.res.URL)+"/roster/refresh", v)
		must(t, err)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("learner's refresh: %d", res.StatusCode)
		}
		ines.home()
		ines.follow("[data-testid=roster-link]")
		form := ines.page.Find("form:has([data-testid=roster-refresh])")
		v = fields(form)
		v.Set("csrf", "nonsense")
		res, err = ines.b.PostForm(context.Background(), ines.abs(form.AttrOr("action", "")), v)
		must(t, err)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("refresh with a wrong CSRF token: %d", res.StatusCode)
		}
		if n := env.Count(t, "roster_syncs"); n != 0 {
			t.Errorf("%d roster syncs from refused requests", n)
		}
		for _, r := range env.Platform.ServiceRequests() {
			if strings.Contains(r.Path, "/memberships") {
				t.Errorf("the LMS was asked for the roster: %s", r.Path)
			}
		}
	})
}

func TestRosterRefreshShowsWhyItFailed(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		tool, err := env.Platform.Tool(apptest.ClientID)
		must(t, err)
		tool.Scopes = []string{lti.AGSScopeScore}
		must(t, env.Platform.AddTool(tool))
		ines := join(t, env, apptest.Instructor)
		ines.home()
		ines.follow("[data-testid=roster-link]")
		if ines.page.Find("[data-testid=roster-no-service]").Length() != 1 {
			t.Error("no notice that the LMS offers no roster service")
		}
		refresh := func() string {
			t.Helper()
			ines.submit("form:has([data-testid=roster-refresh])", nil)
			if ines.res.StatusCode != http.StatusOK {
				t.Fatalf("refresh answered %d", ines.res.StatusCode)
			}
			return ines.page.Find("[data-testid=roster-error]").Text()
		}
		if msg := refresh(); !strings.Contains(msg, "has not offered its roster service") {
			t.Errorf("without an NRPS claim: %q", msg)
		}

		// An LMS that names its memberships service but does not grant
		// the scope.
		must(t, env.DB.Exec(`UPDATE resource_links SET nrps_url = ?`, env.Platform.MembershipsURL(apptest.CourseID)).Error)
		if msg := refresh(); !strings.Contains(msg, "did not grant Roundtable access to the course roster") {
			t.Errorf("without the NRPS scope: %q", msg)
		}

		tool.Scopes = nil
		must(t, env.Platform.AddTool(tool))
		env.Platform.FailServices(ltiplatform.Fault{Status: http.StatusServiceUnavailable})
		if msg := refresh(); !strings.Contains(msg, "did not answer") {
			t.Errorf("LMS down: %q", msg)
		}
		if n := env.Count(t, "memberships"); n != 1 {
			t.Errorf("%d memberships after failed syncs, want ines's alone", n)
		}

		env.Platform.ClearServiceFault()
		if msg := refresh(); msg != "" {
			t.Errorf("after the LMS recovered: %q", msg)
		}
		if out := ines.page.Find("[data-testid=roster-outcome]").Text(); !strings.Contains(out, "4 members") {
			t.Errorf("outcome %q", out)
		}
	})
}

func TestRosterRefreshesInTheBackgroundWithTheWholeCourse(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		join(t, env, apptest.Instructor)
		join(t, env, apptest.Learner)
		n, err := env.App.Roster.RefreshDue(ctx, time.Hour, 10)
		must(t, err)
		if n != 1 {
			t.Fatalf("refreshed %d courses, want the one launched", n)
		}
		if n, _ := env.App.Roster.RefreshDue(ctx, time.Hour, 10); n != 0 {
			t.Errorf("refreshed %d courses again within the hour", n)
		}
		for _, r := range env.Platform.ServiceRequests() {
			if strings.Contains(r.Path, "/memberships") && strings.Contains(r.Path, "rlid=") {
				t.Errorf("the background refresh asked for one activity: %s", r.Path)
			}
		}
		if _, status := userOf(t, env, apptest.Assistant); status != "not_yet_active" {
			t.Errorf("tom after the refresh: %s", status)
		}

		// Alice is dropped in the LMS: inactive, until she launches again.
		env.Platform.SetMemberActive(apptest.CourseID, apptest.Learner, false)
		time.Sleep(10 * time.Millisecond)
		n, err = env.App.Roster.RefreshDue(ctx, time.Millisecond, 10)
		must(t, err)
		if n != 1 {
			t.Fatalf("second refresh: %d courses", n)
		}
		id, status := userOf(t, env, apptest.Learner)
		if status != "inactive" {
			t.Errorf("alice, Inactive in the LMS: %s", status)
		}
		join(t, env, apptest.Learner)
		if again, status := userOf(t, env, apptest.Learner); again != id || status != "active" {
			t.Errorf("alice after launching again: %s %s", again, status)
		}
	})
}
