package session_test

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/session"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// A switched session is seen at once by another replica that had cached
// the old one: its new id was never cached anywhere.
func TestSwitchCohortIsSeenByEveryReplica(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
		storetest.AddPlatform(t, db, "p1", "https://lms.example")
		key := []byte("a secret of sufficient length for tests")
		here, there := session.NewStore(db, key), session.NewStore(db, key)
		here.Now = func() time.Time { return now }
		there.Now = here.Now
		var secret string
		var sess session.Session
		err := db.Tx(ctx, func(tx *gorm.DB) (err error) {
			secret, sess, err = here.Create(ctx, tx, session.Session{OrgID: "p1", PlatformID: "p1", UserID: "u1", CourseID: "c1", LinkID: "l1",
				CohortID: "co1", Roles: course.Roles{course.Instructor}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := there.FromSecret(ctx, secret); err != nil || got.CohortID != "co1" {
			t.Fatalf("the other replica reads %+v %v", got, err)
		}
		now = now.Add(time.Minute)
		newSecret, moved, err := here.SwitchCohort(ctx, sess, "co2")
		if err != nil {
			t.Fatal(err)
		}
		if moved.IDHash == sess.IDHash || newSecret == secret || moved.CohortID != "co2" || !moved.ExpiresAt.Equal(sess.ExpiresAt) ||
			moved.UserID != "u1" || moved.LinkID != "l1" || !moved.Roles.Has(course.Instructor) {
			t.Fatalf("switched session = %+v", moved)
		}
		for name, st := range map[string]*session.Store{"this replica": here, "another replica": there} {
			if got, err := st.FromSecret(ctx, newSecret); err != nil || got.CohortID != "co2" {
				t.Errorf("%s by secret: %+v %v", name, got, err)
			}
			if got, err := st.FromToken(ctx, st.Token(moved)); err != nil || got.CohortID != "co2" {
				t.Errorf("%s by token: %+v %v", name, got, err)
			}
		}
		// The old session keeps its cohort.
		if got, err := there.FromSecret(ctx, secret); err != nil || got.CohortID != "co1" {
			t.Errorf("old session: %+v %v", got, err)
		}
	})
}
