package course_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/internal/activity"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

func cohortPlatform(t *testing.T, db *store.DB) {
	t.Helper()
	storetest.AddPlatform(t, db, "p1", "https://lms.example")
}

func cohortLaunchInput(subject, link string, roles ...course.Role) course.LaunchInput {
	if len(roles) == 0 {
		roles = course.Roles{course.Learner}
	}
	return course.LaunchInput{OrgID: "p1", PlatformID: "p1", Issuer: "https://lms.example", DeploymentID: "d1", Subject: subject, Name: "Person " + subject,
		ContextID: "ctx", ContextTitle: "Biology 101", ResourceLinkID: link, Roles: roles}
}

// launch records in as the web layer does: the settled plan writes
// nothing; any other goes through ApplyLaunch in a transaction. adopt, when
// not nil, is given to a plan whose link has no settings.
func cohortLaunch(t *testing.T, db *store.DB, cs *course.Store, in course.LaunchInput, adopt *course.Settings) (course.Recorded, bool) {
	t.Helper()
	ctx := context.Background()
	plan, err := cs.PlanLaunch(ctx, db.SQL, in)
	if err != nil {
		t.Fatal(err)
	}
	if adopt != nil && !plan.HasSettings() {
		plan.AdoptSettings(*adopt)
	}
	if rec, ok := plan.Settled(); ok {
		return rec, true
	}
	var rec course.Recorded
	err = db.TxRelaxed(ctx, func(tx *gorm.DB) error {
		rec, err = cs.ApplyLaunch(ctx, tx, plan)
		return err
	})
	if err != nil {
		t.Fatalf("launch of %s: %v", in.Subject, err)
	}
	return rec, false
}

func saveCohortSettings(t *testing.T, db *store.DB, cs *course.Store, linkID string, edit func(*course.Settings)) {
	t.Helper()
	ctx := context.Background()
	st, err := cs.Settings(ctx, "p1", linkID)
	if err != nil {
		t.Fatal(err)
	}
	edit(&st)
	if err := db.Tx(ctx, func(tx *gorm.DB) error { return cs.SaveSettings(ctx, tx, st) }); err != nil {
		t.Fatal(err)
	}
}

func TestAdoptSettingsOnFirstLaunch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		cohortPlatform(t, db)
		cs := course.NewStore(db)
		ctx := context.Background()
		chosen := course.DefaultSettings("", "")
		chosen.Kind, chosen.CohortPolicy, chosen.GroupSize, chosen.Instructions = activity.KindQuestionBoard, course.CohortGroups, 2, "Ask away."

		plan, err := cs.PlanLaunch(ctx, db.SQL, cohortLaunchInput("t1", "rl1", course.Instructor))
		if err != nil {
			t.Fatal(err)
		}
		if plan.HasSettings() {
			t.Fatal("a new link has settings")
		}
		// A learner's first launch of a link placed with settings.
		rec, settled := cohortLaunch(t, db, cs, cohortLaunchInput("s1", "rl1"), &chosen)
		if settled {
			t.Fatal("a first launch was settled")
		}
		if rec.Cohort.Key != "groups:2:1" || rec.Cohort.Name != "Group 1" {
			t.Fatalf("cohort = %+v, want the first group of 2", rec.Cohort)
		}
		st, err := cs.Settings(ctx, "p1", rec.Link.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Configured || st.Kind != activity.KindQuestionBoard || st.CohortPolicy != course.CohortGroups || st.GroupSize != 2 || st.Instructions != "Ask away." {
			t.Fatalf("adopted settings = %+v", st)
		}

		// Relaunch: the link has settings now; adopting others changes nothing.
		other := course.DefaultSettings("", "")
		plan, err = cs.PlanLaunch(ctx, db.SQL, cohortLaunchInput("s1", "rl1"))
		if err != nil {
			t.Fatal(err)
		}
		if !plan.HasSettings() {
			t.Fatal("HasSettings = false after adoption")
		}
		plan.AdoptSettings(other)
		again, ok := plan.Settled()
		if !ok || again.Cohort.ID != rec.Cohort.ID || again.Cohort.Key != "groups:2:1" {
			t.Fatalf("relaunch settled = %v, cohort %+v; want settled in %s", ok, again.Cohort, rec.Cohort.ID)
		}
		if a := again.Activity(); a.Settings.Kind != activity.KindQuestionBoard || a.Settings.Instructions != "Ask away." || a.CohortSize != 1 {
			t.Fatalf("settled activity = %+v", a)
		}

		// Invalid adopted settings fail the launch rather than store them.
		bad := course.DefaultSettings("", "")
		bad.GroupSize = 1
		plan, err = cs.PlanLaunch(ctx, db.SQL, cohortLaunchInput("s2", "rl2"))
		if err != nil {
			t.Fatal(err)
		}
		plan.AdoptSettings(bad)
		if _, ok := plan.Settled(); ok {
			t.Fatal("a plan with adopted settings is settled")
		}
		err = db.Tx(ctx, func(tx *gorm.DB) error { _, err := cs.ApplyLaunch(ctx, tx, plan); return err })
		if err == nil {
			t.Fatal("invalid adopted settings were accepted")
		}
	})
}

