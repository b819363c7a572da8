package discussion_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// countingConnector opens connections of the real driver that count the
// statements sent through them.
type countingConnector struct {
	dsn string
	drv driver.Driver
	n   *atomic.Int64
}

func (c countingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return countingConn{Conn: conn, n: c.n}, nil
}

func (c countingConnector) Driver() driver.Driver { return c.drv }

type countingConn struct {
	driver.Conn
	n *atomic.Int64
}

func (c countingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	qc, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	r, err := qc.QueryContext(ctx, q, args)
	if err != driver.ErrSkip {
		c.n.Add(1)
	}
	return r, err
}

func (c countingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	ec, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	r, err := ec.ExecContext(ctx, q, args)
	if err != driver.ErrSkip {
		c.n.Add(1)
	}
	return r, err
}

func (c countingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	c.n.Add(1)
	if pc, ok := c.Conn.(driver.ConnPrepareContext); ok {
		return pc.PrepareContext(ctx, q)
	}
	return c.Conn.Prepare(q)
}

func (c countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if bc, ok := c.Conn.(driver.ConnBeginTx); ok {
		return bc.BeginTx(ctx, opts)
	}
	return c.Conn.Begin() //nolint:staticcheck // fallback of database/sql itself
}

func (c countingConn) CheckNamedValue(v *driver.NamedValue) error {
	if nc, ok := c.Conn.(driver.NamedValueChecker); ok {
		return nc.CheckNamedValue(v)
	}
	return driver.ErrSkip
}

// countedDB opens a fresh, migrated database of the given kind and a second
// handle on it whose statements are counted in n: a store on counted shows
// how many statements a read sends.
func countedDB(t *testing.T, kind store.Dialect) (db, counted *store.DB, n *atomic.Int64) {
	t.Helper()
	db, cfg := storetest.OpenConfig(t, kind)
	dsn := cfg.URL
	if kind == store.SQLite {
		dsn = "file:" + cfg.SQLitePath + "?_pragma=busy_timeout(10000)"
	}
	n = new(atomic.Int64)
	sqlDB := sql.OpenDB(countingConnector{dsn: dsn, drv: db.SQL.Driver(), n: n})
	t.Cleanup(func() { sqlDB.Close() })
	return db, &store.DB{DB: db.DB, Dialect: db.Dialect, SQL: sqlDB}, n
}

// threadStatements is how many statements a thread's read sends: the
// thread, then its posts; SQLite records the visit in a statement of its
// own, Postgres with the posts.
func threadStatements(kind store.Dialect) int64 {
	if kind == store.SQLite {
		return 3
	}
	return 2
}

// TestListAndThreadQueriesDoNotGrow counts the statements the list and
// thread pages' reads send: the same for 3 threads as for 40, and for a
// thread of 2 replies as for one of 40 (no N+1).
func TestListAndThreadQueriesDoNotGrow(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			ctx := context.Background()
			db, counted, n := countedDB(t, kind)
			s := discussion.NewStore(db)
			s.PostsPerMinute = 0
			cs := discussion.NewStore(counted)

			learners := []discussion.Viewer{viewer("a", "A", false), viewer("b", "A", false), viewer("c", "A", false)}
			var first string
			grow := func(threads, replies int) {
				for i := 0; i < threads; i++ {
					id, err := s.CreateThread(ctx, learners[i%3], discussion.ThreadInput{Kind: discussion.Question, Title: fmt.Sprintf("Thread %d", i), Body: "b", Tags: "x y", Anonymous: i%2 == 0})
					if err != nil {
						t.Fatal(err)
					}
					if first == "" {
						first = id
					}
				}
				for i := 0; i < replies; i++ {
					id, err := s.Reply(ctx, learners[i%3], first, discussion.ReplyInput{Body: "r"})
					if err != nil {
						t.Fatal(err)
					}
					if _, err := s.Reply(ctx, learners[(i+1)%3], first, discussion.ReplyInput{ParentID: id, Body: "n"}); err != nil {
						t.Fatal(err)
					}
					if _, err := s.ToggleVote(ctx, learners[(i+2)%3], id); err != nil {
						t.Fatal(err)
					}
				}
			}
			measure := func() (list, thread int64) {
				n.Store(0)
				l, err := cs.List(ctx, learners[0], discussion.ListQuery{Limit: 50})
				if err != nil || len(l.Threads) == 0 {
					t.Fatalf("list: %v", err)
				}
				list = n.Swap(0)
				if _, err := cs.Thread(ctx, learners[0], first); err != nil {
					t.Fatal(err)
				}
				return list, n.Load()
			}
			grow(3, 2)
			l1, t1 := measure()
			grow(37, 20)
			l2, t2 := measure()
			wantThread := threadStatements(kind)
			if l1 != l2 || t1 != t2 || l1 != 1 || t1 != wantThread {
				t.Errorf("statements: list %d then %d, thread %d then %d; want 1 and %d each time", l1, l2, t1, t2, wantThread)
			}
		})
	}
}
