package discussion_test

import (
	"context"
	"fmt"
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

// TestNotifyManyFollowers: a reply in a thread with more followers than one
// insert carries notifies each of them once.
func TestNotifyManyFollowers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := discussion.NewStore(db)
		s.PostsPerMinute = 0
		id, err := s.CreateThread(ctx, viewer("author", "A", false), discussion.ThreadInput{Kind: discussion.Discussion, Title: "Popular", Body: "b"})
		if err != nil {
			t.Fatal(err)
		}
		const followers = 510
		for i := 0; i < followers; i++ {
			if err := s.Follow(ctx, viewer(fmt.Sprintf("f%04d", i), "A", false), id, true); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Reply(ctx, viewer("f0000", "A", false), id, discussion.ReplyInput{Body: "hello all"}); err != nil {
			t.Fatal(err)
		}
		var n, dup int64
		db.Raw(`SELECT COUNT(*) FROM notifications`).Scan(&n)
		db.Raw(`SELECT COUNT(*) FROM (SELECT user_id FROM notifications GROUP BY user_id HAVING COUNT(*) > 1) d`).Scan(&dup)
		// Every follower but the replier, and the author (who follows too).
		if n != followers || dup != 0 {
			t.Errorf("%d notifications, %d people notified twice; want %d and 0", n, dup, followers)
		}
	})
}
