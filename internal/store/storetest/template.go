package storetest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/roundtable-lms/roundtable/internal/store"
)

// Migrating a database is most of a storage test's setup (a few hundred
// milliseconds on SQLite, seconds on a busy Postgres), so a test process
// migrates once and hands out copies: an SQLite file copied from one
// migrated at the first use, and on Postgres, in packages whose TestMain
// calls ReusePostgresSchemas, migrated schemas emptied after each test and
// handed to the next.

var sqliteTemplate struct {
	once sync.Once
	data []byte
	err  error
}

// WriteMigratedSQLite writes a migrated, empty SQLite database at path: a
// copy of one migrated at the test process's first use.
func WriteMigratedSQLite(t testing.TB, path string) {
	t.Helper()
	sqliteTemplate.once.Do(func() {
		sqliteTemplate.data, sqliteTemplate.err = migrateSQLiteTemplate()
	})
	if sqliteTemplate.err != nil {
		t.Fatalf("migrate the SQLite template: %v", sqliteTemplate.err)
	}
	if err := os.WriteFile(path, sqliteTemplate.data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func migrateSQLiteTemplate() ([]byte, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "roundtable-sqlite-template-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "roundtable.db")
	db, err := store.Open(ctx, store.Config{SQLitePath: path})
	if err != nil {
		return nil, err
	}
	db.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	// Everything into the main file, so that one file is the database.
	if _, err := db.SQL.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.Close(); err != nil {
		return nil, err
	}
	return os.ReadFile(path)
}

// pgSchemas is the process's pool of migrated Postgres schemas.
var pgSchemas struct {
	mu    sync.Mutex
	reuse bool
	free  []string
	all   []string
	// tables and their row counts right after migration (the migration
	// bookkeeping has rows; every other table is empty).
	migrated map[string]int64
}

// ReusePostgresSchemas makes MigratedPostgresURL hand out schemas that
// earlier tests of this process used and left empty. A package's TestMain
// calls it, and DropPostgresSchemas after its tests.
func ReusePostgresSchemas() {
	pgSchemas.mu.Lock()
	defer pgSchemas.mu.Unlock()
	pgSchemas.reuse = true
}

func reusingSchemas() bool {
	pgSchemas.mu.Lock()
	defer pgSchemas.mu.Unlock()
	return pgSchemas.reuse
}

// DropPostgresSchemas drops the schemas kept for reuse.
func DropPostgresSchemas() {
	pgSchemas.mu.Lock()
	defer pgSchemas.mu.Unlock()
	pgSchemas.reuse = false
	pgSchemas.free = nil
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" || len(pgSchemas.all) == 0 {
		return
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	for _, s := range pgSchemas.all {
		conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{s}.Sanitize()+" CASCADE")
	}
	pgSchemas.all = nil
}

// MigratedPostgresURL returns the URL of a migrated, empty Postgres schema
// that is the test's alone until it ends: a schema another test of this
// process used and emptied when the package reuses them (see
// ReusePostgresSchemas), else a fresh one migrated here.
func MigratedPostgresURL(t testing.TB) string {
	t.Helper()
	pgSchemas.mu.Lock()
	reuse := pgSchemas.reuse
	var schema string
	if n := len(pgSchemas.free); reuse && n > 0 {
		schema, pgSchemas.free = pgSchemas.free[n-1], pgSchemas.free[:n-1]
	}
	pgSchemas.mu.Unlock()
	if !reuse {
		u := PostgresURL(t)
		migrate(t, u)
		return u
	}
	base := os.Getenv("TEST_DATABASE_URL")
	if schema == "" {
		if base == "" {
			PostgresURL(t) // skips, or fails under CI
		}
		var err error
		if schema, err = createSchema(base); err != nil {
			t.Fatal(err)
		}
		migrate(t, schemaURL(t, base, schema))
		if err := noteMigrated(base, schema); err != nil {
			t.Fatal(err)
		}
		pgSchemas.mu.Lock()
		pgSchemas.all = append(pgSchemas.all, schema)
		pgSchemas.mu.Unlock()
	}
	t.Cleanup(func() { recycle(base, schema) })
	return schemaURL(t, base, schema)
}

func migrate(t testing.TB, u string) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{URL: u})
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	defer db.Close()
	db.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate postgres: %v", err)
	}
}

// tableRows lists a schema's tables and their row counts.
func tableRows(ctx context.Context, conn *pgx.Conn, schema string) (map[string]int64, error) {
	rows, err := conn.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = $1`, schema)
	if err != nil {
		return nil, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(names))
	for _, name := range names {
		var n int64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{schema, name}.Sanitize()).Scan(&n); err != nil {
			return nil, err
		}
		out[name] = n
	}
	return out, nil
}

// noteMigrated records, once, what a freshly migrated schema holds.
func noteMigrated(base, schema string) error {
	pgSchemas.mu.Lock()
	done := pgSchemas.migrated != nil
	pgSchemas.mu.Unlock()
	if done {
		return nil
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	rows, err := tableRows(ctx, conn, schema)
	if err != nil {
		return fmt.Errorf("read the migrated schema: %w", err)
	}
	pgSchemas.mu.Lock()
	pgSchemas.migrated = rows
	pgSchemas.mu.Unlock()
	return nil
}

// recycle empties a schema a test has finished with and puts it back in
// the pool, unless the test changed more than rows (a table, the migration
// bookkeeping) or the schema has planner statistics (tests of query plans
// expect a never-analysed database): then it is dropped.
func recycle(base, schema string) {
	ctx := context.Background()
	reusable := func() bool {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return false
		}
		defer conn.Close(ctx)
		// A connection the test left open must not hold the next test up.
		if _, err := conn.Exec(ctx, "SET lock_timeout = '5s'"); err != nil {
			return false
		}
		var analysed bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stats WHERE schemaname = $1)`, schema).Scan(&analysed); err != nil || analysed {
			return false
		}
		rows, err := conn.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = $1`, schema)
		if err != nil {
			return false
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return false
		}
		pgSchemas.mu.Lock()
		migrated := pgSchemas.migrated
		pgSchemas.mu.Unlock()
		if len(names) != len(migrated) {
			return false
		}
		var empty []string
		for _, name := range names {
			n, ok := migrated[name]
			if !ok {
				return false
			}
			if n == 0 {
				empty = append(empty, pgx.Identifier{schema, name}.Sanitize())
				continue
			}
			// The migration bookkeeping must be as migrated.
			var now int64
			if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{schema, name}.Sanitize()).Scan(&now); err != nil || now != n {
				return false
			}
		}
		slices.Sort(empty)
		if len(empty) > 0 {
			if _, err := conn.Exec(ctx, "TRUNCATE "+strings.Join(empty, ", ")+" RESTART IDENTITY CASCADE"); err != nil {
				return false
			}
		}
		return true
	}()
	pgSchemas.mu.Lock()
	if reusable && pgSchemas.reuse {
		pgSchemas.free = append(pgSchemas.free, schema)
		pgSchemas.mu.Unlock()
		return
	}
	if i := slices.Index(pgSchemas.all, schema); i >= 0 {
		pgSchemas.all = slices.Delete(pgSchemas.all, i, i+1)
	}
	pgSchemas.mu.Unlock()
	dropSchema(base, schema)
}
