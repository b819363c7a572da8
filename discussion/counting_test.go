package discussion_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// rescored records whom the store asked to re-score, change after change.
type rescored struct {
	mu    sync.Mutex
	calls [][]string
}

func (r *rescored) hook(ctx context.Context, tx *gorm.DB, orgID, linkID string, users []string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, slices.Sorted(slices.Values(users)))
	return nil
}

// last is the people of the last re-score, and forgets the calls.
func (r *rescored) last() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.calls) == 0 {
		return nil
	}
	l := r.calls[len(r.calls)-1]
	r.calls = nil
	return l
}

// participationOf is a learner's row of the staff's participation table,
// with the cohort's members seeded so every author has one.
func participationOf(t *testing.T, s *discussion.Store, staff discussion.Viewer, user string) discussion.LearnerParticipation {
	t.Helper()
	p, err := s.Participation(context.Background(), staff, discussion.ByName)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range p.Learners {
		if l.UserID == user {
			return l
		}
	}
	t.Fatalf("%s is not in the participation table: %+v", user, p.Learners)
	return discussion.LearnerParticipation{}
}

// seedCohort makes learners and staff members of course c1 and of its
// cohort A, so the participation table lists them.
func seedCohort(t *testing.T, db *store.DB, learners []string, staff ...string) {
	t.Helper()
	setRules(t, db, true, false)
	exec := func(q string, args ...any) {
		t.Helper()
		if err := db.Exec(q, args...).Error; err != nil {
			t.Fatal(err)
		}
	}
	exec(`INSERT INTO cohorts (org_id, id, course_id, cohort_key, name, created_at) VALUES ('p1', 'A', 'c1', 'A', 'A', CURRENT_TIMESTAMP)`)
	add := func(id, roles string) {
		exec(`INSERT INTO users (org_id, id, issuer, subject, name, pseudonym, created_at, updated_at) VALUES ('p1', ?, 'https://lms.example', ?, ?, ?, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`, id, id, id, id)
		exec(`INSERT INTO memberships (org_id, course_id, user_id, roles, created_at, updated_at) VALUES ('p1', 'c1', ?, ?, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`, id, roles)
		exec(`INSERT INTO cohort_members (org_id, cohort_id, user_id, created_at) VALUES ('p1', 'A', ?, CURRENT_TIMESTAMP)`, id)
	}
	for _, l := range learners {
		add(l, "learner")
	}
	for _, s := range staff {
		add(s, "instructor")
	}
}

// Accepting one's own reply is refused, for the asker and for staff; an
// answer by the asker accepted before the refusal existed counts nowhere.
func TestOwnAnswersAreNeverAcceptedNorCounted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := discussion.NewStore(db)
		seedCohort(t, db, []string{"alice", "bob"}, "ines")
		alice, bob, ines := viewer("alice", "A", false), viewer("bob", "A", false), viewer("ines", "A", true)
		q, err := s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: discussion.Question, Title: "Which gloves for solvents?", Body: "Nitrile?"})
		if err != nil {
			t.Fatal(err)
		}
		own, err := s.Reply(ctx, alice, q, discussion.ReplyInput{Body: "Answering myself: nitrile."})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Accept(ctx, alice, own); code(err) != roundtable.EINVALID {
			t.Errorf("the asker accepts her own reply: %v", err)
		}
		if _, err := s.Accept(ctx, ines, own); code(err) != roundtable.EINVALID {
			t.Errorf("staff accept the asker's own reply: %v", err)
		}
		staffReply, err := s.Reply(ctx, ines, q, discussion.ReplyInput{Body: "Nitrile, yes."})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Accept(ctx, ines, staffReply); code(err) != roundtable.EINVALID {
			t.Errorf("staff accept their own reply: %v", err)
		}
		if tv, _ := s.Thread(ctx, alice, q); tv.AcceptedPostID != "" {
			t.Fatalf("an own answer was accepted: %s", tv.AcceptedPostID)
		}

		// A row from before: the asker's own reply marked accepted.
		if err := db.Exec(`UPDATE threads SET accepted_post_id = ? WHERE id = ?`, own, q).Error; err != nil {
			t.Fatal(err)
		}
		if p := participationOf(t, s, ines, "alice"); p.Accepted != 0 || p.Threads != 1 || p.Replies != 1 {
			t.Errorf("alice's participation counts her own accepted answer: %+v", p)
		}
		// Taking it back is allowed; someone else's answer then is accepted
		// and counts.
		if accepted, err := s.Accept(ctx, alice, own); err != nil || accepted {
			t.Fatalf("un-accepting the old own answer: %v %v", accepted, err)
		}
		answer, err := s.Reply(ctx, bob, q, discussion.ReplyInput{Body: "Nitrile: latex dissolves."})
		if err != nil {
			t.Fatal(err)
		}
		if accepted, err := s.Accept(ctx, alice, answer); err != nil || !accepted {
			t.Fatalf("accepting bob's answer: %v %v", accepted, err)
		}
		if p := participationOf(t, s, ines, "bob"); p.Accepted != 1 {
			t.Errorf("bob's accepted answers = %d, want 1", p.Accepted)
		}
	})
}

