package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// launchAs launches user through the built-in platform with req's link,
// lis claim and custom variables, into the seeded course.
func launchAs(t *testing.T, env *apptest.Env, user string, req ltiplatform.LaunchRequest) *member {
	t.Helper()
	b := ltiplatform.NewBrowser()
	req.ClientID, req.UserID, req.CourseID = apptest.ClientID, user, apptest.CourseID
	if req.ResourceLinkID == "" {
		req.ResourceLinkID = apptest.LinkID
	}
	res, err := b.Launch(context.Background(), env.Platform, req)
	var pe *ltiplatform.PageError
	if errors.As(err, &pe) {
		t.Fatalf("launch %s refused at login: %d %.300s", user, pe.StatusCode, pe.Body)
	}
	if err != nil {
		t.Fatalf("launch %s: %v", user, err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("launch %s: %d %.600s", user, res.StatusCode, res.Body)
	}
	u, _ := url.Parse(res.URL)
	return &member{rt: u.Query().Get("rt"), t: t, env: env, b: b, res: res, page: doc(t, res.Body)}
}

// addLink places another activity in the seeded course.
func addLink(t *testing.T, env *apptest.Env, id string, custom map[string]string) {
	t.Helper()
	if err := env.Platform.AddResourceLink(ltiplatform.ResourceLink{ID: id, CourseID: apptest.CourseID, Title: "Activity " + id, Custom: custom}); err != nil {
		t.Fatal(err)
	}
}

// postSettings submits the staff's settings form as it stands with edits;
// an empty value leaves a checkbox unticked.
func (m *member) postSettings(edits map[string]string) *ltiplatform.Result {
	m.t.Helper()
	if m.page.Find("[data-testid=settings-form]").Length() == 0 {
		m.follow("[data-testid=settings-link]")
	}
	form := m.page.Find("[data-testid=settings-form]")
	v := fields(form)
	for k, val := range edits {
		if val == "" {
			v.Del(k)
		} else {
			v.Set(k, val)
		}
	}
	return m.visit(m.b.PostForm(context.Background(), m.abs(form.AttrOr("action", "")), v))
}

// configure saves settings and checks they were.
func (m *member) configure(edits map[string]string) {
	m.t.Helper()
	res := m.postSettings(edits)
	if res.StatusCode != http.StatusOK || m.page.Find("[data-testid=saved]").Length() != 1 {
		m.t.Fatalf("saving settings %v: %d\n%.2000s", edits, res.StatusCode, res.Body)
	}
}

func (m *member) list() {
	m.t.Helper()
	m.follow(".discussion-nav a")
}

func threadTitles(d *goquery.Document) []string {
	var out []string
	d.Find("[data-testid=thread-link]").Each(func(_ int, s *goquery.Selection) { out = append(out, strings.TrimSpace(s.Text())) })
	return out
}

// switchTo picks the switcher's option whose label starts with label.
func (m *member) switchTo(label string) *ltiplatform.Result {
	m.t.Helper()
	form := m.page.Find("[data-testid=cohort-switcher] form")
	var id string
	form.Find("option").Each(func(_ int, o *goquery.Selection) {
		if strings.HasPrefix(o.Text(), label) {
			id = o.AttrOr("value", "")
		}
	})
	if id == "" {
		m.t.Fatalf("no cohort %q in the switcher: %s", label, form.Text())
	}
	v := fields(form)
	v.Set("cohort", id)
	res := m.visit(m.b.PostForm(context.Background(), m.abs(form.AttrOr("action", "")), v))
	// The switch opens a new session: its token, when the page carries
	// one; else the cookie carries it.
	if u, err := url.Parse(res.URL); err == nil {
		m.rt = u.Query().Get("rt")
	}
	return res
}

func TestSectionCohortsFromLaunchesAndTheStaffSwitcher(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		addLink(t, env, "link-sections", map[string]string{"canvas_section_ids": "$Canvas.course.sectionIds"})
		addLink(t, env, "link-named", map[string]string{"cohort": "Evening class", "canvas_section_ids": "$Canvas.course.sectionIds"})
		sections := func(ids string) map[string]string { return map[string]string{"$Canvas.course.sectionIds": ids} }
		ines := launchAs(t, env, apptest.Instructor, ltiplatform.LaunchRequest{ResourceLinkID: "link-sections"})
		ines.configure(map[string]string{"cohort_policy": "section"})

		// Canvas section ids: the lowest of several; an unsubstituted
		// variable is ignored and the lis claim's section used instead.
		alice := launchAs(t, env, apptest.Learner, ltiplatform.LaunchRequest{ResourceLinkID: "link-sections", Variables: sections("200,31")})
		bob := launchAs(t, env, apptest.Learner2, ltiplatform.LaunchRequest{ResourceLinkID: "link-sections", Variables: sections("200")})
		tom := launchAs(t, env, apptest.Assistant, ltiplatform.LaunchRequest{ResourceLinkID: "link-sections"})
		carol := "learner-carol"
		if err := env.Platform.AddUser(ltiplatform.User{ID: carol, Name: "Carol"}); err != nil {
			t.Fatal(err)
		}
		if err := env.Platform.Enroll(apptest.CourseID, carol, lti.RoleLearner); err != nil {
			t.Fatal(err)
		}
		carolM := launchAs(t, env, carol, ltiplatform.LaunchRequest{ResourceLinkID: "link-sections",
			LIS: &lti.LISClaim{CourseSectionSourcedID: "SIS-7"}})
		for who, want := range map[*member]string{alice: "Section 31", bob: "Section 200", carolM: "Section SIS-7"} {
			if got := text(who.page, "[data-testid=cohort-name]"); got != want {
				t.Errorf("cohort shown %q, want %q", got, want)
			}
		}
		if tom.page.Find("[data-testid=cohort-name]").Length() != 0 || tom.page.Find("[data-testid=cohort-switcher]").Length() != 1 {
			t.Errorf("a TA without a section should be in the whole course, with the switcher")
		}
		// The cohort parameter wins over section ids.
		launchAs(t, env, apptest.Instructor, ltiplatform.LaunchRequest{ResourceLinkID: "link-named"}).configure(map[string]string{"cohort_policy": "section"})
		named := launchAs(t, env, apptest.Learner, ltiplatform.LaunchRequest{ResourceLinkID: "link-named", Variables: sections("31")})
		if got := text(named.page, "[data-testid=cohort-name]"); got != "Evening class" {
			t.Errorf("cohort parameter: %q, want Evening class", got)
		}

		// Isolation: a section's thread stays in it.
		alice.ask("question", "Where is the lab on Monday?", "Section 31 meets in B12.", nil)
		threadURL := alice.res.URL
		bob.list()
		if titles := threadTitles(bob.page); len(titles) != 0 {
			t.Errorf("bob (section 200) sees %v", titles)
		}
		if res := bob.get(threadURL); res.StatusCode != http.StatusNotFound {
			t.Errorf("bob opened section 31's thread: %d", res.StatusCode)
		}

		// A learner cannot switch: a page that says why.
		v := url.Values{"csrf": {alice.page.Find("input[name=csrf]").First().AttrOr("value", "")}, "cohort": {"anything"}}
		if alice.rt != "" {
			v.Set("rt", alice.rt)
		}
		base := strings.SplitN(alice.res.URL, "/t/", 2)[0]
		res := alice.visit(alice.b.PostForm(context.Background(), base+"/cohort", v))
		if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Body, "Only the course&#39;s instructors and teaching assistants can switch between cohorts") {
			t.Errorf("learner switching: %d %.400s", res.StatusCode, res.Body)
		}

		// Staff see every cohort with its size, and switch.
		ines.list()
		var options []string
		ines.page.Find("[data-testid=cohort-select] option").Each(func(_ int, o *goquery.Selection) { options = append(options, o.Text()) })
		want := []string{"Whole course (Workplace Safety Essentials): 2 people", "Section 200: 1 person", "Section 31: 1 person",
			"Evening class: 1 person", "Section SIS-7: 1 person"}
		if fmt.Sprint(options) != fmt.Sprint(want) {
			t.Errorf("switcher options = %q, want %q", options, want)
		}
		if titles := threadTitles(ines.page); len(titles) != 0 {
			t.Errorf("the whole-course cohort shows %v", titles)
		}
		res = ines.switchTo("Section 31")
		if res.StatusCode != http.StatusOK || text(ines.page, "[data-testid=current-cohort]") != "Section 31: 1 person" {
			t.Fatalf("after switching: %d, viewing %q", res.StatusCode, text(ines.page, "[data-testid=current-cohort]"))
		}
		if titles := threadTitles(ines.page); fmt.Sprint(titles) != "[Where is the lab on Monday?]" {
			t.Errorf("staff in section 31 see %v", titles)
		}
		// The switch holds for the next pages, and staff act in that cohort.
		ines.follow("[data-testid=thread-link]")
		ines.reply("Room B12 it is.")
		alice.get(threadURL)
		if !strings.Contains(alice.page.Text(), "Room B12 it is.") {
			t.Error("alice does not see the reply staff posted after switching")
		}
		// A cohort of another course, or none: refused.
		listURL := strings.SplitN(ines.res.URL, "/t/", 2)[0]
		ines.get(listURL)
		form := ines.page.Find("[data-testid=cohort-switcher] form")
		v = fields(form)
		v.Set("cohort", "not-a-cohort")
		if res := ines.visit(ines.b.PostForm(context.Background(), ines.abs(form.AttrOr("action", "")), v)); res.StatusCode != http.StatusNotFound {
			t.Errorf("switch to an unknown cohort: %d", res.StatusCode)
		}
		// Without the CSRF token: refused.
		ines.get(listURL)
		form = ines.page.Find("[data-testid=cohort-switcher] form")
		v = fields(form)
		v.Del("csrf")
		v.Set("cohort", ines.page.Find("[data-testid=cohort-select] option").First().AttrOr("value", ""))
		if res := ines.visit(ines.b.PostForm(context.Background(), ines.abs(form.AttrOr("action", "")), v)); res.StatusCode != http.StatusForbidden {
			t.Errorf("switch without CSRF: %d", res.StatusCode)
		}
	})
}

