package discussion_test

import (
	"context"
	"strings"
	"testing"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// Completion offers the members of the viewer's cohort (never another's,
// never the viewer), each with a handle a mention resolves, and the tags
// of the threads the viewer may see.
func TestMentionAndTagCandidates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := discussion.NewStore(db)
		seedCohort(t, db, nil)
		exec := func(q string, args ...any) {
			t.Helper()
			if err := db.Exec(q, args...).Error; err != nil {
				t.Fatal(err)
			}
		}
		exec(`INSERT INTO cohorts (org_id, id, course_id, cohort_key, name, created_at) VALUES ('p1', 'B', 'c1', 'B', 'B', CURRENT_TIMESTAMP)`)
		for _, u := range []struct{ id, cohort, name, given, family, pseudonym string }{
			{"alice", "A", "Alice Mbeki", "Alice", "Mbeki", ""},
			{"bob", "A", "Bob O'Neill", "Bob", "O'Neill", ""},
			{"pat", "A", "", "", "", "pat_42"},
			{"alan", "B", "Alan Other", "Alan", "Other", ""},
		} {
			exec(`INSERT INTO users (org_id, id, issuer, subject, name, given_name, family_name, pseudonym, created_at, updated_at)
				VALUES ('p1', ?, 'https://lms.example', ?, ?, ?, ?, ?, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`, u.id, u.id, u.name, u.given, u.family, u.pseudonym)
			exec(`INSERT INTO memberships (org_id, course_id, user_id, roles, created_at, updated_at) VALUES ('p1', 'c1', ?, 'learner', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`, u.id)
			exec(`INSERT INTO cohort_members (org_id, cohort_id, user_id, created_at) VALUES ('p1', ?, ?, CURRENT_TIMESTAMP)`, u.cohort, u.id)
		}
		alice, bob, ines, alan := viewer("alice", "A", false), viewer("bob", "A", false), viewer("ines", "A", true), viewer("alan", "B", false)
		names := func(v discussion.Viewer, q string) string {
			t.Helper()
			got, err := s.MentionCandidates(ctx, v, q, 0)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, c := range got {
				out = append(out, c.Name+"="+c.Handle)
			}
			return strings.Join(out, ",")
		}
		for _, c := range []struct {
			who  discussion.Viewer
			q    string
			want string
		}{
			{bob, "al", "Alice Mbeki=alice.mbeki"},
			{bob, "MBE", "Alice Mbeki=alice.mbeki"},
			{alice, "al", ""}, // not oneself, nor Alan of cohort B
			{alice, "b", "Bob O'Neill=bob"},
			{alice, "o'n", "Bob O'Neill=bob"},
			{alice, "pat", "pat_42=pat_42"},
			{alice, "%", ""},
			{alice, "_", ""},
			{alan, "a", ""},
			{ines, "a", "Alice Mbeki=alice.mbeki"},
		} {
			if got := names(c.who, c.q); got != c.want {
				t.Errorf("%s completes @%s to %q, want %q", c.who.UserID, c.q, got, c.want)
			}
		}

		if _, err := s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: discussion.Question, Title: "Gloves for solvents", Body: "Which?", Tags: "safety solvents"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateThread(ctx, bob, discussion.ThreadInput{Kind: discussion.Question, Title: "Safe storage", Body: "Where?", Tags: "safety"}); err != nil {
			t.Fatal(err)
		}
		hidden, err := s.CreateThread(ctx, bob, discussion.ThreadInput{Kind: discussion.Discussion, Title: "Something hidden", Body: "Spam", Tags: "spam-secret"})
		if err != nil {
			t.Fatal(err)
		}
		tv, err := s.Thread(ctx, ines, hidden)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Hide(ctx, ines, tv.Opening.ID, "spam"); err != nil {
			t.Fatal(err)
		}
		tags := func(v discussion.Viewer, q string) string {
			t.Helper()
			got, err := s.TagCandidates(ctx, v, q, 0)
			if err != nil {
				t.Fatal(err)
			}
			return strings.Join(got, ",")
		}
		if got := tags(alice, "s"); got != "safety,solvents" {
			t.Errorf("a learner's #s: %q", got)
		}
		if got := tags(ines, "#s"); got != "safety,solvents,spam-secret" {
			t.Errorf("staff's #s: %q", got)
		}
		if got := tags(alan, "s"); got != "" {
			t.Errorf("another cohort's #s: %q", got)
		}
	})
}
