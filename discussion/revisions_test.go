package discussion_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// tableBomb is the review's post: 1,500 columns in 9,000 characters,
// which made a thread page of 22.5 MB.
func tableBomb() string {
	s := "|" + strings.Repeat("a|", 1500) + "\n|" + strings.Repeat("-|", 1500) + "\n" + strings.Repeat("|\n", 9000)
	return s[:9000]
}

// TestMarkdownPastTheLimitsIsRefused: a post whose Markdown would make too
// much of a page is refused when written, new or edited, with a message
// that names the limit, and nothing is stored.
func TestMarkdownPastTheLimitsIsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := discussion.NewStore(db)
		alice := viewer("alice", "A", false)
		id, err := s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: discussion.Question, Title: "A fine question", Body: "fine"})
		if err != nil {
			t.Fatal(err)
		}
		opening := mustOpening(t, s, alice, id)
		for name, body := range map[string]string{"a 1,500-column table": tableBomb(), "quotes 5,000 deep": strings.Repeat(">", 5000)} {
			for action, do := range map[string]func() error{
				"new thread": func() error {
					_, err := s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: discussion.Question, Title: "A table", Body: body})
					return err
				},
				"reply": func() error {
					_, err := s.Reply(ctx, alice, id, discussion.ReplyInput{Body: body})
					return err
				},
				"edit": func() error { return s.Edit(ctx, alice, opening, "", body) },
			} {
				err := do()
				var fe *discussion.FieldError
				if !errors.As(err, &fe) || fe.Field != "body" || code(err) != roundtable.ETOOLARGE ||
					!(strings.Contains(err.Error(), "at most 30 columns") || strings.Contains(err.Error(), "at most 16 deep")) {
					t.Errorf("%s, %s: %v", name, action, err)
				}
			}
		}
		var n int64
		db.Raw(`SELECT COUNT(*) FROM posts`).Scan(&n)
		if n != 1 || storetestCount(t, db, "post_revisions") != 0 {
			t.Errorf("%d posts stored", n)
		}
	})
}

func storetestCount(t *testing.T, db *store.DB, table string) int64 {
	t.Helper()
	var n int64
	if err := db.Raw(`SELECT COUNT(*) FROM ` + table).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRevisionsAreCapped: a post keeps at most MaxRevisions earlier
// versions; the edit past them is refused with its reason, removing the
// post still works.
func TestRevisionsAreCapped(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := discussion.NewStore(db)
		alice, ines := viewer("alice", "A", false), viewer("ines", "A", true)
		id, err := s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: discussion.Discussion, Title: "Drafting", Body: "version 0"})
		if err != nil {
			t.Fatal(err)
		}
		post := mustOpening(t, s, alice, id)
		for i := 1; i <= discussion.MaxRevisions; i++ {
			if err := s.Edit(ctx, alice, post, "", fmt.Sprintf("version %d", i)); err != nil {
				t.Fatalf("edit %d: %v", i, err)
			}
		}
		for _, who := range []discussion.Viewer{alice, ines} {
			err := s.Edit(ctx, who, post, "", "one edit too many")
			var fe *discussion.FieldError
			if !errors.As(err, &fe) || fe.Field != "body" || code(err) != roundtable.EINVALID || !strings.Contains(err.Error(), "edited 50 times") {
				t.Errorf("edit 51 by %s: %v", who.UserID, err)
			}
		}
		if n := storetestCount(t, db, "post_revisions"); n != discussion.MaxRevisions {
			t.Errorf("%d revisions kept", n)
		}
		if err := s.Delete(ctx, alice, post); err != nil {
			t.Fatalf("removing a post with a full history: %v", err)
		}
		revs, err := s.Revisions(ctx, ines, post)
		if err != nil || len(revs) != discussion.MaxRevisions+1 || revs[len(revs)-1].Body != "version 50" || revs[0].Body != "version 0" {
			t.Errorf("history: %d versions, %v", len(revs), err)
		}
	})
}

// TestRedactRemovesTheTextAndLogsIt: staff redact an earlier version: its
// text leaves the database, the history says it was redacted, and the
// moderation log records who did it.
func TestRedactRemovesTheTextAndLogsIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := discussion.NewStore(db)
		alice, bob, ines := viewer("alice", "A", false), viewer("bob", "A", false), viewer("ines", "A", true)
		otherStaff := viewer("olga", "B", true)
		const secret = "call me on +44 7700 900123"
		id, err := s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: discussion.Question, Title: "Lost badge, " + secret, Body: "Found my badge? " + secret})
		if err != nil {
			t.Fatal(err)
		}
		post := mustOpening(t, s, alice, id)
		if err := s.Edit(ctx, alice, post, "Lost badge", "Found my badge? Message me here."); err != nil {
			t.Fatal(err)
		}
		revs, err := s.Revisions(ctx, bob, post)
		if err != nil || len(revs) != 1 || !strings.Contains(revs[0].Body, secret) {
			t.Fatalf("history before: %+v %v", revs, err)
		}
		rev := revs[0].ID
		for _, who := range []discussion.Viewer{alice, bob} {
			if err := s.RedactRevision(ctx, who, post, rev, ""); code(err) != roundtable.EFORBIDDEN {
				t.Errorf("%s redacts: %v", who.UserID, err)
			}
		}
		if err := s.RedactRevision(ctx, otherStaff, post, rev, ""); code(err) != roundtable.ENOTFOUND {
			t.Errorf("staff of another cohort redact: %v", err)
		}
		if err := s.RedactRevision(ctx, ines, post, "no-such-revision", ""); code(err) != roundtable.ENOTFOUND {
			t.Errorf("an unknown revision: %v", err)
		}
		if err := s.RedactRevision(ctx, ines, post, rev, "a phone number"); err != nil {
			t.Fatal(err)
		}
		// Gone from every row, not hidden.
		var left int64
		db.Raw(`SELECT COUNT(*) FROM post_revisions WHERE body LIKE '%7700%' OR title LIKE '%7700%'`).Scan(&left)
		var inPosts int64
		db.Raw(`SELECT COUNT(*) FROM posts WHERE body LIKE '%7700%'`).Scan(&inPosts)
		if left != 0 || inPosts != 0 {
			t.Errorf("the text is still stored: %d revisions, %d posts", left, inPosts)
		}
		revs, err = s.Revisions(ctx, bob, post)
		if err != nil || len(revs) != 1 || !revs[0].Redacted || revs[0].RedactedAt.IsZero() || revs[0].Body != "" || revs[0].Title != "" {
			t.Errorf("history after: %+v %v", revs, err)
		}
		lp, err := s.Log(ctx, ines, "", 0)
		if err != nil || len(lp.Entries) != 1 || lp.Entries[0].Action != discussion.ActionRedact || lp.Entries[0].PostID != post ||
			lp.Entries[0].Reason != "a phone number" {
			t.Errorf("moderation log: %+v %v", lp.Entries, err)
		}
		// Again: nothing more to do, nothing more logged.
		if err := s.RedactRevision(ctx, ines, post, rev, ""); err != nil {
			t.Fatal(err)
		}
		if n := storetestCount(t, db, "moderation_log"); n != 1 {
			t.Errorf("%d log entries after redacting twice", n)
		}
	})
}
