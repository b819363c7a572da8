package space_test

import (
	"context"
	"testing"

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