// What moderators hide stops counting, and hiding or restoring re-scores
// everyone concerned in the same transaction.
func TestHidingTakesCreditAwayAndRescores(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := discussion.NewStore(db)
		r := &rescored{}
		s.OnParticipation = r.hook
		seedCohort(t, db, []string{"alice", "bob", "carol"}, "ines")
		alice, bob, carol, ines := viewer("alice", "A", false), viewer("bob", "A", false), viewer("carol", "A", false), viewer("ines", "A", true)
		q, err := s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: discussion.Question, Title: "Ladder inspections", Body: "How often?"})
		if err != nil {
			t.Fatal(err)
		}
		answer, err := s.Reply(ctx, bob, q, discussion.ReplyInput{Body: "Before every use."})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Reply(ctx, carol, q, discussion.ReplyInput{Body: "And yearly by a competent person."}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ToggleVote(ctx, carol, answer); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Accept(ctx, alice, answer); err != nil {
			t.Fatal(err)
		}
		if p := participationOf(t, s, ines, "bob"); p.Replies != 1 || p.Accepted != 1 || p.Upvotes != 1 {
			t.Fatalf("bob before moderation: %+v", p)
		}
		r.last()

		// The accepted reply hidden: bob loses its reply, upvote and answer.
		if err := s.Hide(ctx, ines, answer, "copied from a website"); err != nil {
			t.Fatal(err)
		}
		if got := r.last(); !slices.Equal(got, []string{"bob"}) {
			t.Errorf("hiding bob's reply re-scored %v", got)
		}
		if p := participationOf(t, s, ines, "bob"); p.Replies != 0 || p.Accepted != 0 || p.Upvotes != 0 {
			t.Errorf("bob after his reply was hidden: %+v", p)
		}
		if err := s.Restore(ctx, ines, answer, "it was his own words"); err != nil {
			t.Fatal(err)
		}
		if got := r.last(); !slices.Equal(got, []string{"bob"}) {
			t.Errorf("restoring bob's reply re-scored %v", got)
		}
		if p := participationOf(t, s, ines, "bob"); p.Replies != 1 || p.Accepted != 1 || p.Upvotes != 1 {
			t.Errorf("bob after the restore: %+v", p)
		}

		// The opening post hidden: the thread and every post in it.
		if err := s.Hide(ctx, ines, openingOf(t, s, ines, q), "off-topic"); err != nil {
			t.Fatal(err)
		}
		if got := r.last(); !slices.Equal(got, []string{"alice", "bob", "carol"}) {
			t.Errorf("hiding the thread re-scored %v", got)
		}
		for _, who := range []string{"alice", "bob", "carol"} {
			if p := participationOf(t, s, ines, who); p.Threads+p.Replies+p.Accepted+p.Upvotes != 0 {
				t.Errorf("%s still has credit in a hidden thread: %+v", who, p)
			}
		}
		if err := s.Restore(ctx, ines, openingOf(t, s, ines, q), "on topic after all"); err != nil {
			t.Fatal(err)
		}
		if got := r.last(); !slices.Equal(got, []string{"alice", "bob", "carol"}) {
			t.Errorf("restoring the thread re-scored %v", got)
		}
		if p := participationOf(t, s, ines, "alice"); p.Threads != 1 {
			t.Errorf("alice after the restore: %+v", p)
		}
	})
}

func openingOf(t *testing.T, s *discussion.Store, v discussion.Viewer, threadID string) string {
	t.Helper()
	tv, err := s.Thread(context.Background(), v, threadID)
	if err != nil {
		t.Fatal(err)
	}
	return tv.OpeningPostID
}

