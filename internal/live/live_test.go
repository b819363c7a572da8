package live

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

func newBus(t *testing.T, db *store.DB) Bus {
	t.Helper()
	b := New(db, nil)
	t.Cleanup(func() { b.Close() })
	return b
}

func publish(t *testing.T, b Bus, topic, typ string, n int) []Event {
	t.Helper()
	var evs []Event
	for i := range n {
		e, err := b.Publish(context.Background(), topic, typ, map[string]any{"n": i})
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
	}
	return evs
}

// receive reads n events from ch or fails after a few seconds.
func receive(t *testing.T, ch <-chan Event, n int) []Event {
	t.Helper()
	var got []Event
	timeout := time.After(5 * time.Second)
	for len(got) < n {
		select {
		case e, ok := <-ch:
			if !ok {
				t.Fatalf("channel closed after %d of %d events", len(got), n)
			}
			got = append(got, e)
		case <-timeout:
			t.Fatalf("got %d of %d events", len(got), n)
		}
	}
	return got
}

// quiet checks that nothing arrives on ch for a moment.
func quiet(t *testing.T, ch <-chan Event) {
	t.Helper()
	select {
	case e, ok := <-ch:
		if ok {
			t.Fatalf("unexpected event %+v", e)
		}
	case <-time.After(200 * time.Millisecond):
	}
}

func TestPublishSubscribeInOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := newBus(t, db)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		topic := SpaceTopic("space-1")
		publish(t, b, topic, "before", 2) // not replayed: FromNow
		ch, err := b.Subscribe(ctx, topic, FromNow)
		if err != nil {
			t.Fatal(err)
		}
		sent := publish(t, b, topic, "post.created", 5)
		got := receive(t, ch, 5)
		for i := range sent {
			if got[i].ID != sent[i].ID || got[i].Type != "post.created" || got[i].Topic != topic {
				t.Fatalf("event %d: got %+v, sent %+v", i, got[i], sent[i])
			}
			var d struct{ N int }
			if err := json.Unmarshal(got[i].Data, &d); err != nil || d.N != i {
				t.Fatalf("event %d data %s", i, got[i].Data)
			}
			if time.Since(got[i].At) > time.Minute || got[i].At.Location() != time.UTC {
				t.Fatalf("event time %v", got[i].At)
			}
			if i > 0 && got[i].ID <= got[i-1].ID {
				t.Fatal("IDs out of order")
			}
		}
		quiet(t, ch)
		if latest, err := b.Latest(ctx, topic); err != nil || latest != sent[4].ID {
			t.Fatalf("latest %d %v, want %d", latest, err, sent[4].ID)
		}
		cancel()
		select {
		case _, ok := <-ch:
			if ok {
				t.Fatal("event after cancel")
			}
		case <-time.After(2 * time.Second):
			t.Fatal("the channel stays open after the context ended")
		}
	})
}

func TestResumeAfterID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := newBus(t, db)
		ctx := t.Context()
		topic := SpaceTopic("space-1")
		sent := publish(t, b, topic, "post.created", 6)
		ch, err := b.Subscribe(ctx, topic, sent[2].ID)
		if err != nil {
			t.Fatal(err)
		}
		got := receive(t, ch, 3)
		for i, e := range got {
			if e.ID != sent[3+i].ID {
				t.Fatalf("replay %d: id %d, want %d", i, e.ID, sent[3+i].ID)
			}
		}
		more := publish(t, b, topic, "post.created", 1)
		if e := receive(t, ch, 1)[0]; e.ID != more[0].ID {
			t.Fatalf("after replay: %d, want %d", e.ID, more[0].ID)
		}
		// From the start: everything still stored.
		all, err := b.Subscribe(ctx, topic, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := receive(t, all, 7); got[0].ID != sent[0].ID {
			t.Fatalf("replay from 0 starts at %d", got[0].ID)
		}
		quiet(t, all)
	})
}

func TestTopicsAreIsolated(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := newBus(t, db)
		ctx := t.Context()
		a, other := SpaceTopic("space-a"), SpaceTopic("space-b")
		// A topic that is a prefix of another must not match it either.
		prefix := SpaceTopic("space")
		publish(t, b, other, "post.created", 3)
		chA, _ := b.Subscribe(ctx, a, 0)
		chP, _ := b.Subscribe(ctx, prefix, 0)
		publish(t, b, other, "post.created", 3)
		sent := publish(t, b, a, "post.created", 1)
		if got := receive(t, chA, 1); got[0].ID != sent[0].ID || got[0].Topic != a {
			t.Fatalf("cohort A got %+v", got[0])
		}
		quiet(t, chA)
		quiet(t, chP)
	})
}

func TestSlowSubscriberIsDroppedWithoutBlockingPublish(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := newBus(t, db)
		c := coreOf(b)
		c.buffer, c.grace = 4, 50*time.Millisecond
		ctx := t.Context()
		topic := SpaceTopic("space-1")
		slow, _ := b.Subscribe(ctx, topic, FromNow)
		fast, _ := b.Subscribe(ctx, topic, FromNow)
		start := time.Now()
		var sent []Event
		for i := range 20 {
			sent = append(sent, publish(t, b, topic, "vote", 1)...)
			// The fast one keeps up.
			if e := receive(t, fast, 1)[0]; e.ID != sent[i].ID {
				t.Fatalf("fast subscriber got %d, want %d", e.ID, sent[i].ID)
			}
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("20 publishes took %v", took)
		}
		// The slow one got its buffer's worth and, once the grace period
		// passed without room, its channel closed.
		time.Sleep(10 * c.grace)
		n := 0
		deadline := time.After(5 * time.Second)
		for open := true; open; {
			select {
			case _, ok := <-slow:
				if ok {
					n++
				}
				open = ok
			case <-deadline:
				t.Fatal("the slow subscriber was not dropped")
			}
		}
		if n < 4 || n >= 20 {
			t.Fatalf("slow subscriber received %d events before it was dropped", n)
		}
		c.mu.Lock()
		left := len(c.subs[topic])
		c.mu.Unlock()
		if left != 1 {
			t.Fatalf("%d subscribers registered, want the fast one only", left)
		}
	})
}

