package course_test

import (
	"context"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable/internal/activity"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// Migration 25 moves a discussion's own settings from the columns every
// activity had into its kind's options document: an installation's
// activities and placements keep what their staff chose.
func TestMigrationKeepsDiscussionSettingsAsTheKindsOptions(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, storetest.Config(t, kind))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if err := db.MigrateTo(ctx, 24); err != nil {
				t.Fatal(err)
			}
			now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
			for _, q := range []struct {
				sql  string
				args []any
			}{
				{`INSERT INTO platforms (id, name, issuer, client_id, auth_url, jwks_url, created_at, updated_at)
					VALUES ('p1', 'LMS', 'https://lms.example', 'c1', 'https://lms.example/auth', 'https://lms.example/jwks', ?, ?)`, []any{now, now}},
				{`INSERT INTO courses (platform_id, id, deployment_id, context_key, created_at, updated_at) VALUES ('p1', 'c1', 'd1', 'ctx', ?, ?)`, []any{now, now}},
				{`INSERT INTO resource_links (platform_id, id, course_id, deployment_id, resource_link_id, created_at, updated_at)
					VALUES ('p1', 'l1', 'c1', 'd1', 'rl1', ?, ?), ('p1', 'l2', 'c1', 'd1', 'rl2', ?, ?)`, []any{now, now, now, now}},
				{`INSERT INTO activity_settings (platform_id, link_id, kind, instructions, cohort_policy, group_size, allow_anonymous, post_first,
					graded, points, min_threads, min_replies, min_accepted, min_upvotes, credit, configured, updated_by, updated_at)
					VALUES ('p1', 'l1', 'question_board', 'Ask away.', 'groups', 6, FALSE, TRUE, TRUE, 25, 1, 2, 3, 4, 'proportional', TRUE, 'ines', ?),
					('p1', 'l2', 'discussion', '', 'course', 12, TRUE, FALSE, FALSE, 10, 0, 0, 0, 0, 'full', TRUE, 'ines', ?)`, []any{now, now}},
				{`INSERT INTO placements (platform_id, id, deployment_id, context_key, title, kind, instructions, cohort_policy, group_size,
					allow_anonymous, post_first, graded, points, min_threads, min_replies, min_accepted, min_upvotes, credit, created_by, created_at)
					VALUES ('p1', 'pl1', 'd1', 'ctx', 'Week 3', 'discussion', '', 'section', 12, FALSE, TRUE, TRUE, 15, 0, 2, 0, 0, 'full', 'ines', ?)`, []any{now}},
			} {
				if err := db.Exec(q.sql, q.args...).Error; err != nil {
					t.Fatal(err)
				}
			}
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}

			cs := course.NewStore(db)
			st, err := cs.Settings(ctx, "p1", "l1")
			if err != nil {
				t.Fatal(err)
			}
			want := activity.DiscussionOptions{AllowAnonymous: false, PostFirst: true, Credit: activity.CreditProportional,
				Rule: activity.CompletionRule{MinThreads: 1, MinReplies: 2, MinAccepted: 3, MinUpvotes: 4}}
			if st.Kind != activity.KindQuestionBoard || st.Instructions != "Ask away." || st.CohortPolicy != course.CohortGroups || st.GroupSize != 6 ||
				!st.Graded || st.Points != 25 || !st.Configured || st.Options != want {
				t.Errorf("question board after the migration: %+v", st)
			}
			if st, err := cs.Settings(ctx, "p1", "l2"); err != nil || st.Options != activity.DefaultDiscussion || st.Graded {
				t.Errorf("default discussion after the migration: %+v %v", st, err)
			}
			p, err := cs.Placement(ctx, "p1", "pl1")
			if err != nil {
				t.Fatal(err)
			}
			want = activity.DiscussionOptions{PostFirst: true, Credit: activity.CreditFull, Rule: activity.CompletionRule{MinReplies: 2}}
			if p.Settings.Kind != activity.KindDiscussion || p.Settings.CohortPolicy != course.CohortSection || p.Settings.Points != 15 || p.Settings.Options != want {
				t.Errorf("placement after the migration: %+v", p.Settings)
			}
		})
	}
}
