package session_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// The access check reads the platform, the membership and the cohort as
// they are now, reuses what it read for CacheFor, and refuses a session
// whose platform, membership or cohort no longer holds.
func TestAccessFollowsThePlatformAndTheMembership(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
		exec := func(q string, args ...any) {
			t.Helper()
			if err := db.Exec(q, args...).Error; err != nil {
				t.Fatal(err)
			}
		}
		storetest.AddPlatform(t, db, "p1", "https://lms.example")
		exec(`INSERT INTO users (org_id, id, issuer, subject, pseudonym, created_at, updated_at) VALUES ('p1', 'u1', 'https://lms.example', 's1', 'P', ?, ?)`, now, now)
		exec(`INSERT INTO courses (org_id, id, issuer, deployment_id, context_key, platform_id, created_at, updated_at)
			VALUES ('p1', 'c1', 'https://lms.example', 'd1', 'ctx', 'p1', ?, ?)`, now, now)
		exec(`INSERT INTO memberships (org_id, course_id, user_id, roles, sections, status, created_at, updated_at)
			VALUES ('p1', 'c1', 'u1', 'teaching_assistant', '["section:A"]', 'active', ?, ?)`, now, now)
		for _, co := range []struct{ id, key string }{{"coA", "section:A"}, {"coB", "section:B"}} {
			exec(`INSERT INTO cohorts (org_id, id, course_id, cohort_key, created_at) VALUES ('p1', ?, 'c1', ?, ?)`, co.id, co.key, now)
		}

		a := session.NewAccess(db)
		a.Now = func() time.Time { return now }
		sess := session.Session{OrgID: "p1", PlatformID: "p1", UserID: "u1", CourseID: "c1", LinkID: "l1", CohortID: "coA", Roles: course.Roles{course.Instructor}}
		check := func(s session.Session) (session.Session, error) {
			t.Helper()
			return a.Check(ctx, s)
		}
		// The roles are the membership's, not the launch's; the TA's own
		// section's cohort is open to him, another is not.
		got, err := check(sess)
		if err != nil || got.Roles.String() != "teaching_assistant" {
			t.Fatalf("TA in his section: %v %v", got.Roles, err)
		}
		other := sess
		other.CohortID = "coB"
		if _, err := check(other); !errors.Is(err, session.ErrCohortClosed) {
			t.Errorf("TA in another section: %v", err)
		}
		gone := sess
		gone.CohortID = "not-a-cohort"
		if _, err := check(gone); !errors.Is(err, session.ErrCohortClosed) {
			t.Errorf("a cohort not the course's: %v", err)
		}

		// Each change is seen once the cache period has passed.
		for _, step := range []struct {
			name, change string
			want         error
		}{
			{"disabled platform", `UPDATE platforms SET status = 'disabled'`, session.ErrPlatformDisabled},
			{"pending platform", `UPDATE platforms SET status = 'pending'`, session.ErrPlatformPending},
			{"enabled again", `UPDATE platforms SET status = 'active'`, nil},
			{"inactive member", `UPDATE memberships SET status = 'inactive'`, session.ErrMembershipInactive},
			{"active again", `UPDATE memberships SET status = 'active'`, nil},
			{"no membership", `DELETE FROM memberships`, session.ErrNotMember},
		} {
			before, beforeErr := check(sess)
			exec(step.change)
			if got, err := check(sess); !errors.Is(err, beforeErr) || got.Roles.String() != before.Roles.String() {
				t.Errorf("%s: seen within the cache period (%v)", step.name, err)
			}
			now = now.Add(a.CacheFor)
			if _, err := check(sess); !errors.Is(err, step.want) {
				t.Errorf("%s: %v, want %v", step.name, err, step.want)
			}
		}
		exec(`DELETE FROM platforms`)
		now = now.Add(a.CacheFor)
		if _, err := check(sess); !errors.Is(err, session.ErrPlatformDisabled) {
			t.Errorf("removed platform: %v", err)
		}

		// A launch's standing is recalled without a read, for every
		// session of the person on this replica.
		fresh := session.NewAccess(db)
		fresh.Now = a.Now
		learner := sess
		learner.Roles = course.Roles{course.Learner}
		fresh.Remember(learner, nil)
		if got, err := fresh.Check(ctx, learner); err != nil || got.Roles.String() != "learner" {
			t.Errorf("remembered launch: %v %v", got.Roles, err)
		}
	})
}
