// Package store opens Roundtable's database (embedded SQLite by default,
// Postgres in production), applies the embedded migrations and translates
// driver errors into the project's error vocabulary.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialect names the kind of database behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

//go:embed migrations
var migrations embed.FS

// DB is an open database with its dialect.
type DB struct {
	*gorm.DB
	Dialect Dialect
	SQL     *sql.DB
	// Pool is the pgx pool under a Postgres DB (nil on SQLite); LISTEN/NOTIFY
	// and the job queue use it directly.
	Pool *pgxpool.Pool
	// relaxed is a second Postgres pool whose commits do not wait for the
	// WAL flush (see TxRelaxed); on SQLite it is the DB itself.
	relaxed     *gorm.DB
	relaxedPool *pgxpool.Pool
	// Logger receives migration notes; slog.Default() when nil.
	Logger *slog.Logger
	// path is the SQLite file (empty on Postgres).
	path string
	// rebound keeps Rebind's answers (maxRebound of them at most): the
	// statements of a launch are long and the same every time.
	rebound  sync.Map
	nRebound atomic.Int32
}

// maxRebound bounds the statements Rebind keeps: those written in the
// code, whose number is fixed; text built with values in it would not be
// worth keeping.
const maxRebound = 1024

// Config says which database to open.
type Config struct {
	// URL is a postgres:// URL; empty means an SQLite file in DataDir.
	URL string
	// DataDir holds the SQLite file when URL is empty.
	DataDir string
	// SQLitePath overrides the SQLite file location (tests use a temp file).
	SQLitePath string
	// MaxConns bounds the Postgres pool; 0 picks a default.
	MaxConns int32
}

// Open connects to the database described by cfg. It does not migrate.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	gcfg := &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		PrepareStmt:            false,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		TranslateError:         false,
	}
	if cfg.URL != "" {
		if !strings.HasPrefix(cfg.URL, "postgres://") && !strings.HasPrefix(cfg.URL, "postgresql://") {
			return nil, errors.New("database URL must start with postgres:// or postgresql://")
		}
		pcfg, err := pgxpool.ParseConfig(cfg.URL)
		if err != nil {
			return nil, fmt.Errorf("database URL: %w", err)
		}
		switch {
		case cfg.MaxConns > 0:
			pcfg.MaxConns = cfg.MaxConns
		case !strings.Contains(cfg.URL, "pool_max_conns"):
			// A few connections per core keep Postgres busy without making
			// its backends fight over the cores.
			pcfg.MaxConns = int32(max(8, 4*runtime.NumCPU()))
		}
		pool, err := pgxpool.NewWithConfig(ctx, pcfg)
		if err != nil {
			return nil, fmt.Errorf("connect to postgres: %w", err)
		}
		pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := pool.Ping(pingCtx); err != nil {
			pool.Close()
			return nil, fmt.Errorf("connect to postgres: %w", err)
		}
		sqlDB := stdlib.OpenDBFromPool(pool)
		// database/sql keeps only 2 idle connections by default and would
		// hand the rest back to pgxpool after each query.
		sqlDB.SetMaxOpenConns(int(pcfg.MaxConns))
		sqlDB.SetMaxIdleConns(int(pcfg.MaxConns))
		gdb, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), gcfg)
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		rcfg := pcfg.Copy()
		rcfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
		rcfg.MaxConns = max(4, pcfg.MaxConns/2)
		rpool, err := pgxpool.NewWithConfig(ctx, rcfg)
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("connect to postgres: %w", err)
		}
		rsql := stdlib.OpenDBFromPool(rpool)
		rsql.SetMaxOpenConns(int(rcfg.MaxConns))
		rsql.SetMaxIdleConns(int(rcfg.MaxConns))
		rdb, err := gorm.Open(postgres.New(postgres.Config{Conn: rsql}), gcfg)
		if err != nil {
			pool.Close()
			rpool.Close()
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		return &DB{DB: gdb, Dialect: Postgres, SQL: sqlDB, Pool: pool, relaxed: rdb, relaxedPool: rpool}, nil
	}

	path := cfg.SQLitePath
	if path == "" {
		if cfg.DataDir == "" {
			return nil, errors.New("no database URL and no data directory")
		}
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		path = SQLiteFile(cfg.DataDir)
	}
	if err := keepPrivate(path); err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	gdb, err := gorm.Open(sqlite.Open("file:"+path+"?"+q.Encode()), gcfg)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	sqlDB, err := gdb.DB()
	if err != nil {
		return nil, err
	}
	// A few connections: readers proceed under WAL while one writer holds
	// the immediate transaction lock.
	sqlDB.SetMaxOpenConns(4)
	sqlDB.SetMaxIdleConns(4)
	sqlDB.SetConnMaxIdleTime(0)
	if err := sqlDB.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return &DB{DB: gdb, Dialect: SQLite, SQL: sqlDB, relaxed: gdb, path: path}, nil
}

