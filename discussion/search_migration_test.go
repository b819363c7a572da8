package discussion_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// Migration 00032 indexes the posts written before it again, by their
// stems; FillBodyText then gives them the text readers see.
func TestMigrationIndexesOlderPostsByTheirStems(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, storetest.Config(t, kind))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if err := db.MigrateTo(ctx, 31); err != nil {
				t.Fatal(err)
			}
			v := viewer("alice", "A", false)
			now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
			for _, q := range []struct {
				sql  string
				args []any
			}{
				{`INSERT INTO threads (org_id, id, course_id, link_id, cohort_id, space_id, kind, title, author_id, opening_post_id, last_post_id, last_activity_at, created_at)
					VALUES (?, 't1', ?, ?, ?, ?, 'question', 'Branches', 'alice', 'p1', 'p1', ?, ?)`,
					[]any{v.OrgID, v.CourseID, v.LinkID, v.CohortID, v.SpaceID, now, now}},
				{`INSERT INTO posts (org_id, id, cohort_id, link_id, space_id, thread_id, opening, author_id, body, created_at)
					VALUES (?, 'p1', ?, ?, ?, 't1', TRUE, 'alice', '**Merging** two [branches](http://e.x)', ?)`,
					[]any{v.OrgID, v.CohortID, v.LinkID, v.SpaceID, now}},
			} {
				if err := db.Exec(q.sql, q.args...).Error; err != nil {
					t.Fatal(err)
				}
			}
			s := discussion.NewStore(db)
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			res, err := s.Search(ctx, v, "merge", 10)
			if err != nil || len(res) != 1 || res[0].PostID != "p1" {
				t.Fatalf("an older post is not found by another form of its word: %+v %v", res, err)
			}
			if n, err := s.FillBodyText(ctx); err != nil || n != 1 {
				t.Fatalf("fill: %d, %v", n, err)
			}
			res, err = s.Search(ctx, v, "merged branch", 10)
			if err != nil || len(res) != 1 || strings.Contains(marked(res[0].Snippet), "**") || !strings.Contains(marked(res[0].Snippet), "[Merging] two [branches]") {
				t.Errorf("after the fill: %+v %v", res, err)
			}
		})
	}
}
