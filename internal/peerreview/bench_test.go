package peerreview_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/roundtable-lms/roundtable/discussion/discussiontest"
	"github.com/roundtable-lms/roundtable/internal/peerreview"
	"github.com/roundtable-lms/roundtable/internal/peerreview/peerreviewtest"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// scaleCourse is a cohort of 1,000 submitters who each review three
// others (3,000 reviews, 70 % done), seeded in bulk, and the store on it.
func scaleCourse(b *testing.B, kind store.Dialect, sc peerreviewtest.Scale) (*peerreview.Store, peerreview.Viewer, peerreview.Options) {
	b.Helper()
	db := storetest.Open(b, kind)
	ctx := context.Background()
	sp, err := discussiontest.NewSpace(ctx, db, 0)
	if err != nil {
		b.Fatal(err)
	}
	o := peerreview.Defaults()
	if err := o.Validate(true); err != nil {
		b.Fatal(err)
	}
	f, err := peerreviewtest.Seed(ctx, db, peerreviewtest.Space{OrgID: sp.OrgID, CourseID: sp.CourseID, LinkID: sp.LinkID, CohortID: sp.CohortID}, sc, o)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%s fixture: %v, seeded in %s", kind, f.Rows, f.Took)
	v := peerreview.Viewer{OrgID: sp.OrgID, CourseID: sp.CourseID, LinkID: sp.LinkID, CohortID: sp.CohortID, UserID: "teacher", Staff: true}
	return peerreview.NewStore(db), v, o
}

// BenchmarkSubmitInCohortOf1000 measures Store.Submit of a newcomer's
// first version in a cohort of 1,000 submitters and 3,000 reviews: the
// pool's read, the dynamic allocation, the inserts (submission, version,
// six reviews and their log) and the activity's regrade, in one
// transaction. Each iteration is one more newcomer, so the cohort grows
// by b.N (keep -benchtime small, e.g. 20x):
//
//	TEST_DATABASE_URL=... go test ./internal/peerreview -run '^$' -bench SubmitInCohortOf1000 -benchtime 20x
func BenchmarkSubmitInCohortOf1000(b *testing.B) {
	for _, kind := range storetest.Kinds {
		b.Run(string(kind), func(b *testing.B) {
			s, staff, o := scaleCourse(b, kind, peerreviewtest.Large)
			ctx := context.Background()
			// One untimed submission first: the pool's connections and
			// statements are warm, as a running server's are.
			n := 0
			submit := func() {
				v := staff
				v.Staff, v.UserID = false, fmt.Sprintf("newcomer-%04d", n)
				n++
				if _, err := s.Submit(ctx, v, o, peerreview.WorkInput{Body: "My essay\n\nIts second paragraph."}); err != nil {
					b.Fatal(err)
				}
			}
			submit()
			for b.Loop() {
				submit()
			}
			rs, err := s.ReviewsBy(ctx, peerreview.Viewer{OrgID: staff.OrgID, LinkID: staff.LinkID, UserID: "newcomer-0000"})
			if err != nil || len(rs) != o.Reviewers {
				b.Fatalf("the first newcomer was given %d reviews (%v), want %d", len(rs), err, o.Reviewers)
			}
		})
	}
}

// BenchmarkComputeCourse measures Store.Compute, the grades of the whole
// activity as the dashboard and every regrade compute them, on the cohort
// of 1,000 submitters and 3,000 reviews: the reads and score.Compute
// (whose own time, without the database, is score's BenchmarkComputeCourse).
//
//	TEST_DATABASE_URL=... go test ./internal/peerreview -run '^$' -bench ComputeCourse
func BenchmarkComputeCourse(b *testing.B) {
	for _, kind := range storetest.Kinds {
		b.Run(string(kind), func(b *testing.B) {
			s, staff, o := scaleCourse(b, kind, peerreviewtest.Scale{Learners: 1000, Filled: true})
			ctx := context.Background()
			name := func(string) string { return "" }
			b.ReportAllocs()
			for b.Loop() {
				c, err := s.Compute(ctx, nil, staff, o, name)
				if err != nil {
					b.Fatal(err)
				}
				if len(c.Grades) != 1000 {
					b.Fatalf("%d grades", len(c.Grades))
				}
			}
		})
	}
}
