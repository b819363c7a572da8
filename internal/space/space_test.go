package space_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/space"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

func TestForCohortFindsOrCreatesOneSpace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := space.NewStore(db)
		a, err := s.ForCohort(ctx, "p1", "c1", "l1", "A")
		must(t, err)
		if a.ID == "" || a.Kind != space.ActivityCohort || a.OrgID != "p1" || a.CourseID != "c1" || a.LinkID != "l1" || a.CohortID != "A" {
			t.Fatalf("new space %+v", a)
		}
		// Another replica (a store with nothing in memory) finds the same.
		again, err := space.NewStore(db).ForCohort(ctx, "p1", "c1", "l1", "A")
		must(t, err)
		if again != a {
			t.Errorf("second lookup %+v, want %+v", again, a)
		}
		b, err := s.ForCohort(ctx, "p1", "c1", "l1", "B")
		must(t, err)
		other, err := s.ForCohort(ctx, "p2", "c1", "l1", "A")
		must(t, err)
		if b.ID == a.ID || other.ID == a.ID {
			t.Errorf("cohort B %s and another platform's cohort %s share cohort A's space %s", b.ID, other.ID, a.ID)
		}
		got, err := s.Get(ctx, a.ID)
		if err != nil || got != a {
			t.Errorf("Get %+v %v", got, err)
		}
		var n int64
		must(t, db.Raw(`SELECT COUNT(*) FROM spaces`).Row().Scan(&n))
		if n != 3 {
			t.Errorf("%d spaces, want 3", n)
		}
	})
}

func TestRolesHeldInASpace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := space.NewStore(db)
		sp, err := s.ForCohort(ctx, "p1", "c1", "l1", "A")
		must(t, err)
		if rs, err := s.RolesOf(ctx, sp.ID, "mia"); err != nil || len(rs) != 0 {
			t.Fatalf("roles before a grant: %v %v", rs, err)
		}
		must(t, s.Grant(ctx, sp.ID, "mia", space.Moderator, "ines"))
		must(t, s.Grant(ctx, sp.ID, "mia", space.Moderator, "ines"))
		must(t, s.Grant(ctx, sp.ID, "mia", space.Expert, "ines"))
		if err := s.Grant(ctx, sp.ID, "mia", "owner", "ines"); err == nil {
			t.Error("granted a role spaces do not have")
		}
		rs, err := s.RolesOf(ctx, sp.ID, "mia")
		if err != nil || !rs.Has(space.Moderator) || !rs.Has(space.Expert) || len(rs) != 2 {
			t.Fatalf("roles after grants: %v %v", rs, err)
		}
		must(t, s.Revoke(ctx, sp.ID, "mia", space.Moderator))
		if rs, _ := s.RolesOf(ctx, sp.ID, "mia"); rs.Has(space.Moderator) || !rs.Has(space.Expert) {
			t.Errorf("roles after revoking moderator: %v", rs)
		}
	})
}

// TestNewPersonHoldsNoRoles: a person a launch just created is known to
// hold no role without a read; a grant since is seen at once.
func TestNewPersonHoldsNoRoles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := space.NewStore(db)
		sp, err := s.ForCohort(ctx, "p1", "c1", "l1", "A")
		must(t, err)
		s.NewPerson(sp.ID, "noor")
		if rs, err := s.RolesOf(ctx, sp.ID, "noor"); err != nil || len(rs) != 0 {
			t.Fatalf("a new person's roles: %v %v", rs, err)
		}
		must(t, s.Grant(ctx, sp.ID, "noor", space.Expert, "ines"))
		if rs, err := s.RolesOf(ctx, sp.ID, "noor"); err != nil || !rs.Has(space.Expert) {
			t.Fatalf("roles after a grant to a new person: %v %v", rs, err)
		}
	})
}

func TestRules(t *testing.T) {
	sp := space.Space{ID: "s1", OrgID: "p1", Kind: space.ActivityCohort, CourseID: "c1", LinkID: "l1", CohortID: "A"}
	for _, c := range []struct {
		name   string
		course course.Roles
		held   space.Roles
		want   space.Permissions
	}{
		{"learner", course.Roles{course.Learner}, nil, space.Permissions{Read: true, Post: true}},
		{"observer", course.Roles{course.Mentor}, nil, space.Permissions{Read: true}},
		{"instructor", course.Roles{course.Instructor}, nil, space.Permissions{Read: true, Post: true, Moderate: true}},
		{"teaching assistant", course.Roles{course.TeachingAssistant}, nil, space.Permissions{Read: true, Post: true, Moderate: true}},
		{"learner moderating the space", course.Roles{course.Learner}, space.Roles{space.Moderator}, space.Permissions{Read: true, Post: true, Moderate: true}},
		{"observer holding expert", course.Roles{course.Mentor}, space.Roles{space.Expert}, space.Permissions{Read: true, Post: true}},
		{"outsider", nil, nil, space.Permissions{}},
		{"outside member of the space", nil, space.Roles{space.Member}, space.Permissions{Read: true, Post: true}},
	} {
		if got := sp.Rules(c.course, c.held); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

// TestRolesReadOncePerSpace: a space with few grants is read whole, so one
// read answers for everyone in it until RolesFor has passed (a grant made
// by another replica shows then, as a grant to one person always did); a
// space with more grants than are read whole is read person by person.
func TestRolesReadOncePerSpace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
		s := space.NewStore(db)
		s.Now = func() time.Time { return now }
		grantElsewhere := func(spaceID, userID string, role space.Role) {
			t.Helper()
			must(t, db.Exec(`INSERT INTO space_roles (space_id, user_id, role, granted_by, created_at) VALUES (?, ?, ?, 'ines', ?)`,
				spaceID, userID, string(role), now).Error)
		}

		few, err := s.ForCohort(ctx, "p1", "c1", "l1", "A")
		must(t, err)
		must(t, s.Grant(ctx, few.ID, "mia", space.Moderator, "ines"))
		if rs, err := s.RolesOf(ctx, few.ID, "mia"); err != nil || !rs.Has(space.Moderator) {
			t.Fatalf("mia's roles: %v %v", rs, err)
		}
		grantElsewhere(few.ID, "noor", space.Expert)
		if rs, err := s.RolesOf(ctx, few.ID, "noor"); err != nil || len(rs) != 0 {
			t.Fatalf("noor's roles within the space's read: %v %v, want none yet", rs, err)
		}
		now = now.Add(s.RolesFor)
		if rs, err := s.RolesOf(ctx, few.ID, "noor"); err != nil || !rs.Has(space.Expert) {
			t.Fatalf("noor's roles once the space's read expired: %v %v", rs, err)
		}

		many, err := s.ForCohort(ctx, "p1", "c1", "l1", "B")
		must(t, err)
		for i := range 60 {
			must(t, s.Grant(ctx, many.ID, fmt.Sprintf("expert-%02d", i), space.Expert, "ines"))
		}
		for _, who := range []string{"expert-00", "expert-59"} {
			if rs, err := s.RolesOf(ctx, many.ID, who); err != nil || !rs.Has(space.Expert) || len(rs) != 1 {
				t.Fatalf("%s's roles in a space of 60 grants: %v %v", who, rs, err)
			}
		}
		grantElsewhere(many.ID, "omar", space.Moderator)
		if rs, err := s.RolesOf(ctx, many.ID, "omar"); err != nil || !rs.Has(space.Moderator) {
			t.Fatalf("omar's roles, read alone in a space of many grants: %v %v", rs, err)
		}
	})
}
