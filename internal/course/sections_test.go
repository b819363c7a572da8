package course_test

import (
	"fmt"
	"testing"

	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// A launch records every section it names on the membership (the TA's
// limit), and a relaunch naming other sections is no settled launch.
func TestLaunchRecordsTheSectionsItNames(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		cohortPlatform(t, db)
		cs := course.NewStore(db)
		for _, tc := range []struct {
			name   string
			custom map[string]string
			lis    string
			want   string
		}{
			{"cohort parameter", map[string]string{"cohort": "Evening, late", "canvas_section_ids": "12"}, "", "[section:Evening, late]"},
			{"every canvas id, once", map[string]string{"canvas_section_ids": "120, 15,9000,15"}, "SIS-1", "[section:120 section:15 section:9000]"},
			{"unsubstituted variable ignored", map[string]string{"canvas_section_ids": "$Canvas.course.sectionIds"}, "SIS-1", "[section:SIS-1]"},
			{"none", nil, "", "[]"},
		} {
			in := cohortLaunchInput("ta-"+tc.name, "rl1", course.TeachingAssistant)
			in.Custom, in.CourseSection = tc.custom, tc.lis
			rec, _ := cohortLaunch(t, db, cs, in, nil)
			var stored string
			if err := db.Raw(`SELECT sections FROM memberships WHERE user_id = ?`, rec.User.ID).Scan(&stored).Error; err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(course.ParseSections(stored)); got != tc.want || fmt.Sprint(rec.Sections) != fmt.Sprint(course.ParseSections(stored)) {
				t.Errorf("%s: stored %q (%s), recorded %v, want %s", tc.name, stored, got, rec.Sections, tc.want)
			}
			if _, settled := cohortLaunch(t, db, cs, in, nil); !settled {
				t.Errorf("%s: the same relaunch wrote again", tc.name)
			}
			in.Custom, in.CourseSection = map[string]string{"section_ids": "other"}, ""
			if _, settled := cohortLaunch(t, db, cs, in, nil); settled {
				t.Errorf("%s: a relaunch naming other sections was settled", tc.name)
			}
		}
	})
}

func TestMayViewCohort(t *testing.T) {
	for _, tc := range []struct {
		roles    course.Roles
		sections []string
		key      string
		want     bool
	}{
		{course.Roles{course.Instructor}, []string{"section:1"}, "section:2", true},
		{course.Roles{course.Administrator}, nil, "groups:4:1", true},
		{course.Roles{course.TeachingAssistant}, nil, "section:2", true},
		{course.Roles{course.TeachingAssistant}, []string{"section:1"}, "section:1", true},
		{course.Roles{course.TeachingAssistant}, []string{"section:1"}, "section:2", false},
		{course.Roles{course.TeachingAssistant}, []string{"section:1"}, "course", false},
		{course.Roles{course.Instructor, course.TeachingAssistant}, []string{"section:1"}, "course", true},
		{course.Roles{course.Learner}, nil, "course", false},
		{course.Roles{course.Mentor}, nil, "section:1", false},
	} {
		if got := course.MayViewCohort(tc.roles, tc.sections, tc.key); got != tc.want {
			t.Errorf("%v with sections %v viewing %s: %v, want %v", tc.roles, tc.sections, tc.key, got, tc.want)
		}
	}
}

// Observers (a Mentor role without Learner or staff roles) are placed as
// staff are: never in a group, and settled on relaunch. A mentor who is
// also a learner is a learner.
func TestObserversJoinNoGroup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		cohortPlatform(t, db)
		cs := course.NewStore(db)
		staff, _ := cohortLaunch(t, db, cs, cohortLaunchInput("t1", "rl1", course.Instructor), nil)
		saveCohortSettings(t, db, cs, staff.Link.ID, func(st *course.Settings) { st.CohortPolicy, st.GroupSize = course.CohortGroups, 3 })
		if rec, _ := cohortLaunch(t, db, cs, cohortLaunchInput("m1", "rl1", course.Mentor), nil); rec.Cohort.Key != "course" {
			t.Errorf("observer placed in %q, want the course-wide cohort", rec.Cohort.Key)
		}
		if rec, settled := cohortLaunch(t, db, cs, cohortLaunchInput("m1", "rl1", course.Mentor), nil); !settled || rec.Cohort.Key != "course" {
			t.Errorf("observer's relaunch: settled=%v in %q", settled, rec.Cohort.Key)
		}
		if rec, _ := cohortLaunch(t, db, cs, cohortLaunchInput("m2", "rl1", course.Mentor, course.Learner), nil); rec.Cohort.Key != "groups:3:1" {
			t.Errorf("a mentor who is a learner placed in %q, want a group", rec.Cohort.Key)
		}
	})
}

func TestObserverRoles(t *testing.T) {
	for _, tc := range []struct {
		roles                 course.Roles
		observer, participant bool
	}{
		{course.Roles{course.Mentor}, true, false},
		{course.Roles{course.Mentor, course.Learner}, false, true},
		{course.Roles{course.Mentor, course.TeachingAssistant}, false, false},
		{course.Roles{course.Learner}, false, true},
		{course.Roles{course.ContentDeveloper}, false, true},
		{course.Roles{course.Instructor}, false, false},
	} {
		if o, p := tc.roles.IsObserver(), tc.roles.Participant(); o != tc.observer || p != tc.participant {
			t.Errorf("%v: observer %v participant %v, want %v %v", tc.roles, o, p, tc.observer, tc.participant)
		}
	}
}
