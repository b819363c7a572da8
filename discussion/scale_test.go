package discussion_test

import (
	"context"
	"testing"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/discussion/discussiontest"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// TestReadsAtScaleDoNotGrow counts the statements of the pages' reads on
// a seeded space (threads with up to hundreds of posts, votes, follows,
// visits, notifications, hidden and removed posts): one per list page
// whatever its sort, filter or depth, three for a 100-post thread, one
// for the header's notification count.
func TestReadsAtScaleDoNotGrow(t *testing.T) {
	// The package's two seeded tests (4,000 and 10,000 posts) and their
	// halves run at the same time, after the rest.
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, counted, n := countedDB(t, kind)
			sp, err := discussiontest.NewSpace(ctx, db, 2)
			if err != nil {
				t.Fatal(err)
			}
			f, err := discussiontest.Seed(ctx, db, sp, discussiontest.Scale{Threads: 120, Posts: 4000, Learners: 40})
			if err != nil {
				t.Fatal(err)
			}
			s := discussion.NewStore(counted)
			v := discussion.Viewer{SpaceID: f.Space.SpaceID, OrgID: sp.OrgID, CourseID: sp.CourseID, LinkID: sp.LinkID, CohortID: sp.CohortID, UserID: sp.Viewers[0]}

			for _, q := range []discussion.ListQuery{{}, {Sort: discussion.SortNewest}, {Sort: discussion.SortTop},
				{Sort: discussion.SortUnanswered}, {Tag: f.Tag}, {Following: true}} {
				cursor := ""
				for page := 1; page <= 3; page++ {
					q.Cursor = cursor
					n.Store(0)
					l, err := s.List(ctx, v, q)
					if err != nil {
						t.Fatal(err)
					}
					if got := n.Load(); got != 1 {
						t.Errorf("list %+v page %d: %d statements, want 1", q, page, got)
					}
					if len(l.Threads) == 0 && page == 1 {
						t.Errorf("list %+v: no threads", q)
					}
					if cursor = l.Next; cursor == "" {
						break
					}
				}
			}

			n.Store(0)
			tv, err := s.Thread(ctx, v, f.Hundred)
			if err != nil {
				t.Fatal(err)
			}
			posts := 1
			for _, r := range tv.Replies {
				posts += 1 + len(r.Children)
			}
			if got := n.Load(); got != threadStatements(kind) || posts != 100 {
				t.Errorf("thread of %d posts: %d statements, want 100 posts in %d", posts, got, threadStatements(kind))
			}

			n.Store(0)
			st, err := s.Standing(ctx, v)
			if err != nil {
				t.Fatal(err)
			}
			unseen := st.UnseenNotifications
			if got := n.Load(); got != 1 || unseen == 0 || unseen > discussion.MaxUnreadCounted {
				t.Errorf("notification count %d in %d statements, want 1 statement and 1 to %d", unseen, got, discussion.MaxUnreadCounted)
			}
		})
	}
}
