package discussion_test

import (
	"context"
	"testing"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/store"
	"github.com/roundtable-lms/roundtable/store/storetest"
)

// TestNotificationsOfHiddenPostsAndOtherSpaces: a learner's notifications
// leave out what moderators hid, and stay in their own cohort and space.
func TestNotificationsOfHiddenPostsAndOtherSpaces(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := discussion.NewStore(db)
		alice, bob, staff := viewer("alice", "A", false), viewer("bob", "A", false), viewer("ines", "A", true)
		id, err := s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: discussion.Question, Title: "A question", Body: "b"})
		if err != nil {
			t.Fatal(err)
		}
		reply, err := s.Reply(ctx, bob, id, discussion.ReplyInput{Body: "an answer"})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := s.UnreadNotifications(ctx, alice); err != nil || n != 1 {
			t.Fatalf("alice's unread: %d %v", n, err)
		}
		for _, other := range []discussion.Viewer{viewer("alice", "B", false), {PlatformID: "p1", CourseID: "c1", LinkID: "l2", CohortID: "A", UserID: "alice"}, bob} {
			if n, _ := s.UnreadNotifications(ctx, other); n != 0 {
				t.Errorf("%+v sees %d of alice's notifications", other, n)
			}
		}
		if err := s.Hide(ctx, staff, reply, "off topic"); err != nil {
			t.Fatal(err)
		}
		ns, err := s.Notifications(ctx, alice)
		if err != nil || len(ns) != 0 {
			t.Errorf("a learner is notified of a hidden post: %+v %v", ns, err)
		}
		if _, err := s.Participation(ctx, alice, ""); roundtable.ErrorCode(err) != roundtable.EFORBIDDEN {
			t.Errorf("a learner reads participation: %v", err)
		}
	})
}