func TestSectionPolicy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		cohortPlatform(t, db)
		cs := course.NewStore(db)
		staff, _ := cohortLaunch(t, db, cs, cohortLaunchInput("t1", "rl1", course.Instructor), nil)
		saveCohortSettings(t, db, cs, staff.Link.ID, func(st *course.Settings) { st.CohortPolicy = course.CohortSection })

		for _, tc := range []struct {
			name    string
			custom  map[string]string
			lis     string
			key     string
			cohName string
		}{
			{"cohort parameter wins", map[string]string{"cohort": "Evening", "canvas_section_ids": "12"}, "SIS-1", "section:Evening", "Evening"},
			{"canvas ids, lowest of several", map[string]string{"canvas_section_ids": "120, 15,9000"}, "SIS-1", "section:15", "Section 15"},
			{"unsubstituted variable ignored", map[string]string{"canvas_section_ids": "$Canvas.course.sectionIds"}, "SIS-1", "section:SIS-1", "Section SIS-1"},
			{"section_ids", map[string]string{"section_ids": "B,A"}, "", "section:A", "Section A"},
			{"lis only", nil, "SIS-2", "section:SIS-2", "Section SIS-2"},
			{"no section: the course", map[string]string{"cohort": "  "}, "", "course", "Biology 101"},
		} {
			in := cohortLaunchInput("s-"+tc.name, "rl1")
			in.Custom, in.CourseSection = tc.custom, tc.lis
			rec, _ := cohortLaunch(t, db, cs, in, nil)
			if rec.Cohort.Key != tc.key || rec.Cohort.Name != tc.cohName {
				t.Errorf("%s: cohort %q %q, want %q %q", tc.name, rec.Cohort.Key, rec.Cohort.Name, tc.key, tc.cohName)
			}
			again, settled := cohortLaunch(t, db, cs, in, nil)
			if !settled || again.Cohort.ID != rec.Cohort.ID {
				t.Errorf("%s: relaunch settled=%v in %s, want settled in %s", tc.name, settled, again.Cohort.ID, rec.Cohort.ID)
			}
		}
		// Staff join the section they launch from too.
		in := cohortLaunchInput("t1", "rl1", course.Instructor)
		in.Custom = map[string]string{"cohort": "Evening"}
		if rec, _ := cohortLaunch(t, db, cs, in, nil); rec.Cohort.Key != "section:Evening" {
			t.Errorf("staff cohort = %q", rec.Cohort.Key)
		}
		list, err := cs.Cohorts(context.Background(), "p1", staff.Course.ID)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, c := range list {
			keys = append(keys, fmt.Sprintf("%s=%d", c.Key, c.Size))
		}
		want := "[course=2 section:15=1 section:A=1 section:Evening=2 section:SIS-1=1 section:SIS-2=1]"
		if fmt.Sprint(keys) != want {
			t.Errorf("cohorts = %v, want %s", keys, want)
		}
	})
}

