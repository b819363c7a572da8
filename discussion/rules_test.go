package discussion_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// setRules gives the space l1 settings: anonymity and post-first.
func setRules(t *testing.T, db *store.DB, allowAnonymous, postFirst bool) {
	t.Helper()
	now := time.Now().UTC()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO organisations (id, name, created_at) VALUES ('p1', 'LMS', ?) ON CONFLICT DO NOTHING`, []any{now}},
		{`INSERT INTO platforms (id, org_id, name, issuer, client_id, auth_url, jwks_url, created_at, updated_at)
			VALUES ('p1', 'p1', 'LMS', 'https://lms.example', 'c1', 'https://lms.example/auth', 'https://lms.example/jwks', ?, ?) ON CONFLICT DO NOTHING`, []any{now, now}},
		{`INSERT INTO courses (org_id, id, issuer, deployment_id, context_key, platform_id, created_at, updated_at)
			VALUES ('p1', 'c1', 'https://lms.example', 'd1', 'ctx', 'p1', ?, ?) ON CONFLICT DO NOTHING`, []any{now, now}},
		{`INSERT INTO resource_links (org_id, id, course_id, issuer, deployment_id, resource_link_id, platform_id, created_at, updated_at)
			VALUES ('p1', 'l1', 'c1', 'https://lms.example', 'd1', 'rl1', 'p1', ?, ?) ON CONFLICT DO NOTHING`, []any{now, now}},
		{`INSERT INTO activity_settings (org_id, link_id, options, configured, updated_at) VALUES ('p1', 'l1', ?, TRUE, ?)
			ON CONFLICT (org_id, link_id) DO UPDATE SET options = excluded.options`,
			[]any{fmt.Sprintf(`{"allow_anonymous": %t, "post_first": %t}`, allowAnonymous, postFirst), now}},
	} {
		if err := db.Exec(q.sql, q.args...).Error; err != nil {
			t.Fatal(err)
		}
	}
}

func TestAnonymityOffIsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := discussion.NewStore(db)
		alice := viewer("alice", "A", false)
		// No settings: anonymity allowed.
		q, err := s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: discussion.Question, Title: "Anonymous allowed", Body: "x", Anonymous: true})
		if err != nil {
			t.Fatal(err)
		}
		setRules(t, db, false, false)
		var fe *discussion.FieldError
		_, err = s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: discussion.Question, Title: "Anonymous refused", Body: "x", Anonymous: true})
		if !errors.As(err, &fe) || fe.Field != "anonymous" || code(err) != roundtable.EINVALID {
			t.Errorf("anonymous thread with anonymity off: %v", err)
		}
		if _, err := s.Reply(ctx, viewer("bob", "A", false), q, discussion.ReplyInput{Body: "y", Anonymous: true}); code(err) != roundtable.EINVALID {
			t.Errorf("anonymous reply with anonymity off: %v", err)
		}
		if _, err := s.Reply(ctx, viewer("bob", "A", false), q, discussion.ReplyInput{Body: "y"}); err != nil {
			t.Errorf("named reply: %v", err)
		}
	})
}

func TestPostFirstGatesOthersThreads(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := discussion.NewStore(db)
		alice, bob, ines := viewer("alice", "A", false), viewer("bob", "A", false), viewer("ines", "A", true)
		bobs, err := s.CreateThread(ctx, bob, discussion.ThreadInput{Kind: discussion.Discussion, Title: "Reflection on safety", Body: "My reflection"})
		if err != nil {
			t.Fatal(err)
		}
		setRules(t, db, true, true)
		if must, err := s.MustPostFirst(ctx, alice); err != nil || !must {
			t.Fatalf("alice must post first = %v, %v", must, err)
		}
		if must, _ := s.MustPostFirst(ctx, bob); must {
			t.Error("bob, who posted, must post first")
		}
		if must, _ := s.MustPostFirst(ctx, ines); must {
			t.Error("staff must post first")
		}
		list, err := s.List(ctx, alice, discussion.ListQuery{})
		if err != nil || len(list.Threads) != 0 {
			t.Errorf("alice's list before posting: %d threads, %v", len(list.Threads), err)
		}
		if _, err := s.Thread(ctx, alice, bobs); !errors.Is(err, discussion.ErrPostFirst) {
			t.Errorf("alice opens bob's thread: %v", err)
		}
		if _, err := s.Reply(ctx, alice, bobs, discussion.ReplyInput{Body: "Nice"}); !errors.Is(err, discussion.ErrPostFirst) {
			t.Errorf("alice replies to bob's thread: %v", err)
		}
		if res, err := s.Search(ctx, alice, "reflection", 10); err != nil || len(res) != 0 {
			t.Errorf("alice's search: %d results, %v", len(res), err)
		}
		if sim, err := s.Similar(ctx, alice, "reflection safety", 5); err != nil || len(sim) != 0 {
			t.Errorf("alice's suggestions: %d, %v", len(sim), err)
		}
		if list, _ := s.List(ctx, ines, discussion.ListQuery{}); len(list.Threads) != 1 {
			t.Errorf("staff list: %d threads", len(list.Threads))
		}
		// Another cohort's thread of alice's does not count: the rule is per space.
		if _, err := s.CreateThread(ctx, viewer("alice", "B", false), discussion.ThreadInput{Kind: discussion.Discussion, Title: "Elsewhere", Body: "x"}); err != nil {
			t.Fatal(err)
		}
		if must, _ := s.MustPostFirst(ctx, alice); !must {
			t.Error("a thread in another cohort let alice in")
		}
		if _, err := s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: discussion.Discussion, Title: "My reflection", Body: "Mine"}); err != nil {
			t.Fatal(err)
		}
		list, err = s.List(ctx, alice, discussion.ListQuery{})
		if err != nil || len(list.Threads) != 2 {
			t.Errorf("alice's list after posting: %d threads, %v", len(list.Threads), err)
		}
		if _, err := s.Thread(ctx, alice, bobs); err != nil {
			t.Errorf("alice opens bob's thread after posting: %v", err)
		}
		if res, _ := s.Search(ctx, alice, "reflection", 10); len(res) != 2 {
			t.Errorf("alice's search after posting: %d results", len(res))
		}
	})
}
