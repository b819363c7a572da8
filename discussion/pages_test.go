package discussion_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// TestLongThreadsHavePages: a thread of more than RepliesPerPage replies
// shows them a page at a time, each reply with its own replies; a post
// opens on its page; the reads stay two statements (three to find a
// post's page), as for a short thread.
func TestLongThreadsHavePages(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			ctx := context.Background()
			db, counted, n := countedDB(t, kind)
			s := discussion.NewStore(db)
			s.PostsPerMinute = 0
			cs := discussion.NewStore(counted)
			alice, bob := viewer("a", "A", false), viewer("b", "A", false)
			id, err := s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: discussion.Discussion, Title: "A long one", Body: "start"})
			if err != nil {
				t.Fatal(err)
			}
			const replies = 2*discussion.RepliesPerPage + 30
			ids := make([]string, replies)
			var nested string
			for i := range ids {
				if ids[i], err = s.Reply(ctx, bob, id, discussion.ReplyInput{Body: fmt.Sprintf("reply %d", i)}); err != nil {
					t.Fatal(err)
				}
			}
			if nested, err = s.Reply(ctx, alice, id, discussion.ReplyInput{ParentID: ids[149], Body: "an answer to 149"}); err != nil {
				t.Fatal(err)
			}

			read := func(p discussion.ReplyPage) (discussion.ThreadView, int64) {
				t.Helper()
				n.Store(0)
				tv, err := cs.ThreadPage(ctx, alice, id, p)
				if err != nil {
					t.Fatal(err)
				}
				return tv, n.Load()
			}
			first, stmts := read(discussion.ReplyPage{})
			if first.Page != 1 || first.Pages != 3 || first.TopReplies != replies || len(first.Replies) != discussion.RepliesPerPage ||
				first.Opening.ID == "" || first.Replies[0].ID != ids[0] || first.Replies[99].ID != ids[99] {
				t.Errorf("page 1: page %d of %d, %d of %d replies", first.Page, first.Pages, len(first.Replies), first.TopReplies)
			}
			if want := threadStatements(kind); stmts != want {
				t.Errorf("page 1 took %d statements, want %d", stmts, want)
			}
			second, _ := read(discussion.ReplyPage{Number: 2})
			if len(second.Replies) != discussion.RepliesPerPage || second.Replies[0].ID != ids[100] || second.Opening.ID == "" {
				t.Errorf("page 2: %d replies from %s", len(second.Replies), second.Replies[0].Body)
			}
			if r := second.Replies[49]; r.ID != ids[149] || len(r.Children) != 1 || r.Children[0].ID != nested {
				t.Errorf("reply 149 on page 2 lacks its answer: %+v", r)
			}
			// The answer to reply 149 opens on page 2, under it.
			at, stmts := read(discussion.ReplyPage{At: nested})
			if at.Page != 2 || at.Replies[49].ID != ids[149] {
				t.Errorf("the page of %s: %d", nested, at.Page)
			}
			if want := threadStatements(kind) + 1; stmts != want {
				t.Errorf("finding a post's page took %d statements, want %d", stmts, want)
			}
			for p, want := range map[discussion.ReplyPage]int{
				{At: ids[200]}: 3, {At: ids[99]}: 1, {At: first.Opening.ID}: 1, {At: "unknown"}: 1, {Number: 99}: 3, {Number: -4}: 1,
			} {
				if tv, _ := read(p); tv.Page != want {
					t.Errorf("%+v opens page %d, want %d", p, tv.Page, want)
				}
			}
			if last, _ := read(discussion.ReplyPage{Number: 3}); len(last.Replies) != 30 || last.Replies[29].ID != ids[replies-1] {
				t.Errorf("page 3: %d replies", len(last.Replies))
			}
		})
	}
}