func TestGroupsOfNBalancedStableAndConcurrent(t *testing.T) {
	eachDB(t, func(t *testing.T, env *apptest.Env) {
		addLink(t, env, "link-groups", nil)
		ines := launchAs(t, env, apptest.Instructor, ltiplatform.LaunchRequest{ResourceLinkID: "link-groups"})
		ines.configure(map[string]string{"cohort_policy": "groups", "group_size": "4"})

		learners := apptest.SeedLearners(t, env, 31)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		slots := make(chan struct{}, 8)
		var wg sync.WaitGroup
		var mu sync.Mutex
		groupOf := map[string]string{}
		errs := make(chan error, 30)
		for _, id := range learners[:30] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					errs <- ctx.Err()
					return
				}
				defer func() { <-slots }()
				b := ltiplatform.NewBrowser()
				res, err := b.Launch(ctx, env.Platform, ltiplatform.LaunchRequest{ClientID: apptest.ClientID, UserID: id,
					CourseID: apptest.CourseID, ResourceLinkID: "link-groups"})
				if err == nil && res.StatusCode != http.StatusOK {
					err = fmt.Errorf("launch of %s: %d", id, res.StatusCode)
				}
				if err != nil {
					errs <- err
					return
				}
				d, err := goquery.NewDocumentFromReader(strings.NewReader(res.Body))
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				groupOf[id] = strings.TrimSpace(d.Find("[data-testid=cohort-name]").Text())
				mu.Unlock()
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		sizes := map[string]int{}
		for _, g := range groupOf {
			sizes[g]++
		}
		if len(sizes) != 8 {
			t.Errorf("30 learners in groups of 4 make 8 groups, got %v", sizes)
		}
		for g, n := range sizes {
			if n > 4 || !strings.HasPrefix(g, "Group ") {
				t.Errorf("%q holds %d learners", g, n)
			}
		}
		// The recorded counts match the memberships.
		var rows []struct {
			Name        string
			MemberCount int
			Members     int
		}
		if err := env.DB.Raw(`SELECT co.name, co.member_count, (SELECT COUNT(*) FROM cohort_members cm WHERE cm.org_id = co.org_id AND cm.cohort_id = co.id) AS members
			FROM cohorts co WHERE co.cohort_key LIKE 'groups:4:%'`).Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		smallest, smallestSize := "", 5
		for _, r := range rows {
			if r.MemberCount != r.Members || r.Members != sizes[r.Name] || r.Members > 4 {
				t.Errorf("%s: count %d, members %d, seen %d", r.Name, r.MemberCount, r.Members, sizes[r.Name])
			}
			if r.Members < smallestSize {
				smallest, smallestSize = r.Name, r.Members
			}
		}
		// Stable on relaunch.
		for _, id := range learners[:3] {
			m := launchAs(t, env, id, ltiplatform.LaunchRequest{ResourceLinkID: "link-groups"})
			if got := text(m.page, "[data-testid=cohort-name]"); got != groupOf[id] {
				t.Errorf("%s relaunched into %q, was %q", id, got, groupOf[id])
			}
		}
		// A late joiner fills the smallest group; staff are in no group.
		late := launchAs(t, env, learners[30], ltiplatform.LaunchRequest{ResourceLinkID: "link-groups"})
		if got := text(late.page, "[data-testid=cohort-name]"); got != smallest || smallestSize != 2 {
			t.Errorf("late joiner in %q, want the smallest group %q (of %d)", got, smallest, smallestSize)
		}
		if ines.page.Find("[data-testid=cohort-name]").Length() != 0 {
			t.Error("staff were put in a group")
		}
		// Staff switch to a group; the switcher names the group size.
		ines.list()
		if res := ines.switchTo(smallest + " (groups of 4)"); res.StatusCode != http.StatusOK ||
			text(ines.page, "[data-testid=current-cohort]") != smallest+" (groups of 4): 3 people" {
			t.Errorf("staff in the late joiner's group: %d, viewing %q", res.StatusCode, text(ines.page, "[data-testid=current-cohort]"))
		}
	})
}
