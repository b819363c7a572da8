package discussion_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// Post and ListedThread read one post and one list row exactly as Thread
// and List show them to each viewer (anonymity, hidden and removed posts,
// votes, accepted and new markers), in one statement each, and find
// nothing outside the viewer's cohort.
func TestSinglePostAndListedThread(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			ctx := context.Background()
			db, counted, n := countedDB(t, kind)
			clock := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
			now := func() time.Time { clock = clock.Add(time.Minute); return clock }
			s := discussion.NewStore(db)
			s.PostsPerMinute, s.Now = 0, now
			cs := discussion.NewStore(counted)
			cs.Now = now

			alice, bob, carol := viewer("alice", "A", false), viewer("bob", "A", false), viewer("carol", "A", false)
			ines := viewer("ines", "A", true)
			zoe := viewer("zoe", "B", false)
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			q, err := s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: discussion.Question, Title: "Which test for paired samples?", Body: "Before and after", Tags: "stats"})
			must(err)
			other, err := s.CreateThread(ctx, bob, discussion.ThreadInput{Kind: discussion.Discussion, Title: "Anonymous thoughts", Body: "Hm", Anonymous: true})
			must(err)
			// Everyone has seen the question once: later posts are new to them.
			for _, v := range []discussion.Viewer{alice, bob, carol, ines} {
				_, err := s.Thread(ctx, v, q)
				must(err)
			}
			answer, err := s.Reply(ctx, bob, q, discussion.ReplyInput{Body: "A paired t-test", Anonymous: true})
			must(err)
			nested, err := s.Reply(ctx, carol, q, discussion.ReplyInput{ParentID: answer, Body: "Or Wilcoxon"})
			must(err)
			rude, err := s.Reply(ctx, carol, q, discussion.ReplyInput{Body: "spam spam"})
			must(err)
			gone, err := s.Reply(ctx, alice, q, discussion.ReplyInput{Body: "never mind"})
			must(err)
			staffPost, err := s.Reply(ctx, ines, q, discussion.ReplyInput{Body: "Check normality of the differences"})
			must(err)
			_, err = s.ToggleVote(ctx, carol, answer)
			must(err)
			_, err = s.Accept(ctx, alice, answer)
			must(err)
			must(s.Endorse(ctx, ines, answer))
			must(s.Edit(ctx, carol, nested, "", "Or a Wilcoxon signed-rank test"))
			must(s.Hide(ctx, ines, rude, "spam"))
			must(s.Delete(ctx, alice, gone))
			opening := mustOpening(t, s, alice, q)

			// What the comparisons below rely on.
			if _, p, _ := s.Post(ctx, carol, q, answer); p.Author.Name != "" || !p.Accepted || !p.Endorsed || !p.New || p.Votes != 1 {
				t.Errorf("the anonymous accepted answer to a peer: %+v", p)
			}
			if _, p, _ := s.Post(ctx, carol, q, rude); !p.Hidden || p.Body != "" {
				t.Errorf("a hidden post to its learner author: %+v", p)
			}
			if _, p, _ := s.Post(ctx, ines, q, rude); !p.Hidden || p.Body != "spam spam" {
				t.Errorf("a hidden post to staff: %+v", p)
			}

			for _, v := range []discussion.Viewer{alice, bob, carol, ines} {
				// Read each post alone first: Thread records a visit,
				// which would change what is new.
				ids := []string{opening, answer, nested, rude, gone, staffPost}
				single := map[string]discussion.Post{}
				var thread discussion.Thread
				for _, id := range ids {
					n.Store(0)
					th, p, err := cs.Post(ctx, v, q, id)
					if err != nil {
						t.Fatalf("%s: post %s: %v", v.UserID, id, err)
					}
					if got := n.Load(); got != 1 {
						t.Errorf("%s: Post sent %d statements, want 1", v.UserID, got)
					}
					single[id], thread = p, th
				}
				tv, err := s.Thread(ctx, v, q)
				must(err)
				if !reflect.DeepEqual(thread, tv.Thread) {
					t.Errorf("%s: the thread with a post\n%+v\nthe thread page\n%+v", v.UserID, thread, tv.Thread)
				}
				all := []discussion.Post{tv.Opening}
				for _, r := range tv.Replies {
					all = append(all, r)
					all = append(all, r.Children...)
				}
				if len(all) != len(ids) {
					t.Fatalf("%s: the thread shows %d posts, want %d", v.UserID, len(all), len(ids))
				}
				for _, want := range all {
					want.Children = nil
					if got := single[want.ID]; !reflect.DeepEqual(got, want) {
						t.Errorf("%s: post %s alone\n%+v\non the thread page\n%+v", v.UserID, want.ID, got, want)
					}
				}

				list, err := s.List(ctx, v, discussion.ListQuery{})
				must(err)
				if len(list.Threads) != 2 {
					t.Fatalf("%s: %d threads listed", v.UserID, len(list.Threads))
				}
				for _, want := range list.Threads {
					n.Store(0)
					got, err := cs.ListedThread(ctx, v, want.ID)
					if err != nil || !reflect.DeepEqual(got, want) {
						t.Errorf("%s: thread %s alone\n%+v (%v)\nin the list\n%+v", v.UserID, want.ID, got, err, want)
					}
					if got := n.Load(); got != 1 {
						t.Errorf("%s: ListedThread sent %d statements, want 1", v.UserID, got)
					}
				}
			}
			// Outside the viewer's cohort, in another thread, or hidden: not found.
			for name, err := range map[string]error{
				"another cohort's post":    third(cs.Post(ctx, zoe, q, answer)),
				"a post of another thread": third(cs.Post(ctx, alice, other, answer)),
				"no such post":             third(cs.Post(ctx, alice, q, "nope")),
				"another cohort's thread":  second(cs.ListedThread(ctx, zoe, q)),
			} {
				if code(err) != roundtable.ENOTFOUND {
					t.Errorf("%s: %v", name, err)
				}
			}
			must(s.Hide(ctx, ines, mustOpening(t, s, bob, other), "off topic"))
			if _, err := cs.ListedThread(ctx, alice, other); code(err) != roundtable.ENOTFOUND {
				t.Errorf("a hidden thread to a learner: %v", err)
			}
			if _, _, err := cs.Post(ctx, alice, other, mustOpening(t, s, ines, other)); code(err) != roundtable.ENOTFOUND {
				t.Errorf("a hidden thread's post to a learner: %v", err)
			}
			if th, err := cs.ListedThread(ctx, ines, other); err != nil || !th.Hidden {
				t.Errorf("a hidden thread to staff: %+v %v", th, err)
			}
		})
	}
}

// second and third return the error of a two- or three-valued call.
func second[A any](_ A, err error) error { return err }

func third[A, B any](_ A, _ B, err error) error { return err }