// SQLiteFile is the SQLite database's file in a data directory.
func SQLiteFile(dataDir string) string {
	return filepath.Join(dataDir, "roundtable.db")
}

// keepPrivate makes the SQLite file readable by its owner only (0600, like
// the secret): it holds the tool's encrypted keys, sessions and every
// post. The file is created with that mode before the driver opens it,
// and an existing file and its -wal, -shm and -journal companions are
// tightened on every start; SQLite gives the companions it creates later
// the main file's mode.
func keepPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open sqlite %s: %w", path, err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		st, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("sqlite file %s: %w", p, err)
		}
		if st.Mode().Perm() == 0o600 {
			continue
		}
		if err := os.Chmod(p, 0o600); err != nil {
			return fmt.Errorf("sqlite file %s is readable by others (mode %#o) and cannot be made private: %w", p, st.Mode().Perm(), err)
		}
	}
	return nil
}

// Close releases the connections.
func (db *DB) Close() error {
	err := db.SQL.Close()
	if db.Pool != nil {
		db.Pool.Close()
	}
	if db.relaxedPool != nil {
		if rsql, rerr := db.relaxed.DB(); rerr == nil {
			rsql.Close()
		}
		db.relaxedPool.Close()
	}
	return err
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	return db.SQL.PingContext(ctx)
}

// QueueDriver is the River driver over this database, for the durable job
// queue. On Postgres it listens for new jobs so they start right after the
// commit that wrote them; on SQLite River polls.
func (db *DB) QueueDriver() riverdriver.Driver[*sql.Tx] {
	if db.Dialect == Postgres {
		return riverdatabasesql.NewWithPgxListener(db.SQL, db.Pool)
	}
	return riversqlite.New(db.SQL)
}

// Tx runs fn in one transaction, retrying a few times when SQLite reports
// the database busy.
func (db *DB) Tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return db.tx(ctx, db.DB, fn)
}

func (db *DB) tx(ctx context.Context, on *gorm.DB, fn func(tx *gorm.DB) error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = on.WithContext(ctx).Transaction(fn)
		if err == nil || !IsBusy(err) {
			return Translate(err)
		}
		time.Sleep(time.Duration(attempt+1) * 10 * time.Millisecond)
	}
	return Translate(err)
}

// NewID returns a new row id: time-ordered (UUIDv7), so inserts stay local
// in indexes, and unguessable enough for URLs.
func NewID() string {
	return uuid.Must(uuid.NewV7()).String()
}

// TxRelaxed runs fn in one transaction whose commit does not wait for the
// write-ahead log to reach disk on Postgres (synchronous_commit off). A
// crash can lose the last fraction of a second of such commits, never
// corrupt them: use it only for what a person simply redoes, such as a
// login state or a launch's session, never for posts or grades.
func (db *DB) TxRelaxed(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return db.tx(ctx, db.relaxed, fn)
}

// Relaxed is the handle for single statements with TxRelaxed's durability.
func (db *DB) Relaxed() *gorm.DB { return db.relaxed }

