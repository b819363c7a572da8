package discussion_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
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
		if err := s.Follow(ctx, staff, id, true); err != nil {
			t.Fatal(err)
		}
		reply, err := s.Reply(ctx, bob, id, discussion.ReplyInput{Body: "an answer"})
		if err != nil {
			t.Fatal(err)
		}
		if st, err := s.Standing(ctx, alice); err != nil || st.UnseenNotifications != 1 || st.Suspended {
			t.Fatalf("alice's standing: %+v %v", st, err)
		}
		for _, other := range []discussion.Viewer{viewer("alice", "B", false), {SpaceID: "space-l2-A", OrgID: "p1", CourseID: "c1", LinkID: "l2", CohortID: "A", UserID: "alice"}, bob} {
			if st, _ := s.Standing(ctx, other); st.UnseenNotifications != 0 {
				t.Errorf("%+v sees %d of alice's notifications", other, st.UnseenNotifications)
			}
		}
		// The count (every page's header) follows what moderators hide and
		// restore, as the list does; staff count everything.
		unread := func(who discussion.Viewer) int {
			t.Helper()
			st, err := s.Standing(ctx, who)
			if err != nil {
				t.Fatal(err)
			}
			return st.UnseenNotifications
		}
		if err := s.Hide(ctx, staff, reply, "off topic"); err != nil {
			t.Fatal(err)
		}
		if n := unread(alice); n != 0 {
			t.Errorf("alice counts %d notifications of a hidden post", n)
		}
		if err := s.Restore(ctx, staff, reply, "fine after all"); err != nil {
			t.Fatal(err)
		}
		if n := unread(alice); n != 1 {
			t.Errorf("alice counts %d notifications after the post's restore, want 1", n)
		}
		// A hidden thread hides all of its notifications, those written
		// while it is hidden too; restoring it leaves a hidden post hidden.
		opening := mustOpening(t, s, staff, id)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(s.Hide(ctx, staff, reply, "off topic"))
		must(s.Hide(ctx, staff, opening, "not for this course"))
		if _, err := s.Reply(ctx, staff, id, discussion.ReplyInput{Body: "a staff note in a hidden thread"}); err != nil {
			t.Fatal(err)
		}
		if n := unread(alice); n != 0 {
			t.Errorf("alice counts %d notifications of a hidden thread", n)
		}
		if n := unread(staff); n != 1 {
			t.Errorf("staff count %d notifications, want bob's hidden reply", n)
		}
		must(s.Restore(ctx, staff, opening, "back"))
		if n := unread(alice); n != 1 {
			t.Errorf("after the thread's restore alice counts %d, want the staff note only (bob's reply is still hidden)", n)
		}
		ns, err := s.Notifications(ctx, alice)
		if err != nil || len(ns) != 1 || ns[0].Actor.ID != staff.UserID {
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

// TestNewPersonsFirstStandingIsNotRead: the standing of a person a launch
// just created is known for their first page only; every later read asks
// the database. (The notification below stands for what no new person can
// have yet: it shows that the first read did not look.)
func TestNewPersonsFirstStandingIsNotRead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := discussion.NewStore(db)
		alice, bob := viewer("alice", "A", false), viewer("bob", "A", false)
		id, err := s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: discussion.Question, Title: "A question", Body: "b"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Reply(ctx, bob, id, discussion.ReplyInput{Body: "an answer"}); err != nil {
			t.Fatal(err)
		}
		s.NewPerson(alice.SpaceID, alice.UserID)
		if st, err := s.Standing(ctx, viewer("alice", "B", false)); err != nil || st.UnseenNotifications != 0 {
			t.Fatalf("another space's standing: %+v %v", st, err)
		}
		if st, err := s.Standing(ctx, alice); err != nil || st.UnseenNotifications != 0 {
			t.Fatalf("the first standing after NewPerson: %+v %v, want none read", st, err)
		}
		if st, err := s.Standing(ctx, alice); err != nil || st.UnseenNotifications != 1 {
			t.Fatalf("the second standing: %+v %v, want the notification read", st, err)
		}
	})
}