func TestPrune(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := newBus(t, db)
		c := coreOf(b)
		ctx := t.Context()
		topic := SpaceTopic("space-1")
		c.now = func() time.Time { return time.Now().Add(-48 * time.Hour) }
		publish(t, b, topic, "old", 3)
		c.now = time.Now
		recent := publish(t, b, topic, "new", 2)
		n, err := b.(Pruner).Prune(ctx, time.Now().Add(-Retention))
		if err != nil || n != 3 {
			t.Fatalf("pruned %d, %v; want 3", n, err)
		}
		ch, _ := b.Subscribe(ctx, topic, 0)
		if got := receive(t, ch, 2); got[0].ID != recent[0].ID {
			t.Fatalf("after pruning the first event is %d", got[0].ID)
		}
		quiet(t, ch)
		// IDs never go back after the newest rows are pruned.
		if _, err := b.(Pruner).Prune(ctx, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if next := publish(t, b, topic, "new", 1); next[0].ID <= recent[1].ID {
			t.Fatalf("id %d after pruning, last was %d", next[0].ID, recent[1].ID)
		}
	})
}

func TestInvalidEvents(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	b := newBus(t, db)
	ctx := t.Context()
	for _, c := range []struct{ topic, typ string }{{"", "x"}, {"t", ""}, {"t", "post created"}, {"t", "a\nb"}, {fmt.Sprintf("%0300d", 1), "x"}} {
		if _, err := b.Publish(ctx, c.topic, c.typ, nil); err == nil {
			t.Errorf("published topic %q type %q", c.topic, c.typ)
		}
	}
	if _, err := b.Publish(ctx, "t", "x", json.RawMessage("{not json")); err == nil {
		t.Error("published invalid JSON")
	}
	e, err := b.Publish(ctx, "t", "x", json.RawMessage("{\n  \"a\": 1\n}"))
	if err != nil || string(e.Data) != `{"a":1}` {
		t.Errorf("data %s %v, want compact JSON on one line", e.Data, err)
	}
	b.Close()
	if _, err := b.Publish(ctx, "t", "x", nil); err == nil {
		t.Error("a closed bus published")
	}
	if _, err := b.Subscribe(ctx, "t", 0); err == nil {
		t.Error("a closed bus subscribed")
	}
}

func TestCloseEndsSubscriptions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := New(db, nil)
		ch, err := b.Subscribe(context.Background(), "t", FromNow)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { b.Close(); close(done) }()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			t.Fatal("Close hangs")
		}
		if _, ok := <-ch; ok {
			t.Fatal("event after Close")
		}
	})
}

func coreOf(b Bus) *core {
	switch b := b.(type) {
	case *Local:
		return b.core
	case *Postgres:
		return b.core
	}
	panic("unknown bus")
}

// A bounded replay leaves out what was stored before Since and all but the
// newest Max events, saying so with one Missed event; the live stream
// follows as usual.
func TestReplayIsBounded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := newBus(t, db)
		c := coreOf(b)
		ctx := t.Context()
		topic := SpaceTopic("space-1")
		t0 := time.Now().UTC().Truncate(time.Second)
		c.now = func() time.Time { return t0 }
		publish(t, b, topic, "post.created", 3)
		t1 := t0.Add(time.Hour)
		c.now = func() time.Time { return t1 }
		recent := publish(t, b, topic, "post.created", 5)

		// Nothing from before Since, even asked from 0.
		ch, err := b.SubscribeFrom(ctx, topic, Replay{After: 0, Since: t1})
		if err != nil {
			t.Fatal(err)
		}
		if got := receive(t, ch, 5); got[0].ID != recent[0].ID || got[4].ID != recent[4].ID {
			t.Errorf("since: got %d..%d, want %d..%d", got[0].ID, got[4].ID, recent[0].ID, recent[4].ID)
		}
		quiet(t, ch)

		// At most Max: a Missed event, then the newest two.
		ch, err = b.SubscribeFrom(ctx, topic, Replay{After: 0, Max: 2})
		if err != nil {
			t.Fatal(err)
		}
		got := receive(t, ch, 3)
		if got[0].Type != Missed || got[0].ID != recent[2].ID || got[1].ID != recent[3].ID || got[2].ID != recent[4].ID {
			t.Errorf("max: got %+v", got)
		}
		quiet(t, ch)
		more := publish(t, b, topic, "vote", 1)
		if e := receive(t, ch, 1)[0]; e.ID != more[0].ID {
			t.Errorf("after the replay: %+v", e)
		}

		// Within the bound: no Missed event.
		ch, err = b.SubscribeFrom(ctx, topic, Replay{After: recent[3].ID, Since: t0, Max: 2})
		if err != nil {
			t.Fatal(err)
		}
		if got := receive(t, ch, 2); got[0].ID != recent[4].ID || got[1].ID != more[0].ID {
			t.Errorf("within the bound: %+v", got)
		}
		quiet(t, ch)
	})
}