// Rebind turns ? placeholders into the dialect's own ($1, $2... on
// Postgres). A ? inside a string literal ('...', E'...', $tag$...$tag$), a
// quoted identifier ("...") or a comment (-- and /* */) is text, not a
// placeholder, and stays as written.
func (db *DB) Rebind(q string) string {
	if db.Dialect != Postgres || !strings.Contains(q, "?") {
		return q
	}
	if r, ok := db.rebound.Load(q); ok {
		return r.(string)
	}
	r := rebind(q)
	if db.nRebound.Load() < maxRebound {
		if _, loaded := db.rebound.LoadOrStore(q, r); !loaded {
			db.nRebound.Add(1)
		}
	}
	return r
}

func rebind(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); {
		end := skipText(q, i)
		if end > i {
			b.WriteString(q[i:end])
			i = end
			continue
		}
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		} else {
			b.WriteByte(q[i])
		}
		i++
	}
	return b.String()
}

// skipText returns the end of the literal, quoted identifier or comment
// that starts at q[i], or i when none starts there. An unterminated one
// runs to the end of q.
func skipText(q string, i int) int {
	switch c := q[i]; {
	case c == '\'':
		// E'...' takes backslash escapes; the E is already written.
		escapes := i > 0 && (q[i-1] == 'E' || q[i-1] == 'e') && (i == 1 || !isIdentChar(q[i-2]))
		return skipQuoted(q, i, '\'', escapes)
	case c == '"':
		return skipQuoted(q, i, '"', false)
	case c == '-' && strings.HasPrefix(q[i:], "--"):
		if nl := strings.IndexByte(q[i:], '\n'); nl >= 0 {
			return i + nl + 1
		}
		return len(q)
	case c == '/' && strings.HasPrefix(q[i:], "/*"):
		// Postgres block comments nest.
		depth := 0
		for j := i; j < len(q); j++ {
			switch {
			case strings.HasPrefix(q[j:], "/*"):
				depth++
				j++
			case strings.HasPrefix(q[j:], "*/"):
				depth--
				j++
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(q)
	case c == '$' && (i == 0 || !isIdentChar(q[i-1])):
		// $tag$...$tag$ (tag empty or an identifier); $1 is a placeholder.
		j := i + 1
		for j < len(q) && isIdentChar(q[j]) && !(j == i+1 && q[j] >= '0' && q[j] <= '9') {
			j++
		}
		if j >= len(q) || q[j] != '$' {
			return i
		}
		tag := q[i : j+1]
		if k := strings.Index(q[j+1:], tag); k >= 0 {
			return j + 1 + k + len(tag)
		}
		return len(q)
	}
	return i
}

// skipQuoted returns the end of the quoted text starting at q[i]: a
// doubled quote is one quote inside it, and with escapes a backslash
// escapes the next character.
func skipQuoted(q string, i int, quote byte, escapes bool) int {
	for j := i + 1; j < len(q); j++ {
		switch {
		case escapes && q[j] == '\\':
			j++
		case q[j] == quote:
			if j+1 < len(q) && q[j+1] == quote {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(q)
}

func isIdentChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// Stmt is one statement, with ? placeholders, and its arguments, for one
// package to hand to another that runs it within its own statement or
// transaction.
type Stmt struct {
	SQL  string
	Args []any
}

// QueryRow runs a query expected to return at most one row.
func (db *DB) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return db.SQL.QueryRowContext(ctx, db.Rebind(q), args...)
}

// RelaxedSQL is the database/sql handle with TxRelaxed's durability.
func (db *DB) RelaxedSQL() *sql.DB {
	rsql, _ := db.relaxed.DB() // a gorm DB opened on a *sql.DB always has one
	return rsql
}

// ExecRelaxed runs one statement with TxRelaxed's durability.
func (db *DB) ExecRelaxed(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return db.RelaxedSQL().ExecContext(ctx, db.Rebind(q), args...)
}
