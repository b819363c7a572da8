package store_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

func TestMigrationsApplyAndErrorsTranslate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		st, err := db.MigrationStatuses(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(st) == 0 {
			t.Fatal("no migrations embedded")
		}
		for _, s := range st {
			if !s.Applied {
				t.Errorf("migration %d (%s) not applied", s.Version, s.Name)
			}
		}
		// Migrating again is a no-op.
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		insert := func() error {
			return db.Tx(ctx, func(tx *gorm.DB) error {
				return tx.Exec(`INSERT INTO platforms (id, name, issuer, client_id, auth_url, jwks_url, created_at, updated_at)
					VALUES ('p1', 'LMS', 'https://lms.example', 'c1', 'https://lms.example/auth', 'https://lms.example/jwks', ?, ?)`, now, now).Error
			})
		}
		if err := insert(); err != nil {
			t.Fatal(err)
		}
		if err := insert(); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate insert: got %v, want ErrConflict", err)
		}
		var name string
		err = db.Tx(ctx, func(tx *gorm.DB) error {
			return tx.Raw(`SELECT name FROM platforms WHERE id = ?`, "missing").Row().Scan(&name)
		})
		if err == nil {
			t.Fatal("want an error for a missing row")
		}
		type platformRow struct{ ID, Name string }
		var row platformRow
		err = db.Tx(ctx, func(tx *gorm.DB) error {
			return tx.Table("platforms").Where("id = ?", "missing").First(&row).Error
		})
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing row: got %v, want ErrNotFound", err)
		}
		if err := db.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRelaxedCommitsOnlyWhereAsked(t *testing.T) {
	// storetest's URLs relax every commit (synchronous_commit=off);
	// a deployment's URL says nothing of it.
	u, err := url.Parse(storetest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Del("synchronous_commit")
	u.RawQuery = q.Encode()
	db, err := store.Open(context.Background(), store.Config{URL: u.String()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var main, relaxed string
	db.Raw("SHOW synchronous_commit").Scan(&main)
	db.Relaxed().Raw("SHOW synchronous_commit").Scan(&relaxed)
	if main != "on" || relaxed != "off" {
		t.Fatalf("synchronous_commit: main %q, relaxed %q", main, relaxed)
	}
}

func TestRebind(t *testing.T) {
	pg := &store.DB{Dialect: store.Postgres}
	for _, c := range []struct{ in, want string }{
		{"SELECT ? WHERE a = ? AND b = ?", "SELECT $1 WHERE a = $2 AND b = $3"},
		{"SELECT 1", "SELECT 1"},
		{"WHERE a = '?' AND b = ?", "WHERE a = '?' AND b = $1"},
		{"WHERE a = 'it''s ?' AND b = ?", "WHERE a = 'it''s ?' AND b = $1"},
		{"WHERE a = '' AND b = ?", "WHERE a = '' AND b = $1"},
		{`SELECT "odd?name", ? FROM t`, `SELECT "odd?name", $1 FROM t`},
		{`SELECT "a""?b", ?`, `SELECT "a""?b", $1`},
		{"SELECT ? -- is it?\nFROM t WHERE a = ?", "SELECT $1 -- is it?\nFROM t WHERE a = $2"},
		{"SELECT ? -- trailing ?", "SELECT $1 -- trailing ?"},
		{"SELECT /* why? */ ?", "SELECT /* why? */ $1"},
		{"SELECT /* outer /* inner? */ still? */ ?", "SELECT /* outer /* inner? */ still? */ $1"},
		{`SELECT E'it\'s ?', ?`, `SELECT E'it\'s ?', $1`},
		{`SELECT 'a\', ?`, `SELECT 'a\', $1`},
		{"SELECT $$ what? $$, ?", "SELECT $$ what? $$, $1"},
		{"SELECT $body$ a ? $ b $body$, ?", "SELECT $body$ a ? $ b $body$, $1"},
		{"SELECT a/b, a-b, ?", "SELECT a/b, a-b, $1"},
		{"SELECT 'unterminated ?", "SELECT 'unterminated ?"},
		{"SELECT ? /* unterminated ?", "SELECT $1 /* unterminated ?"},
	} {
		if got := pg.Rebind(c.in); got != c.want {
			t.Errorf("Rebind(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
	lite := &store.DB{Dialect: store.SQLite}
	if got := lite.Rebind("SELECT ? WHERE a = '?'"); got != "SELECT ? WHERE a = '?'" {
		t.Errorf("sqlite: %q", got)
	}
}

// FuzzRebind builds statements from plain text around a string literal, a
// quoted identifier and both kinds of comment: Rebind numbers exactly the
// ? of the plain text and leaves the rest as written.
func FuzzRebind(f *testing.F) {
	f.Add("a = ? AND b = ?", "it's ?", `odd"?name`, "why?")
	f.Add("?", "", "", "")
	f.Add("x", "''?''", `""`, "*/ ? /*")
	f.Fuzz(func(t *testing.T, plain, literal, ident, comment string) {
		plain = strings.Map(func(r rune) rune {
			if strings.ContainsRune(`'"-/*$`, r) {
				return ' '
			}
			return r
		}, plain)
		pieces := []string{
			"'" + strings.ReplaceAll(literal, "'", "''") + "'",
			`"` + strings.ReplaceAll(ident, `"`, `""`) + `"`,
			"-- " + strings.ReplaceAll(comment, "\n", " ") + "\n",
			"/* " + strings.NewReplacer("*", " ", "/", " ").Replace(comment) + " */",
		}
		var in, want strings.Builder
		n := 0
		rebound := func(s string) string {
			var b strings.Builder
			for _, r := range s {
				if r == '?' {
					n++
					fmt.Fprintf(&b, "$%d", n)
					continue
				}
				b.WriteRune(r)
			}
			return b.String()
		}
		for _, p := range pieces {
			in.WriteString(plain + " " + p + " ")
			want.WriteString(rebound(plain) + " " + p + " ")
		}
		in.WriteString("?")
		want.WriteString(rebound("?"))
		pg := &store.DB{Dialect: store.Postgres}
		if got := pg.Rebind(in.String()); got != want.String() {
			t.Fatalf("Rebind(%q)\n got %q\nwant %q", in.String(), got, want.String())
		}
		// Any text at all is rebound without a panic.
		pg.Rebind(literal + ident + comment)
	})
}

// The SQLite file and its -wal and -shm companions are readable by their
// owner only, whether Roundtable creates them or finds them looser.
func TestSQLiteFilesArePrivate(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "roundtable.db")
	files := []string{path, path + "-wal", path + "-shm"}
	mustBePrivate := func(when string) {
		t.Helper()
		for _, f := range files {
			st, err := os.Stat(f)
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("%s: %s has mode %#o, want 0600", when, filepath.Base(f), st.Mode().Perm())
			}
		}
	}
	db, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Migrating writes, so the write-ahead log and its index exist.
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	mustBePrivate("created")

	// Files left readable by an earlier version are tightened by the next
	// start (here a second process opening the same database).
	for _, f := range files {
		if err := os.Chmod(f, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	again, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	mustBePrivate("reopened")
}
