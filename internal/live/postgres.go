package live

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/internal/store"
)

// Channel is the Postgres notification channel; each payload is
// "topic:id".
const Channel = "roundtable_live"

// Postgres is the bus of a replica on Postgres: a publish commits the row
// and a notification together, and one LISTEN connection per process wakes
// the local subscribers of the topic named, who read the new rows
// themselves. Coalesced or lost notifications lose nothing: a subscriber
// always reads every row after the last one it delivered, and after a
// reconnect every subscriber reads again.
type Postgres struct {
	*core
	// listening holds the backend PID of the LISTEN connection while it is
	// up (0 otherwise); ready closes when it first listens.
	listening atomic.Int32
	ready     chan struct{}
}

// NewPostgres starts listening on db (which must be Postgres) and returns
// the bus. Close stops the listener.
func NewPostgres(db *store.DB, logger *slog.Logger) *Postgres {
	if logger == nil {
		logger = db.Logger
	}
	p := &Postgres{core: newCore(db, logger), ready: make(chan struct{})}
	p.wg.Add(1)
	go p.listen()
	return p
}

// Publish stores the event and notifies every replica when it commits. A
// per-topic advisory lock makes IDs of one topic commit in order, so a
// reader that has seen ID n will never later find a smaller one appear.
func (p *Postgres) Publish(ctx context.Context, topic, typ string, data any) (Event, error) {
	if p.closed() {
		return Event{}, ErrClosed
	}
	raw, err := encode(topic, typ, data)
	if err != nil {
		return Event{}, err
	}
	e := Event{Topic: topic, Type: typ, Data: raw, At: p.now().UTC()}
	err = p.db.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext(?))", "roundtable_live:"+topic).Error; err != nil {
			return err
		}
		if err := tx.Raw("INSERT INTO live_events (topic, type, data, created_at) VALUES (?, ?, ?, ?) RETURNING id",
			topic, typ, string(raw), e.At).Row().Scan(&e.ID); err != nil {
			return err
		}
		return tx.Exec("SELECT pg_notify(?, ?)", Channel, topic+":"+strconv.FormatInt(e.ID, 10)).Error
	})
	if err != nil {
		return Event{}, store.Translate(err)
	}
	// This process's subscribers need not wait for the notification.
	p.wake(topic)
	return e, nil
}

// Close stops the listener and ends every subscription.
func (p *Postgres) Close() error {
	p.close()
	return nil
}

// Ready closes once the listener first listens; tests wait on it.
func (p *Postgres) Ready() <-chan struct{} { return p.ready }

// listen keeps one LISTEN connection up, reconnecting with backoff.
func (p *Postgres) listen() {
	defer p.wg.Done()
	backoff := 100 * time.Millisecond
	for {
		connected, err := p.listenOnce()
		if p.closed() {
			return
		}
		if connected {
			backoff = 100 * time.Millisecond
		}
		p.logger.Warn("live: LISTEN connection lost; reconnecting", slog.Any("error", err), slog.Duration("retry_in", backoff))
		select {
		case <-p.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

func (p *Postgres) listenOnce() (connected bool, err error) {
	ctx := p.ctx
	// A connection of its own, outside the pool: it blocks in
	// WaitForNotification for as long as the process runs.
	cfg := p.db.Pool.Config().ConnConfig.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = "roundtable-live"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer func() {
		p.listening.Store(0)
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return false, err
	}
	p.listening.Store(int32(conn.PgConn().PID()))
	select {
	case <-p.ready:
	default:
		close(p.ready)
	}
	// Whatever was published while nobody listened is in the table.
	p.forgetNewest()
	p.wakeAll()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		if i := strings.LastIndexByte(n.Payload, ':'); i > 0 {
			topic := n.Payload[:i]
			if id, err := strconv.ParseInt(n.Payload[i+1:], 10, 64); err == nil {
				p.noteNewest(topic, id)
			}
			p.wake(topic)
		}
	}
}