func TestGroupsPolicy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		cohortPlatform(t, db)
		cs := course.NewStore(db)
		ctx := context.Background()
		staff, _ := cohortLaunch(t, db, cs, cohortLaunchInput("t1", "rl1", course.Instructor), nil)
		saveCohortSettings(t, db, cs, staff.Link.ID, func(st *course.Settings) { st.CohortPolicy, st.GroupSize = course.CohortGroups, 3 })

		got := map[string]string{}
		for i := range 7 {
			rec, _ := cohortLaunch(t, db, cs, cohortLaunchInput(fmt.Sprintf("s%d", i), "rl1"), nil)
			got[rec.User.ID] = rec.Cohort.Key
		}
		// Staff are in no group: they take the course-wide cohort.
		if rec, _ := cohortLaunch(t, db, cs, cohortLaunchInput("ta", "rl1", course.TeachingAssistant), nil); rec.Cohort.Key != "course" {
			t.Errorf("staff cohort = %q, want course", rec.Cohort.Key)
		}
		sizes := groupSizes(t, cs, staff.Course.ID)
		if fmt.Sprint(sizes) != "map[groups:3:1:3 groups:3:2:3 groups:3:3:1]" {
			t.Fatalf("group sizes = %v, want 3, 3 and 1", sizes)
		}
		// Stable: every learner relaunches into their group, on the settled path.
		for i := range 7 {
			rec, settled := cohortLaunch(t, db, cs, cohortLaunchInput(fmt.Sprintf("s%d", i), "rl1"), nil)
			if !settled || rec.Cohort.Key != got[rec.User.ID] {
				t.Errorf("s%d relaunch: settled=%v in %q, want %q", i, settled, rec.Cohort.Key, got[rec.User.ID])
			}
		}
		// Another activity with the same size shares the groups; a late
		// joiner fills the smallest group.
		second, _ := cohortLaunch(t, db, cs, cohortLaunchInput("t1", "rl2", course.Instructor), nil)
		saveCohortSettings(t, db, cs, second.Link.ID, func(st *course.Settings) { st.CohortPolicy, st.GroupSize = course.CohortGroups, 3 })
		for i := range 7 {
			rec, _ := cohortLaunch(t, db, cs, cohortLaunchInput(fmt.Sprintf("s%d", i), "rl2"), nil)
			if rec.Cohort.Key != got[rec.User.ID] {
				t.Errorf("s%d in the second activity: %q, want %q", i, rec.Cohort.Key, got[rec.User.ID])
			}
		}
		if rec, _ := cohortLaunch(t, db, cs, cohortLaunchInput("late", "rl2"), nil); rec.Cohort.Key != "groups:3:3" {
			t.Errorf("late joiner in %q, want the smallest group groups:3:3", rec.Cohort.Key)
		}
		// A changed size applies from then on: new groups of the new size.
		saveCohortSettings(t, db, cs, second.Link.ID, func(st *course.Settings) { st.GroupSize = 4 })
		rec, settled := cohortLaunch(t, db, cs, cohortLaunchInput("s0", "rl2"), nil)
		if settled || rec.Cohort.Key != "groups:4:1" {
			t.Errorf("after the size change: settled=%v in %q, want groups:4:1", settled, rec.Cohort.Key)
		}
		if _, err := cs.CohortOf(ctx, "p1", staff.Course.ID, rec.Cohort.ID); err != nil {
			t.Error(err)
		}
	})
}

// TestGroupsUnderConcurrentLaunches: 30 learners, 8 launching at once, fill
// groups of 4 exactly: 7 full groups and one of 2.
func TestGroupsUnderConcurrentLaunches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		cohortPlatform(t, db)
		cs := course.NewStore(db)
		staff, _ := cohortLaunch(t, db, cs, cohortLaunchInput("t1", "rl1", course.Instructor), nil)
		saveCohortSettings(t, db, cs, staff.Link.ID, func(st *course.Settings) { st.CohortPolicy, st.GroupSize = course.CohortGroups, 4 })
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		slots := make(chan struct{}, 8)
		var wg sync.WaitGroup
		errs := make(chan error, 30)
		for i := range 30 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				slots <- struct{}{}
				defer func() { <-slots }()
				plan, err := cs.PlanLaunch(ctx, db.SQL, cohortLaunchInput(fmt.Sprintf("c%d", i), "rl1"))
				if err == nil {
					err = db.TxRelaxed(ctx, func(tx *gorm.DB) error { _, err := cs.ApplyLaunch(ctx, tx, plan); return err })
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		sizes := groupSizes(t, cs, staff.Course.ID)
		full, total := 0, 0
		for key, n := range sizes {
			if n > 4 {
				t.Errorf("%s has %d members, more than 4", key, n)
			}
			if n == 4 {
				full++
			}
			total += n
		}
		if len(sizes) != 8 || full != 7 || total != 30 {
			t.Errorf("groups = %v, want 7 full groups of 4 and one of 2", sizes)
		}
		var members int
		if err := db.Raw(`SELECT COUNT(*) FROM cohort_members cm JOIN cohorts co ON co.org_id = cm.org_id AND co.id = cm.cohort_id
			WHERE co.cohort_key LIKE 'groups:4:%'`).Scan(&members).Error; err != nil {
			t.Fatal(err)
		}
		if members != 30 {
			t.Errorf("%d group memberships recorded, want 30 (member counts must match rows)", members)
		}
	})
}

func groupSizes(t *testing.T, cs *course.Store, courseID string) map[string]int {
	t.Helper()
	list, err := cs.Cohorts(context.Background(), "p1", courseID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, c := range list {
		if c.Key != "course" {
			out[c.Key] = c.Size
		}
	}
	return out
}
