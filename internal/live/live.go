// Package live carries "something changed" events from the process that
// made a change to every browser watching the same topic, on any replica.
//
// Events are rows of live_events, kept for a day, so a subscriber that
// reconnects with the id of the last event it saw (SSE's Last-Event-ID)
// gets exactly what it missed. On Postgres a pg_notify after each publish
// tells the other replicas which topic moved; each replica keeps one
// LISTEN connection and reads the new rows. On SQLite (one process) a
// publish wakes the local subscribers directly. The Bus interface is small
// so that another transport (NATS) can replace Postgres when event volume
// outgrows it.
package live

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/roundtable-lms/roundtable/internal/store"
)

// Event is one change in a topic. IDs grow across all topics; within a
// topic they are delivered in order.
type Event struct {
	ID    int64           `json:"id"`
	Topic string          `json:"topic"`
	Type  string          `json:"type"`
	Data  json.RawMessage `json:"data"`
	At    time.Time       `json:"at"`
}

// FromNow, as Subscribe's afterID, skips every stored event: only events
// published after the subscription arrive.
const FromNow int64 = -1

// Bus publishes events and streams them to subscribers.
type Bus interface {
	// Publish stores an event (data is marshalled to JSON) and announces
	// it to every subscriber of topic, in this process and the others.
	Publish(ctx context.Context, topic, typ string, data any) (Event, error)
	// Subscribe first replays the stored events of topic with an ID above
	// afterID (FromNow: none), then streams new ones until ctx ends or the
	// bus closes. A subscriber that does not keep up is dropped: its channel
	// closes early, and it may subscribe again from the last ID it saw.
	Subscribe(ctx context.Context, topic string, afterID int64) (<-chan Event, error)
	// SubscribeFrom is Subscribe with the replay bounded (see Replay).
	SubscribeFrom(ctx context.Context, topic string, from Replay) (<-chan Event, error)
	// Latest is the ID of the newest stored event of topic (0 when none):
	// a page rendered now resumes from it, so nothing published between the
	// render and the subscription is lost.
	Latest(ctx context.Context, topic string) (int64, error)
	// Close ends every subscription and stops listening.
	Close() error
}

// Pruner is a bus whose stored events must be deleted once no subscriber
// can still ask for them.
type Pruner interface {
	// Prune deletes events created before before and returns how many.
	Prune(ctx context.Context, before time.Time) (int64, error)
}

// Retention is how long events stay replayable.
const Retention = 24 * time.Hour

// SpaceTopic is the topic of one space (see package space): everything
// its members may see live there. A cohort spans the course's activities;
// each activity's discussion of it is a space of its own, and so is its
// topic.
func SpaceTopic(spaceID string) string {
	return "space:" + spaceID
}

// Replay bounds what a subscription replays of the stored events.
type Replay struct {
	// After is the ID of the last event the subscriber saw (FromNow: it
	// saw everything stored).
	After int64
	// Since leaves out events stored before it: the subscriber was not
	// there to see them (zero: no bound).
	Since time.Time
	// Max replays at most the newest Max events (0: no bound). When more
	// were missed, the replay starts with one event of type Missed.
	Max int
}

// Missed is the type of the event that opens a replay cut short by
// Replay.Max: the subscriber missed events and should reload.
const Missed = "missed"

// New returns the bus that suits db: LISTEN/NOTIFY on Postgres, in-process
// on SQLite.
func New(db *store.DB, logger *slog.Logger) Bus {
	if db.Dialect == store.Postgres {
		return NewPostgres(db, logger)
	}
	return NewLocal(db)
}

// ErrInvalid is returned for an empty or oversized topic or type, or data
// that is not JSON.
var ErrInvalid = errors.New("live: invalid event")

// ErrClosed is returned by a closed bus.
var ErrClosed = errors.New("live: bus closed")

const (
	maxTopic    = 200
	maxType     = 64
	maxData     = 64 << 10
	batchSize   = 256
	defaultBuf  = 256
	defaultWait = 2 * time.Second
)

// core is what both buses share: the table, the local subscribers and
// their delivery goroutines.
type core struct {
	db     *store.DB
	logger *slog.Logger
	now    func() time.Time

	// buffer is each subscriber's channel capacity; grace how long a
	// delivery waits for room before the subscriber is dropped.
	buffer int
	grace  time.Duration

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	mu   sync.Mutex
	subs map[string]map[*subscriber]struct{}

	// newest caches each topic's newest event ID, which every page asks
	// for. Publishes and notifications keep it current; a gap in
	// notifications empties it.
	newestMu sync.Mutex
	newest   map[string]int64
}

