package grade

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync"
	"time"

	"github.com/roundtable-lms/roundtable/internal/store"
)

// gate lets at most perLMS deliveries run against one LMS at a time: in
// this process with a semaphore per platform, and across processes on
// Postgres with session advisory locks, one per slot.
type gate struct {
	db     *store.DB
	perLMS int
	mu     sync.Mutex
	slots  map[string]chan struct{}
}

func newGate(db *store.DB, perLMS int) *gate {
	return &gate{db: db, perLMS: perLMS, slots: map[string]chan struct{}{}}
}

func (g *gate) semaphore(platformID string) chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	ch, ok := g.slots[platformID]
	if !ok {
		ch = make(chan struct{}, g.perLMS)
		g.slots[platformID] = ch
	}
	return ch
}

// acquire waits up to wait for a slot of the platform. ok is false when
// none came free; then the caller tries again later.
func (g *gate) acquire(ctx context.Context, platformID string, wait time.Duration) (release func(), ok bool, err error) {
	sem := g.semaphore(platformID)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case sem <- struct{}{}:
	case <-timer.C:
		return nil, false, nil
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	local := func() { <-sem }
	if g.db.Dialect != store.Postgres {
		return local, true, nil
	}
	// database/sql under gorm: a session lock must stay on one connection
	// until the delivery ends, and sql.Conn is the handle that pins one.
	conn, err := g.db.SQL.Conn(ctx)
	if err != nil {
		local()
		return nil, false, fmt.Errorf("delivery slot: %w", err)
	}
	for slot := range g.perLMS {
		var got bool
		key := fmt.Sprintf("grade delivery/%s/%d", platformID, slot)
		if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`, key).Scan(&got); err != nil {
			conn.Close()
			local()
			return nil, false, fmt.Errorf("delivery slot: %w", err)
		}
		if got {
			return func() {
				// A background context: the slot must be released even
				// when the delivery's own context ended.
				unlock(conn, key)
				local()
			}, true, nil
		}
	}
	conn.Close()
	local()
	return nil, false, nil
}

func unlock(conn *sql.Conn, key string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, key); err != nil {
		// Closing a connection whose unlock failed would return a locked
		// session to the pool: discard it instead.
		conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	conn.Close()
}
