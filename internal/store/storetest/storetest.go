// Package storetest gives each test a fresh, migrated database: an SQLite
// file in a temporary directory, and a Postgres schema of its own when
// TEST_DATABASE_URL is set.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/roundtable-lms/roundtable/internal/store"
)

// Kinds lists the database kinds a storage test runs on.
var Kinds = []store.Dialect{store.SQLite, store.Postgres}

// Each runs fn as a subtest on every database kind: SQLite always, Postgres
// when TEST_DATABASE_URL is set. Under CI a missing Postgres is a failure.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, kind := range Kinds {
		t.Run(string(kind), func(t *testing.T) {
			fn(t, Open(t, kind))
		})
	}
}

// Open returns a fresh migrated database of the given kind, closed and
// dropped when the test ends.
func Open(t testing.TB, kind store.Dialect) *store.DB {
	t.Helper()
	db, _ := OpenConfig(t, kind)
	return db
}

// OpenConfig is Open that also returns the database's configuration, for
// a test that reaches the same database another way too (a second handle,
// a server process).
func OpenConfig(t testing.TB, kind store.Dialect) (*store.DB, store.Config) {
	t.Helper()
	var cfg store.Config
	switch {
	case kind == store.Postgres && reusingSchemas():
		cfg = store.Config{URL: MigratedPostgresURL(t)}
	default:
		cfg = Config(t, kind)
		if kind == store.SQLite {
			WriteMigratedSQLite(t, cfg.SQLitePath)
		}
	}
	ctx := context.Background()
	db, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open %s: %v", kind, err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", kind, err)
	}
	return db, cfg
}

// Config returns the store configuration of a fresh, empty database of the
// given kind, for tests that open the store themselves (a server process).
func Config(t testing.TB, kind store.Dialect) store.Config {
	t.Helper()
	if kind == store.SQLite {
		return store.Config{SQLitePath: filepath.Join(t.TempDir(), "roundtable.db")}
	}
	return store.Config{URL: PostgresURL(t)}
}

// PostgresURL creates a fresh schema on the test Postgres and returns a URL
// whose search_path points at it; the schema is dropped at cleanup.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TEST_DATABASE_URL is not set under CI: the Postgres half of the storage tests cannot run")
		}
		t.Skip("TEST_DATABASE_URL not set: skipping the Postgres half")
	}
	schema, err := createSchema(base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dropSchema(base, schema) })
	return schemaURL(t, base, schema)
}

// createSchema creates an empty schema of a random name on the test Postgres.
func createSchema(base string) (string, error) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", fmt.Errorf("connect to TEST_DATABASE_URL: %w", err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", fmt.Errorf("create schema: %w", err)
	}
	return schema, nil
}

func dropSchema(base, schema string) {
	c, err := pgx.Connect(context.Background(), base)
	if err != nil {
		return
	}
	defer c.Close(context.Background())
	c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
}

// schemaURL is base with its search_path on schema, and commits that do
// not wait for the disk.
func schemaURL(t testing.TB, base, schema string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	// A test's commits need not wait for Postgres to write them to disk:
	// they are seen exactly as before, and are lost only if Postgres
	// itself crashes, which no test does. Most of a Postgres half's wait
	// was those flushes (a migration commits each of its steps).
	q.Set("synchronous_commit", "off")
	u.RawQuery = q.Encode()
	return u.String()
}

// AddPlatform writes registration id, of issuer, in an organisation of the
// same id (as migration 00027 made of every earlier registration): the
// fixture of tests that write the course model by hand.
func AddPlatform(t testing.TB, db *store.DB, id, issuer string) {
	t.Helper()
	now := time.Now().UTC()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO organisations (id, name, created_at) VALUES (?, 'LMS', ?) ON CONFLICT DO NOTHING`, []any{id, now}},
		{`INSERT INTO platforms (id, org_id, name, issuer, client_id, auth_url, jwks_url, created_at, updated_at)
			VALUES (?, ?, 'LMS', ?, 'c1', ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			[]any{id, id, issuer, issuer + "/auth", issuer + "/jwks", now, now}},
	} {
		if err := db.Exec(q.sql, q.args...).Error; err != nil {
			t.Fatal(err)
		}
	}
}
