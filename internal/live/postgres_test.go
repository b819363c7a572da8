package live

import (
	"context"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// twoReplicas opens two independent handles (pools) on one fresh Postgres
// schema, as two replicas would.
func twoReplicas(t *testing.T) (*Postgres, *Postgres) {
	t.Helper()
	url := storetest.PostgresURL(t)
	open := func() *Postgres {
		db, err := store.Open(context.Background(), store.Config{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		b := NewPostgres(db, nil)
		t.Cleanup(func() { b.Close(); db.Close() })
		return b
	}
	a, b := open(), open()
	for _, p := range []*Postgres{a, b} {
		select {
		case <-p.Ready():
		case <-time.After(5 * time.Second):
			t.Fatal("the listener does not listen")
		}
	}
	return a, b
}

func TestEventsCrossReplicas(t *testing.T) {
	a, b := twoReplicas(t)
	ctx := t.Context()
	topic := SpaceTopic("space-1")
	chB, err := b.Subscribe(ctx, topic, FromNow)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	sent := publish(t, a, topic, "post.created", 3)
	got := receive(t, chB, 3)
	for i := range sent {
		if got[i].ID != sent[i].ID {
			t.Fatalf("replica B got %d, want %d", got[i].ID, sent[i].ID)
		}
	}
	t.Logf("3 events crossed replicas in %v", time.Since(start))
	quiet(t, chB)
}

// A lost LISTEN connection comes back, and what was published meanwhile
// still arrives.
func TestListenerReconnects(t *testing.T) {
	a, b := twoReplicas(t)
	ctx := t.Context()
	topic := SpaceTopic("space-1")
	chB, _ := b.Subscribe(ctx, topic, FromNow)
	pid := b.listening.Load()
	if _, err := a.db.SQL.ExecContext(ctx, "SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	sent := publish(t, a, topic, "post.created", 1)
	if got := receive(t, chB, 1); got[0].ID != sent[0].ID {
		t.Fatalf("got %d, want %d", got[0].ID, sent[0].ID)
	}
	deadline := time.Now().Add(5 * time.Second)
	for b.listening.Load() == 0 || b.listening.Load() == pid {
		if time.Now().After(deadline) {
			t.Fatal("the listener did not reconnect")
		}
		time.Sleep(20 * time.Millisecond)
	}
	sent = publish(t, a, topic, "post.created", 1)
	if got := receive(t, chB, 1); got[0].ID != sent[0].ID {
		t.Fatalf("after reconnecting: got %d, want %d", got[0].ID, sent[0].ID)
	}
}

// Each replica caches a topic's newest event ID for the pages it renders;
// notifications keep it current when another replica publishes.
func TestLatestFollowsOtherReplicas(t *testing.T) {
	a, b := twoReplicas(t)
	ctx := context.Background()
	topic := "cohort:p:latest"
	if id, err := a.Latest(ctx, topic); err != nil || id != 0 {
		t.Fatalf("empty topic: %d %v", id, err)
	}
	var last Event
	for i := 0; i < 3; i++ {
		e, err := b.Publish(ctx, topic, "post.created", map[string]int{"n": i})
		if err != nil {
			t.Fatal(err)
		}
		last = e
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		id, err := a.Latest(ctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		if id == last.ID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica A still says %d, want %d", id, last.ID)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
