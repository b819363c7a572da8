package live

import (
	"context"
	"time"

	"github.com/roundtable-lms/roundtable/internal/store"
)

// Local is the bus of a single process (SQLite): a publish wakes the
// subscribers of this process directly.
type Local struct {
	*core
}

// NewLocal returns an in-process bus over db's live_events table.
func NewLocal(db *store.DB) *Local {
	return &Local{core: newCore(db, db.Logger)}
}

// Publish stores the event and wakes this process's subscribers of topic.
// SQLite serialises writers, so IDs commit in order.
func (l *Local) Publish(ctx context.Context, topic, typ string, data any) (Event, error) {
	if l.closed() {
		return Event{}, ErrClosed
	}
	raw, err := encode(topic, typ, data)
	if err != nil {
		return Event{}, err
	}
	e := Event{Topic: topic, Type: typ, Data: raw, At: l.now().UTC()}
	for attempt := 0; ; attempt++ {
		err = l.db.WithContext(ctx).Raw("INSERT INTO live_events (topic, type, data, created_at) VALUES (?, ?, ?, ?) RETURNING id",
			topic, typ, string(raw), e.At).Row().Scan(&e.ID)
		if err == nil || !store.IsBusy(err) || attempt == 4 {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 10 * time.Millisecond)
	}
	if err != nil {
		return Event{}, store.Translate(err)
	}
	l.noteNewest(topic, e.ID)
	l.wake(topic)
	return e, nil
}

// Close ends every subscription.
func (l *Local) Close() error {
	l.close()
	return nil
}
