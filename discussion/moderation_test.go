package discussion_test

import (
	"context"
	"testing"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

func TestModerationStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := discussion.NewStore(db)
		alice, bob := viewer("alice", "A", false), viewer("bob", "A", false)
		ines := viewer("ines", "A", true)
		otherStaff := viewer("olga", "B", true)

		th, err := s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: discussion.Question, Title: "Safety tips", Body: "Wear boots"})
		if err != nil {
			t.Fatal(err)
		}
		rude, err := s.Reply(ctx, bob, th, discussion.ReplyInput{Body: "buy cheap watches"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Reply(ctx, alice, th, discussion.ReplyInput{ParentID: rude, Body: "please stop"}); err != nil {
			t.Fatal(err)
		}

		// Flags: not one's own, a reason required, a note bounded, once per person.
		if err := s.FlagPost(ctx, bob, rude, discussion.FlagInput{Reason: discussion.ReasonSpam}); code(err) != roundtable.EINVALID {
			t.Errorf("flagging one's own post: %v", err)
		}
		if err := s.FlagPost(ctx, alice, rude, discussion.FlagInput{Reason: "nonsense"}); code(err) != roundtable.EINVALID {
			t.Errorf("unknown reason: %v", err)
		}
		if err := s.FlagPost(ctx, alice, rude, discussion.FlagInput{Reason: discussion.ReasonOther, Note: string(make([]byte, 501))}); code(err) != roundtable.EINVALID && code(err) != roundtable.ETOOLARGE {
			t.Errorf("long note: %v", err)
		}
		for range 2 {
			if err := s.FlagPost(ctx, alice, rude, discussion.FlagInput{Reason: discussion.ReasonSpam, Note: "ads"}); err != nil {
				t.Fatal(err)
			}
		}
		if n, _ := s.WaitingCount(ctx, ines); n != 1 {
			t.Errorf("waiting %d, want 1", n)
		}
		if n, _ := s.WaitingCount(ctx, alice); n != 0 {
			t.Errorf("a learner's waiting count %d", n)
		}
		if _, err := s.Queue(ctx, alice); code(err) != roundtable.EFORBIDDEN {
			t.Errorf("learner queue: %v", err)
		}
		q, err := s.Queue(ctx, ines)
		if err != nil || len(q.Flagged) != 1 || len(q.Flagged[0].Flags) != 1 || q.Flagged[0].Reasons[0].Count != 1 {
			t.Fatalf("queue: %+v %v", q, err)
		}

		// Another course's staff reach nothing.
		if err := s.Hide(ctx, otherStaff, rude, "x"); code(err) != roundtable.ENOTFOUND {
			t.Errorf("other staff hide: %v", err)
		}
		if err := s.Hide(ctx, alice, rude, ""); code(err) != roundtable.EFORBIDDEN {
			t.Errorf("learner hide: %v", err)
		}
		if err := s.Hide(ctx, ines, rude, "advertising"); err != nil {
			t.Fatal(err)
		}
		l, _ := s.List(ctx, alice, discussion.ListQuery{})
		if l.Threads[0].Replies != 1 {
			t.Errorf("a learner counts %d replies, want 1", l.Threads[0].Replies)
		}
		l, _ = s.List(ctx, ines, discussion.ListQuery{})
		if l.Threads[0].Replies != 2 {
			t.Errorf("staff count %d replies, want 2", l.Threads[0].Replies)
		}
		tv, _ := s.Thread(ctx, alice, th)
		if p, _ := tv.Post(rude); !p.Hidden || p.Body != "" || len(tv.Replies[0].Children) != 1 {
			t.Errorf("learner sees hidden post %+v", p)
		}
		tv, _ = s.Thread(ctx, ines, th)
		if p, _ := tv.Post(rude); !p.Hidden || p.Body == "" {
			t.Errorf("staff see hidden post %+v", p)
		}
		if rs, err := s.Search(ctx, alice, "watches", 0); err != nil || len(rs) != 0 {
			t.Errorf("a learner's search finds the hidden post: %v %v", rs, err)
		}
		if rs, err := s.Search(ctx, ines, "watches", 0); err != nil || len(rs) != 1 {
			t.Errorf("staff search for the hidden post: %v %v", rs, err)
		}
		if _, err := s.ToggleVote(ctx, alice, rude); code(err) != roundtable.ENOTFOUND {
			t.Errorf("vote on hidden post: %v", err)
		}
		if n, _ := s.WaitingCount(ctx, ines); n != 0 {
			t.Errorf("hiding left %d waiting", n)
		}
		if err := s.Restore(ctx, ines, rude, "on second thought"); err != nil {
			t.Fatal(err)
		}
		l, _ = s.List(ctx, alice, discussion.ListQuery{})
		if l.Threads[0].Replies != 2 {
			t.Errorf("after restore a learner counts %d", l.Threads[0].Replies)
		}

		// Hiding the opening post hides the thread from learners.
		tv, _ = s.Thread(ctx, ines, th)
		if err := s.Hide(ctx, ines, tv.Opening.ID, ""); err != nil {
			t.Fatal(err)
		}
		if l, _ := s.List(ctx, bob, discussion.ListQuery{}); len(l.Threads) != 0 {
			t.Error("a hidden thread is in a learner's list")
		}
		if _, err := s.Thread(ctx, bob, th); code(err) != roundtable.ENOTFOUND {
			t.Errorf("a hidden thread opens for a learner: %v", err)
		}
		if _, err := s.Reply(ctx, bob, th, discussion.ReplyInput{Body: "x"}); code(err) != roundtable.ENOTFOUND {
			t.Errorf("reply to a hidden thread: %v", err)
		}
		if sim, err := s.Similar(ctx, bob, "Safety tips please", 0); err != nil || len(sim) != 0 {
			t.Errorf("a hidden thread is suggested to a learner: %v %v", sim, err)
		}
		if sim, err := s.Similar(ctx, ines, "Safety tips please", 0); err != nil || len(sim) != 1 {
			t.Errorf("staff suggestions: %v %v", sim, err)
		}
		if l, _ := s.List(ctx, ines, discussion.ListQuery{}); len(l.Threads) != 1 || !l.Threads[0].Hidden {
			t.Error("staff do not see the hidden thread marked")
		}
		if err := s.LockThread(ctx, ines, th, true, "heated"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetFlag(ctx, ines, th, discussion.FlagPinned, true); err != nil {
			t.Fatal(err)
		}
		if err := s.Endorse(ctx, ines, rude); err != nil {
			t.Fatal(err)
		}
		if err := s.FlagPost(ctx, alice, rude, discussion.FlagInput{Reason: discussion.ReasonUnkind}); err != nil {
			t.Fatal(err)
		}
		if err := s.Dismiss(ctx, ines, rude, "fine"); err != nil {
			t.Fatal(err)
		}

		page, err := s.Log(ctx, ines, "", 3)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for p := page; ; {
			for _, e := range p.Entries {
				got = append(got, e.Action+":"+e.Reason)
			}
			if p.Next == "" {
				break
			}
			if p, err = s.Log(ctx, ines, p.Next, 3); err != nil {
				t.Fatal(err)
			}
		}
		want := "dismiss:fine endorse: pin: lock:heated hide: restore:on second thought hide:advertising"
		if g := join(got); g != want {
			t.Errorf("log %q, want %q", g, want)
		}
		if _, err := s.Log(ctx, alice, "", 0); code(err) != roundtable.EFORBIDDEN {
			t.Errorf("learner log: %v", err)
		}
	})
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}