// A suspended learner reads but changes nothing others see or are graded
// on; following threads and removing their own posts stay open to them.
func TestSuspensionStopsVotesAcceptsFlagsAndEdits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := discussion.NewStore(db)
		seedCohort(t, db, []string{"alice", "bob"}, "ines")
		alice, bob, ines := viewer("alice", "A", false), viewer("bob", "A", false), viewer("ines", "A", true)
		q, err := s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: discussion.Question, Title: "Fire drill dates", Body: "When?"})
		if err != nil {
			t.Fatal(err)
		}
		answer, err := s.Reply(ctx, bob, q, discussion.ReplyInput{Body: "First Monday of the month."})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Suspend(ctx, ines, "alice", "", "spamming votes"); err != nil {
			t.Fatal(err)
		}
		forbidden := map[string]error{}
		_, forbidden["vote"] = s.ToggleVote(ctx, alice, answer)
		_, forbidden["accept"] = s.Accept(ctx, alice, answer)
		forbidden["flag"] = s.FlagPost(ctx, alice, answer, discussion.FlagInput{Reason: discussion.ReasonSpam})
		forbidden["edit"] = s.Edit(ctx, alice, openingOf(t, s, alice, q), "", "Edited while suspended")
		_, forbidden["reply"] = s.Reply(ctx, alice, q, discussion.ReplyInput{Body: "still here"})
		for what, err := range forbidden {
			if code(err) != roundtable.EFORBIDDEN || roundtable.ErrorMessage(err) != discussion.SuspendedMessage {
				t.Errorf("a suspended learner's %s: %v", what, err)
			}
		}
		if p := participationOf(t, s, ines, "bob"); p.Upvotes != 0 || p.Accepted != 0 {
			t.Errorf("the suspended learner moved bob's credit: %+v", p)
		}
		if err := s.Follow(ctx, alice, q, false); err != nil {
			t.Errorf("a suspended learner stops following: %v", err)
		}
		if err := s.Delete(ctx, alice, openingOf(t, s, alice, q)); err != nil {
			t.Errorf("a suspended learner removes her own post: %v", err)
		}
		if err := s.Lift(ctx, ines, "alice", "talked it over"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ToggleVote(ctx, alice, answer); err != nil {
			t.Errorf("vote after the suspension was lifted: %v", err)
		}
	})
}

// The post-first gate opens on a response that counts, and closes again
// when that response is removed or hidden.
func TestPostFirstGateHoldsWhenThePlaceholderGoes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := discussion.NewStore(db)
		alice, bob, ines := viewer("alice", "A", false), viewer("bob", "A", false), viewer("ines", "A", true)
		bobs, err := s.CreateThread(ctx, bob, discussion.ThreadInput{Kind: discussion.Discussion, Title: "My reflection", Body: "What I learned"})
		if err != nil {
			t.Fatal(err)
		}
		setRules(t, db, true, true)
		gated := func(when string) {
			t.Helper()
			if _, err := s.Thread(ctx, alice, bobs); !errors.Is(err, discussion.ErrPostFirst) {
				t.Errorf("%s: alice opens bob's thread: %v", when, err)
			}
			if list, err := s.List(ctx, alice, discussion.ListQuery{}); err != nil || slices.ContainsFunc(list.Threads, func(th discussion.Thread) bool { return th.ID == bobs }) {
				t.Errorf("%s: alice's list shows bob's thread (%v)", when, err)
			}
			if _, _, err := s.Post(ctx, alice, bobs, openingOf(t, s, ines, bobs)); err == nil {
				t.Errorf("%s: alice reads bob's post", when)
			}
		}
		open := func(when string) {
			t.Helper()
			if _, err := s.Thread(ctx, alice, bobs); err != nil {
				t.Errorf("%s: alice cannot open bob's thread: %v", when, err)
			}
		}
		placeholder, err := s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: discussion.Discussion, Title: "x x x", Body: "."})
		if err != nil {
			t.Fatal(err)
		}
		open("after a placeholder")
		if err := s.Delete(ctx, alice, openingOf(t, s, alice, placeholder)); err != nil {
			t.Fatal(err)
		}
		gated("after the placeholder was removed")

		another, err := s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: discussion.Discussion, Title: "y y y", Body: "."})
		if err != nil {
			t.Fatal(err)
		}
		open("after a second placeholder")
		if err := s.Hide(ctx, ines, openingOf(t, s, ines, another), "not a reflection"); err != nil {
			t.Fatal(err)
		}
		gated("after staff hid the placeholder")

		mine, err := s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: discussion.Discussion, Title: "What I noticed", Body: "A blocked fire exit."})
		if err != nil {
			t.Fatal(err)
		}
		open("after a real response")
		// A reply to a peer counts too: removing her own thread then
		// leaves the gate open.
		if _, err := s.Reply(ctx, alice, bobs, discussion.ReplyInput{Body: "Same here."}); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, alice, openingOf(t, s, alice, mine)); err != nil {
			t.Fatal(err)
		}
		open("with a reply that still counts")
	})
}
