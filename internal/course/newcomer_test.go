package course_test

import (
	"context"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// TestNewcomerRecordedOnceInOneStatement: a person's first launch into a
// recorded course and activity records them, their membership and their
// cohort membership, and counts them, once, however many of their launches
// race; on SQLite, and whenever something else is new, the transaction
// records the launch instead.
func TestNewcomerRecordedOnceInOneStatement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		cohortPlatform(t, db)
		cs := course.NewStore(db)

		first, err := cs.PlanLaunch(ctx, db.SQL, cohortLaunchInput("founder", "link-1"))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok, err := cs.RecordNewcomer(ctx, first); err != nil || ok {
			t.Fatalf("the course's first launch recorded as a newcomer's: %v %v", ok, err)
		}
		cohortLaunch(t, db, cs, cohortLaunchInput("founder", "link-1"), nil)

		// Four launches of one newcomer planned before any is recorded.
		var plans []*course.LaunchPlan
		for range 4 {
			p, err := cs.PlanLaunch(ctx, db.SQL, cohortLaunchInput("newcomer", "link-1"))
			if err != nil {
				t.Fatal(err)
			}
			plans = append(plans, p)
		}
		var wg sync.WaitGroup
		recs := make([]course.Recorded, len(plans))
		oks := make([]bool, len(plans))
		errs := make([]error, len(plans))
		for i, p := range plans {
			wg.Go(func() { recs[i], oks[i], errs[i] = cs.RecordNewcomer(ctx, p) })
		}
		wg.Wait()
		recorded := 0
		for i := range plans {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if !oks[i] {
				// Recorded by another: the transaction finds the person.
				err := db.TxRelaxed(ctx, func(tx *gorm.DB) error {
					var err error
					recs[i], err = cs.ApplyLaunch(ctx, tx, plans[i])
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				continue
			}
			recorded++
			if recs[i].CohortSize != 2 || recs[i].User.ID == "" || recs[i].Cohort.ID == "" {
				t.Errorf("newcomer recorded as %+v", recs[i])
			}
		}
		if want := map[store.Dialect]int{store.Postgres: 1, store.SQLite: 0}[db.Dialect]; recorded != want {
			t.Errorf("recorded as a newcomer %d times, want %d", recorded, want)
		}
		for _, r := range recs[1:] {
			if r.User.ID != recs[0].User.ID || r.Cohort.ID != recs[0].Cohort.ID {
				t.Errorf("launches of one newcomer recorded differently: %+v and %+v", recs[0], r)
			}
		}
		var counts struct{ Users, Members, CohortMembers, Size int }
		db.Raw(`SELECT (SELECT COUNT(*) FROM users) AS users, (SELECT COUNT(*) FROM memberships) AS members,
			(SELECT COUNT(*) FROM cohort_members) AS cohort_members, (SELECT member_count FROM cohorts) AS size`).Scan(&counts)
		if counts != (struct{ Users, Members, CohortMembers, Size int }{2, 2, 2, 2}) {
			t.Errorf("after the newcomer's launches: %+v, want 2 of each", counts)
		}
		// Relaunching, the newcomer is no newcomer.
		again, err := cs.PlanLaunch(ctx, db.SQL, cohortLaunchInput("newcomer", "link-1"))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok, err := cs.RecordNewcomer(ctx, again); err != nil || ok {
			t.Errorf("a relaunch recorded as a newcomer's: %v %v", ok, err)
		}
	})
}
