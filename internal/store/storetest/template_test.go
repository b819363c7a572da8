package storetest

import (
	"context"
	"net/url"
	"testing"

	"github.com/roundtable-lms/roundtable/internal/store"
)

// A reused schema comes back migrated and empty; one a test changed more
// than rows in is dropped, not handed out again.
func TestReusedPostgresSchemasComeBackEmpty(t *testing.T) {
	if reusingSchemas() {
		t.Fatal("schemas are reused before a TestMain asked")
	}
	ReusePostgresSchemas()
	t.Cleanup(DropPostgresSchemas)
	ctx := context.Background()
	schemaOf := func(db *store.DB) string {
		var s string
		if err := db.Raw(`SELECT current_schema()`).Scan(&s).Error; err != nil {
			t.Fatal(err)
		}
		return s
	}
	var first string
	t.Run("writes", func(t *testing.T) {
		db := Open(t, store.Postgres)
		first = schemaOf(db)
		if err := db.Exec(`INSERT INTO river_leader (elected_at, expires_at, leader_id) VALUES (now(), now(), 'a')`).Error; err != nil {
			t.Fatal(err)
		}
	})
	t.Run("gets it back empty", func(t *testing.T) {
		db := Open(t, store.Postgres)
		if s := schemaOf(db); s != first {
			t.Fatalf("schema %s, want %s again", s, first)
		}
		var n int64
		if err := db.Raw(`SELECT count(*) FROM river_leader`).Scan(&n).Error; err != nil || n != 0 {
			t.Fatalf("%d rows left (%v)", n, err)
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if err := db.Exec(`CREATE TABLE scratch (n int)`).Error; err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a changed schema is not reused", func(t *testing.T) {
		u, _ := url.Parse(MigratedPostgresURL(t))
		if s := u.Query().Get("search_path"); s == first {
			t.Fatalf("schema %s with a table of a test's own was handed out again", s)
		}
	})
}
