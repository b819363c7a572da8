package space_test

import (
	"context"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/space"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// A database from before spaces holds a cohort's discussion keyed by
// platform, activity and cohort. Migration 26 gives each activity's cohort
// that holds anything a space, keys every row by it, renames the live
// topics kept for reconnecting browsers, and re-indexes search: the
// discussion reads as it did, now through its space.
func TestMigrationKeysAnExistingDiscussionBySpace(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, storetest.Config(t, kind))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			must(t, db.MigrateTo(ctx, 22))

			now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
			for _, c := range []struct{ cohort, thread, post, title, body string }{
				{"A", "t-a", "p-a", "How do I read a p-value?", "The lecture's slide on significance lost me"},
				{"B", "t-b", "p-b", "Cohort B's question", "Another cohort's significance question"},
			} {
				must(t, db.Exec(`INSERT INTO threads (platform_id, id, course_id, link_id, cohort_id, kind, title, author_id,
					opening_post_id, last_post_id, last_activity_at, created_at) VALUES ('p1', ?, 'c1', 'l1', ?, 'question', ?, 'alice', ?, ?, ?, ?)`,
					c.thread, c.cohort, c.title, c.post, c.post, now, now).Error)
				must(t, db.Exec(`INSERT INTO posts (platform_id, id, cohort_id, link_id, thread_id, opening, author_id, body, created_at)
					VALUES ('p1', ?, ?, 'l1', ?, TRUE, 'alice', ?, ?)`, c.post, c.cohort, c.thread, c.body, now).Error)
				must(t, db.Exec(`INSERT INTO thread_tags (platform_id, cohort_id, thread_id, tag) VALUES ('p1', ?, ?, 'stats')`, c.cohort, c.thread).Error)
				must(t, db.Exec(`INSERT INTO participation_events (platform_id, id, course_id, link_id, cohort_id, user_id, kind, thread_id, post_id, created_at)
					VALUES ('p1', ?, 'c1', 'l1', ?, 'alice', 'thread_created', ?, ?, ?)`, "e-"+c.cohort, c.cohort, c.thread, c.post, now).Error)
				must(t, db.Exec(`INSERT INTO live_events (topic, type, data, created_at) VALUES (?, 'post.created', '{}', ?)`,
					"space:p1:l1:"+c.cohort, now).Error)
			}
			must(t, db.Exec(`INSERT INTO notifications (platform_id, id, cohort_id, link_id, user_id, kind, actor_id, thread_id, post_id, created_at)
				VALUES ('p1', 'n1', 'A', 'l1', 'bob', 'reply', 'alice', 't-a', 'p-a', ?)`, now).Error)

			must(t, db.Migrate(ctx))

			var spaces int64
			must(t, db.Raw(`SELECT COUNT(*) FROM spaces`).Row().Scan(&spaces))
			if spaces != 2 {
				t.Fatalf("%d spaces after the migration, want one per cohort: 2", spaces)
			}
			ss := space.NewStore(db)
			a, err := ss.ForCohort(ctx, "p1", "c1", "l1", "A")
			must(t, err)
			b, err := ss.ForCohort(ctx, "p1", "c1", "l1", "B")
			must(t, err)
			must(t, db.Raw(`SELECT COUNT(*) FROM spaces`).Row().Scan(&spaces))
			if spaces != 2 || a.ID == b.ID || a.Kind != space.ActivityCohort || a.CourseID != "c1" {
				t.Fatalf("spaces %+v and %+v (%d in all): want the two the migration made", a, b, spaces)
			}
			for _, table := range []string{"threads", "posts", "thread_tags", "participation_events", "notifications"} {
				var unkeyed int64
				must(t, db.Raw(`SELECT COUNT(*) FROM `+table+` WHERE space_id NOT IN (SELECT id FROM spaces)`).Row().Scan(&unkeyed))
				if unkeyed != 0 {
					t.Errorf("%d rows of %s keyed by no space", unkeyed, table)
				}
			}
			var topic string
			must(t, db.Raw(`SELECT topic FROM live_events ORDER BY id LIMIT 1`).Row().Scan(&topic))
			if topic != "space:"+a.ID {
				t.Errorf("live topic %q after the migration, want cohort A's space's", topic)
			}

			ds := discussion.NewStore(db)
			bob := discussion.Viewer{SpaceID: a.ID, OrgID: "p1", CourseID: "c1", LinkID: "l1", CohortID: "A", UserID: "bob"}
			tv, err := ds.Thread(ctx, bob, "t-a")
			must(t, err)
			if tv.Title != "How do I read a p-value?" || tv.Opening.Body != "The lecture's slide on significance lost me" || tv.UnreadNotifications != 1 {
				t.Errorf("thread read after the migration: %q %q, %d unread", tv.Title, tv.Opening.Body, tv.UnreadNotifications)
			}
			list, err := ds.List(ctx, bob, discussion.ListQuery{Tag: "stats"})
			must(t, err)
			if len(list.Threads) != 1 || list.Threads[0].ID != "t-a" {
				t.Errorf("cohort A's list after the migration: %+v", list.Threads)
			}
			res, err := ds.Search(ctx, bob, "significance", 10)
			must(t, err)
			if len(res) != 1 || res[0].ThreadID != "t-a" {
				t.Errorf("search in cohort A's space after the migration: %+v", res)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
