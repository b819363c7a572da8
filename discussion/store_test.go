package discussion_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

func viewer(user, cohort string, staff bool) discussion.Viewer {
	return discussion.Viewer{SpaceID: "space-l1-" + cohort, OrgID: "p1", CourseID: "c1", LinkID: "l1", CohortID: cohort, UserID: user, Staff: staff}
}

func code(err error) string { return roundtable.ErrorCode(err) }

func TestDiscussionStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := discussion.NewStore(db)
		alice, bob, carol := viewer("alice", "A", false), viewer("bob", "A", false), viewer("carol", "A", false)
		ines := viewer("ines", "A", true)
		other := viewer("zoe", "B", false)

		if _, err := s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: discussion.Question, Title: "no", Body: "x"}); code(err) != roundtable.EINVALID {
			t.Errorf("short title: %v", err)
		}
		if _, err := s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: discussion.Question, Title: "Long enough", Body: strings.Repeat("a", discussion.MaxBody+1)}); code(err) != roundtable.ETOOLARGE {
			t.Errorf("long body: %v", err)
		}
		var fe *discussion.FieldError
		if _, err := s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: discussion.Question, Title: "Long enough", Body: "x", Tags: "a b c d e f"}); !errors.As(err, &fe) || fe.Field != "tags" {
			t.Errorf("six tags: %v", err)
		}

		q, err := s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: discussion.Question, Title: "How do I read a p-value?", Body: "Help", Tags: "Stats, p-values"})
		if err != nil {
			t.Fatal(err)
		}
		d, err := s.CreateThread(ctx, bob, discussion.ThreadInput{Kind: discussion.Discussion, Title: "Favourite datasets", Body: "Share yours", Anonymous: true})
		if err != nil {
			t.Fatal(err)
		}
		answer, err := s.Reply(ctx, bob, q, discussion.ReplyInput{Body: "It is the probability..."})
		if err != nil {
			t.Fatal(err)
		}
		nested, err := s.Reply(ctx, carol, q, discussion.ReplyInput{ParentID: answer, Body: "Thanks"})
		if err != nil {
			t.Fatal(err)
		}
		// A reply to a nested reply joins its parent.
		if _, err := s.Reply(ctx, alice, q, discussion.ReplyInput{ParentID: nested, Body: "Agreed"}); err != nil {
			t.Fatal(err)
		}
		// Votes: once per person, toggled.
		for _, who := range []discussion.Viewer{carol, alice, carol, carol} {
			if _, err := s.ToggleVote(ctx, who, answer); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.ToggleVote(ctx, bob, answer); code(err) != roundtable.EINVALID {
			t.Errorf("own vote: %v", err)
		}
		if _, err := s.Accept(ctx, bob, answer); code(err) != roundtable.EFORBIDDEN {
			t.Errorf("a non-asker accepts: %v", err)
		}
		if accepted, err := s.Accept(ctx, alice, answer); err != nil || !accepted {
			t.Fatal(err)
		}
		if err := s.SetFlag(ctx, alice, q, discussion.FlagPinned, true); code(err) != roundtable.EFORBIDDEN {
			t.Errorf("learner pins: %v", err)
		}
		if err := s.SetFlag(ctx, ines, d, discussion.FlagLocked, true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Reply(ctx, alice, d, discussion.ReplyInput{Body: "late"}); code(err) != roundtable.EFORBIDDEN {
			t.Errorf("reply to locked: %v", err)
		}

		tv, err := s.Thread(ctx, alice, q)
		if err != nil {
			t.Fatal(err)
		}
		if !tv.Answered() || len(tv.Replies) != 1 || len(tv.Replies[0].Children) != 2 || tv.Replies[0].Votes != 2 || !tv.Replies[0].Accepted {
			t.Errorf("thread view: %+v", tv)
		}
		if tv.Thread.Replies != 3 || tv.Unread != 4 || !tv.Following {
			t.Errorf("counts: replies %d unread %d following %v", tv.Thread.Replies, tv.Unread, tv.Following)
		}

		// Edit keeps history; delete keeps replies.
		if err := s.Edit(ctx, carol, answer, "", "hijack"); code(err) != roundtable.EFORBIDDEN {
			t.Errorf("edit someone else's: %v", err)
		}
		if err := s.Edit(ctx, bob, answer, "", "It is the probability, under the null..."); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, bob, answer); err != nil {
			t.Fatal(err)
		}
		revs, err := s.Revisions(ctx, ines, answer)
		if err != nil || len(revs) != 2 || revs[0].Body != "It is the probability..." {
			t.Errorf("revisions: %+v %v", revs, err)
		}
		tv, _ = s.Thread(ctx, alice, q)
		if r := tv.Replies[0]; !r.Deleted || r.Body != "" || len(r.Children) != 2 || !r.Edited || tv.Answered() {
			t.Errorf("deleted reply: %+v answered %v", r, tv.Answered())
		}

		// Anonymity: peers see no name or id; staff and the author do.
		list, err := s.List(ctx, alice, discussion.ListQuery{})
		if err != nil || len(list.Threads) != 2 {
			t.Fatalf("list: %+v %v", list, err)
		}
		for _, th := range list.Threads {
			if th.ID == d && (th.Author.ID != "" || th.Author.Label() != "Anonymous learner") {
				t.Errorf("anonymous author leaks to a peer: %+v", th.Author)
			}
			if th.ID == q && th.Unread != 0 {
				t.Errorf("unread after visit: %d", th.Unread)
			}
		}
		staffList, _ := s.List(ctx, ines, discussion.ListQuery{Kind: discussion.Discussion})
		if len(staffList.Threads) != 1 || staffList.Threads[0].Author.ID != "bob" {
			t.Errorf("staff list: %+v", staffList.Threads)
		}

		// Filters and sorts.
		for name, c := range map[string]struct {
			q    discussion.ListQuery
			want int
		}{
			"tag":       {discussion.ListQuery{Tag: "stats"}, 1},
			"mine":      {discussion.ListQuery{Mine: true}, 1},
			"following": {discussion.ListQuery{Following: true}, 1},
			// The accepted answer was removed: the question is unanswered again.
			"unanswered": {discussion.ListQuery{Sort: discussion.SortUnanswered}, 1},
			"top":        {discussion.ListQuery{Sort: discussion.SortTop}, 2},
			"newest":     {discussion.ListQuery{Sort: discussion.SortNewest}, 2},
		} {
			l, err := s.List(ctx, alice, c.q)
			if err != nil || len(l.Threads) != c.want {
				t.Errorf("%s: %d threads, want %d (%v)", name, len(l.Threads), c.want, err)
			}
		}

		// Isolation: another cohort sees nothing and reaches nothing.
		if l, _ := s.List(ctx, other, discussion.ListQuery{}); len(l.Threads) != 0 {
			t.Errorf("cohort B sees cohort A's threads")
		}
		if _, err := s.Thread(ctx, other, q); code(err) != roundtable.ENOTFOUND {
			t.Errorf("cohort B opens A's thread: %v", err)
		}
		if _, err := s.Reply(ctx, other, q, discussion.ReplyInput{Body: "hi"}); code(err) != roundtable.ENOTFOUND {
			t.Errorf("cohort B replies: %v", err)
		}
		if _, err := s.ToggleVote(ctx, other, tv.Opening.ID); code(err) != roundtable.ENOTFOUND {
			t.Errorf("cohort B votes: %v", err)
		}
		otherCourse := alice
		otherCourse.OrgID = "p2"
		if _, err := s.Thread(ctx, otherCourse, q); code(err) != roundtable.ENOTFOUND {
			t.Errorf("another platform opens the thread: %v", err)
		}

		// Participation events come with the actions.
		var events int
		db.Raw(`SELECT COUNT(*) FROM participation_events WHERE org_id = 'p1'`).Scan(&events)
		// 2 threads, 3 replies, 2 upvotes received (carol twice counts the first and third), 1 accepted.
		if events != 2+3+3+1 {
			t.Errorf("%d participation events", events)
		}
	})
}

func TestPaginationAndRateLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := discussion.NewStore(db)
		now := time.Now()
		s.Now = func() time.Time { return now }
		alice, ines := viewer("alice", "A", false), viewer("ines", "A", true)
		// Pinned threads and votes make the sort keys differ across the
		// pages' boundaries: the cursors compare both parts of each key.
		for i := 0; i < 7; i++ {
			id, err := s.CreateThread(ctx, ines, discussion.ThreadInput{Kind: discussion.Discussion, Title: "Thread number " + string(rune('a'+i)), Body: "b"})
			if err != nil {
				t.Fatal(err)
			}
			if i == 1 || i == 4 {
				if err := s.SetFlag(ctx, ines, id, discussion.FlagPinned, true); err != nil {
					t.Fatal(err)
				}
			}
			if i%3 == 0 {
				tv, err := s.Thread(ctx, alice, id)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.ToggleVote(ctx, alice, tv.Opening.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, sort := range []string{discussion.SortActivity, discussion.SortNewest, discussion.SortTop} {
			seen := map[string]bool{}
			q := discussion.ListQuery{Sort: sort, Limit: 3}
			for pages := 0; ; pages++ {
				l, err := s.List(ctx, alice, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, th := range l.Threads {
					if seen[th.ID] {
						t.Errorf("%s: %s twice", sort, th.ID)
					}
					seen[th.ID] = true
				}
				if l.Next == "" || pages > 5 {
					break
				}
				q.Cursor = l.Next
			}
			if len(seen) != 7 {
				t.Errorf("%s: %d threads over the pages, want 7", sort, len(seen))
			}
		}
		var err error
		for i := 0; i < discussion.DefaultPostsPerMinute+1 && err == nil; i++ {
			_, err = s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: discussion.Question, Title: "Rapid question", Body: "b"})
		}
		if code(err) != roundtable.ELIMITED {
			t.Errorf("rate limit: %v", err)
		}
		now = now.Add(61 * time.Second)
		if _, err := s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: discussion.Question, Title: "Later question", Body: "b"}); err != nil {
			t.Errorf("after a minute: %v", err)
		}
	})
}

func TestParseTags(t *testing.T) {
	got, err := discussion.ParseTags("Pandas, #dates  données pandas")
	if err != nil || strings.Join(got, " ") != "pandas dates données" {
		t.Errorf("tags %q %v", got, err)
	}
	for _, bad := range []string{"a\u202eb", "<b>", "x.y", strings.Repeat("a", 31)} {
		if _, err := discussion.ParseTags(bad); code(err) != roundtable.EINVALID {
			t.Errorf("tag %q accepted", bad)
		}
	}
}