type subscriber struct {
	wake chan struct{} // capacity 1: wakes coalesce
}

func newCore(db *store.DB, logger *slog.Logger) *core {
	if logger == nil {
		logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &core{db: db, logger: logger, now: time.Now, buffer: defaultBuf, grace: defaultWait,
		ctx: ctx, cancel: cancel, subs: map[string]map[*subscriber]struct{}{}}
}

// encode validates an event and marshals its data to one line of JSON.
func encode(topic, typ string, data any) ([]byte, error) {
	if topic == "" || len(topic) > maxTopic || !validType(typ) {
		return nil, fmt.Errorf("%w: topic %q, type %q", ErrInvalid, topic, typ)
	}
	var raw []byte
	switch d := data.(type) {
	case json.RawMessage:
		raw = d
	case []byte:
		raw = d
	default:
		b, err := json.Marshal(data)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		raw = b
	}
	if len(raw) == 0 {
		raw = []byte("null")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, fmt.Errorf("%w: data is not JSON: %v", ErrInvalid, err)
	}
	if buf.Len() > maxData {
		return nil, fmt.Errorf("%w: data of %d bytes", ErrInvalid, buf.Len())
	}
	return buf.Bytes(), nil
}

// validType accepts names such as "post.created": they become SSE event
// names, so no spaces or line breaks.
func validType(typ string) bool {
	if typ == "" || len(typ) > maxType {
		return false
	}
	for _, r := range typ {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func (c *core) closed() bool { return c.ctx.Err() != nil }

// wake tells the local subscribers of topic to read new rows.
func (c *core) wake(topic string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for s := range c.subs[topic] {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// wakeAll wakes every local subscriber, after a gap in notifications.
func (c *core) wakeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, set := range c.subs {
		for s := range set {
			select {
			case s.wake <- struct{}{}:
			default:
			}
		}
	}
}

func (c *core) add(topic string) *subscriber {
	s := &subscriber{wake: make(chan struct{}, 1)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.subs[topic] == nil {
		c.subs[topic] = map[*subscriber]struct{}{}
	}
	c.subs[topic][s] = struct{}{}
	return s
}

func (c *core) remove(topic string, s *subscriber) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.subs[topic], s)
	if len(c.subs[topic]) == 0 {
		delete(c.subs, topic)
	}
}

// Subscribe streams topic from afterID; see Bus.
func (c *core) Subscribe(ctx context.Context, topic string, afterID int64) (<-chan Event, error) {
	return c.subscribe(ctx, topic, Replay{After: afterID})
}

// SubscribeFrom streams topic with a bounded replay; see Bus.
func (c *core) SubscribeFrom(ctx context.Context, topic string, from Replay) (<-chan Event, error) {
	return c.subscribe(ctx, topic, from)
}

// subscribe registers a subscriber before its first read, so no wake is
// lost between the replay and the stream, then delivers from its own
// cursor: a slow subscriber never holds back a publisher or the others.
func (c *core) subscribe(ctx context.Context, topic string, from Replay) (<-chan Event, error) {
	if c.closed() {
		return nil, ErrClosed
	}
	if topic == "" || len(topic) > maxTopic {
		return nil, fmt.Errorf("%w: topic %q", ErrInvalid, topic)
	}
	sub := c.add(topic)
	afterID, missed := from.After, false
	var err error
	if afterID < 0 {
		afterID, err = c.latest(ctx, topic)
	} else if !from.Since.IsZero() || from.Max > 0 {
		afterID, missed, err = c.bound(ctx, topic, from)
	}
	if err != nil {
		c.remove(topic, sub)
		return nil, err
	}
	out := make(chan Event, c.buffer)
	if missed {
		out <- Event{ID: afterID, Topic: topic, Type: Missed, Data: json.RawMessage("{}"), At: c.now().UTC()}
	}
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(c.ctx, cancel)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer close(out)
		defer c.remove(topic, sub)
		defer stop()
		defer cancel()
		c.deliver(ctx, topic, afterID, sub, out)
	}()
	return out, nil
}

func (c *core) deliver(ctx context.Context, topic string, cursor int64, sub *subscriber, out chan<- Event) {
	retry := time.Duration(0)
	for {
		evs, err := c.fetch(ctx, topic, cursor)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			retry = min(max(2*retry, 100*time.Millisecond), 5*time.Second)
			c.logger.Warn("live: cannot read events", slog.String("topic", topic), slog.Any("error", err), slog.Duration("retry_in", retry))
			select {
			case <-ctx.Done():
				return
			case <-time.After(retry):
			}
			continue
		}
		retry = 0
		for _, e := range evs {
			if !c.send(ctx, out, e) {
				if ctx.Err() == nil {
					c.logger.Info("live: slow subscriber dropped", slog.String("topic", topic), slog.Int64("last_id", cursor))
				}
				return
			}
			cursor = e.ID
		}
		if len(evs) == batchSize {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-sub.wake:
		}
	}
}

// send delivers e, waiting at most the grace period for room.
func (c *core) send(ctx context.Context, out chan<- Event, e Event) bool {
	select {
	case out <- e:
		return true
	default:
	}
	t := time.NewTimer(c.grace)
	defer t.Stop()
	select {
	case out <- e:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

func (c *core) fetch(ctx context.Context, topic string, after int64) ([]Event, error) {
	rows, err := c.db.WithContext(ctx).Raw(
		"SELECT id, type, data, created_at FROM live_events WHERE topic = ? AND id > ? ORDER BY id LIMIT ?", topic, after, batchSize).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var evs []Event
	for rows.Next() {
		e := Event{Topic: topic}
		var data string
		if err := rows.Scan(&e.ID, &e.Type, &data, &e.At); err != nil {
			return nil, err
		}
		e.Data = json.RawMessage(data)
		e.At = e.At.UTC()
		evs = append(evs, e)
	}
	return evs, rows.Err()
}

// bound moves a replay's cursor past the events stored before from.Since
// and past all but the newest from.Max; missed is true when the latter
// left some out. One statement on the (topic, id) index.
func (c *core) bound(ctx context.Context, topic string, from Replay) (cursor int64, missed bool, err error) {
	since := from.Since
	if since.IsZero() {
		since = time.Unix(0, 0)
	}
	var before int64
	var overflow sql.NullInt64
	err = c.db.WithContext(ctx).Raw(`SELECT
			COALESCE((SELECT MAX(id) FROM live_events WHERE topic = ? AND id > ? AND created_at < ?), 0),
			(SELECT id FROM live_events WHERE topic = ? AND id > ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
		topic, from.After, since.UTC(), topic, from.After, max(from.Max, 0)).Row().Scan(&before, &overflow)
	if err != nil {
		return 0, false, store.Translate(err)
	}
	cursor = max(from.After, before)
	if from.Max > 0 && overflow.Valid && overflow.Int64 > cursor {
		return overflow.Int64, true, nil
	}
	return cursor, false, nil
}

func (c *core) latest(ctx context.Context, topic string) (int64, error) {
	var id int64
	err := c.db.WithContext(ctx).Raw("SELECT COALESCE(MAX(id), 0) FROM live_events WHERE topic = ?", topic).Row().Scan(&id)
	return id, store.Translate(err)
}

// Latest is the newest event ID of topic.
func (c *core) Latest(ctx context.Context, topic string) (int64, error) {
	c.newestMu.Lock()
	id, ok := c.newest[topic]
	c.newestMu.Unlock()
	if ok {
		return id, nil
	}
	id, err := c.latest(ctx, topic)
	if err != nil {
		return 0, err
	}
	return c.noteNewest(topic, id), nil
}

// noteNewest records that topic has an event with this ID and returns the
// newest ID known for it.
func (c *core) noteNewest(topic string, id int64) int64 {
	c.newestMu.Lock()
	defer c.newestMu.Unlock()
	if c.newest == nil || len(c.newest) > maxCachedTopics {
		c.newest = map[string]int64{}
	}
	if old, known := c.newest[topic]; known && old >= id {
		return old
	}
	c.newest[topic] = id
	return id
}

// forgetNewest empties the cache after notifications may have been missed.
func (c *core) forgetNewest() {
	c.newestMu.Lock()
	c.newest = nil
	c.newestMu.Unlock()
}

const maxCachedTopics = 100000

// Prune deletes the events created before before.
func (c *core) Prune(ctx context.Context, before time.Time) (int64, error) {
	res := c.db.WithContext(ctx).Exec("DELETE FROM live_events WHERE created_at < ?", before.UTC())
	if res.Error != nil {
		return 0, store.Translate(res.Error)
	}
	return res.RowsAffected, nil
}

// close ends the subscriptions and waits for their goroutines.
func (c *core) close() {
	c.once.Do(c.cancel)
	c.wg.Wait()
}
