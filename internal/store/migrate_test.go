package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
	"github.com/roundtable-lms/roundtable/internal/tenant"
)

// openAt opens a fresh database of kind migrated up to version only.
func openAt(t *testing.T, kind store.Dialect, version int64) (*store.DB, store.Config) {
	t.Helper()
	ctx := context.Background()
	cfg := storetest.Config(t, kind)
	db, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.MigrateTo(ctx, version); err != nil {
		t.Fatal(err)
	}
	return db, cfg
}

func exec(t *testing.T, db *store.DB, q string, args ...any) {
	t.Helper()
	if err := db.Exec(q, args...).Error; err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// knownVersion is the newest migration this build holds.
func knownVersion(t *testing.T, db *store.DB) int64 {
	t.Helper()
	st, err := db.MigrationStatuses(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st[len(st)-1].Version
}

func recorded(t *testing.T, db *store.DB) []int64 {
	t.Helper()
	var vs []int64
	if err := db.Raw(`SELECT version_id FROM goose_db_version WHERE version_id > 0 ORDER BY version_id`).Scan(&vs).Error; err != nil {
		t.Fatal(err)
	}
	return vs
}

// An older Roundtable's database, with a course's discussion in it,
// upgrades in place: after the migrations every row is still there, the
// product reads it and search finds the old post.
func TestOlderDatabaseUpgradesInPlace(t *testing.T) {
	// Each upgrade has a database of its own; they run at the same time.
	// 4 is the first schema with a discussion; 14 the last before the
	// per-registration keys; 22 the last release before this one.
	for _, from := range []int64{4, 14, 22} {
		for _, kind := range storetest.Kinds {
			t.Run(fmt.Sprintf("%s/from-%d", kind, from), func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				db, _ := openAt(t, kind, from)
				now := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
				exec(t, db, `INSERT INTO platforms (id, name, issuer, client_id, auth_url, jwks_url, created_at, updated_at)
					VALUES ('p1', 'Moodle of Example U', 'https://moodle.example.edu', 'client-1', 'https://moodle.example.edu/auth', 'https://moodle.example.edu/jwks', ?, ?)`, now, now)
				exec(t, db, `INSERT INTO deployments (platform_id, deployment_id, created_at) VALUES ('p1', 'd1', ?)`, now)
				exec(t, db, `INSERT INTO users (platform_id, id, subject, name, email, pseudonym, created_at, updated_at)
					VALUES ('p1', 'u1', 'sub-alice', 'Alice Mbeki', 'alice@example.edu', 'Quiet Heron', ?, ?)`, now, now)
				exec(t, db, `INSERT INTO courses (platform_id, id, deployment_id, context_key, label, title, created_at, updated_at)
					VALUES ('p1', 'c1', 'd1', 'ctx-101', 'SAFE-101', 'Workplace Safety', ?, ?)`, now, now)
				exec(t, db, `INSERT INTO memberships (platform_id, course_id, user_id, roles, created_at, updated_at)
					VALUES ('p1', 'c1', 'u1', 'learner', ?, ?)`, now, now)
				exec(t, db, `INSERT INTO resource_links (platform_id, id, course_id, deployment_id, resource_link_id, title, created_at, updated_at)
					VALUES ('p1', 'l1', 'c1', 'd1', 'rl-1', 'Week 1 discussion', ?, ?)`, now, now)
				exec(t, db, `INSERT INTO cohorts (platform_id, id, course_id, cohort_key, name, member_count, created_at)
					VALUES ('p1', 'h1', 'c1', '', 'Everyone', 1, ?)`, now)
				exec(t, db, `INSERT INTO cohort_members (platform_id, cohort_id, user_id, created_at) VALUES ('p1', 'h1', 'u1', ?)`, now)
				exec(t, db, `INSERT INTO threads (platform_id, id, course_id, link_id, cohort_id, kind, title, author_id, opening_post_id, last_post_id, last_activity_at, created_at)
					VALUES ('p1', 't1', 'c1', 'l1', 'h1', 'discussion', 'Ladders left in corridors', 'u1', 'post1', 'post1', ?, ?)`, now, now)
				exec(t, db, `INSERT INTO posts (platform_id, id, cohort_id, link_id, thread_id, opening, author_id, body, created_at)
					VALUES ('p1', 'post1', 'h1', 'l1', 't1', TRUE, 'u1', 'Someone left a stepladder by the fire door.', ?)`, now)

				if err := db.Migrate(ctx); err != nil {
					t.Fatalf("upgrade from version %d: %v", from, err)
				}
				if got := recorded(t, db); got[len(got)-1] != knownVersion(t, db) {
					t.Fatalf("after the upgrade the database records %v", got)
				}

				// The product reads the registration it kept.
				p, err := tenant.NewRegistry(db).Get(ctx, "p1")
				if err != nil {
					t.Fatal(err)
				}
				if p.Name != "Moodle of Example U" || p.Issuer != "https://moodle.example.edu" || len(p.Deployments) != 1 || p.Deployments[0] != "d1" {
					t.Errorf("registration after the upgrade: %+v", p)
				}
				var kept struct {
					UserName, CourseTitle, Title, Body string
				}
				err = db.Raw(`SELECT u.name AS user_name, c.title AS course_title, t.title, p.body
					FROM posts p JOIN threads t ON t.org_id = p.org_id AND t.id = p.thread_id
					JOIN users u ON u.org_id = p.org_id AND u.id = p.author_id
					JOIN courses c ON c.org_id = t.org_id AND c.id = t.course_id
					WHERE p.org_id = 'p1' AND p.id = 'post1'`).Scan(&kept).Error
				if err != nil {
					t.Fatal(err)
				}
				if kept.UserName != "Alice Mbeki" || kept.CourseTitle != "Workplace Safety" || kept.Title != "Ladders left in corridors" ||
					kept.Body != "Someone left a stepladder by the fire door." {
					t.Errorf("the discussion after the upgrade: %+v", kept)
				}
				// The registration became an organisation of its own, with its
				// id, holding the person known by the registration's issuer.
				var org struct{ OrgID, OrgName, Issuer string }
				err = db.Raw(`SELECT o.id AS org_id, o.name AS org_name, u.issuer FROM platforms p
					JOIN organisations o ON o.id = p.org_id
					JOIN users u ON u.org_id = o.id AND u.id = 'u1'
					WHERE p.id = 'p1'`).Scan(&org).Error
				if err != nil || org.OrgID != "p1" || org.OrgName != "Moodle of Example U" || org.Issuer != "https://moodle.example.edu" {
					t.Errorf("the organisation after the upgrade: %+v, %v", org, err)
				}
				// Search indexes what was written before it existed.
				var found int64
				q := `SELECT count(*) FROM post_fts WHERE post_fts MATCH 'stepladder'`
				if kind == store.Postgres {
					q = `SELECT count(*) FROM posts WHERE search @@ to_tsquery('english', 'stepladder')`
				}
				if err := db.Raw(q).Scan(&found).Error; err != nil || found != 1 {
					t.Errorf("search for the old post after the upgrade: %d found, %v", found, err)
				}
			})
		}
	}
}

// A database this build cannot handle stops the start with a message that
// says what happened and what to do, and is left as it was.
func TestUnusableDatabaseIsRefusedUnchanged(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(string(kind)+"/newer", func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := storetest.Open(t, kind)
			known := knownVersion(t, db)
			exec(t, db, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, TRUE)`, known+2)
			before := recorded(t, db)
			err := db.Migrate(ctx)
			var se *store.SchemaError
			if !errors.As(err, &se) || se.Problem != store.SchemaNewer {
				t.Fatalf("got %v, want a newer-schema error", err)
			}
			wantIn(t, err, "written by a newer Roundtable", fmt.Sprintf("schema version %d", known+2), fmt.Sprintf("knows up to %d", known),
				"run that release or a newer one, or point Roundtable at another database", "nothing was changed")
			if got := recorded(t, db); fmt.Sprint(got) != fmt.Sprint(before) {
				t.Errorf("versions changed from %v to %v", before, got)
			}
		})
		t.Run(string(kind)+"/gap", func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := storetest.Open(t, kind)
			// A build without migration 15 (another branch) wrote this one.
			exec(t, db, `DELETE FROM goose_db_version WHERE version_id = 15`)
			err := db.Migrate(ctx)
			var se *store.SchemaError
			if !errors.As(err, &se) || se.Problem != store.SchemaGap || fmt.Sprint(se.Versions) != "[15]" {
				t.Fatalf("got %v, want a gap at 15", err)
			}
			wantIn(t, err, "lacks migration 15", "never run out of order", "Restore the database from a backup", "nothing was changed")
			if got := recorded(t, db); len(got) != int(knownVersion(t, db))-1 {
				t.Errorf("versions after the refusal: %v", got)
			}
		})
		t.Run(string(kind)+"/half-applied", func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, _ := openAt(t, kind, 21)
			now := time.Now().UTC()
			exec(t, db, `INSERT INTO platforms (id, name, issuer, client_id, auth_url, jwks_url, created_at, updated_at)
				VALUES ('p1', 'LMS', 'https://lms.example', 'c1', 'https://lms.example/auth', 'https://lms.example/jwks', ?, ?)`, now, now)
			// Migration 22's column, added by hand without its version.
			exec(t, db, `ALTER TABLE memberships ADD COLUMN sections TEXT NOT NULL DEFAULT ''`)
			err := db.Migrate(ctx)
			var se *store.SchemaError
			if !errors.As(err, &se) || se.Problem != store.SchemaFailed || se.Database != 21 {
				t.Fatalf("got %v, want migration 22 failed at 21", err)
			}
			wantIn(t, err, "migration 22 (00022_member_sections.sql) failed and was rolled back", "stays at schema version 21", "sections",
				"restore it from a backup or point Roundtable at another database")
			if got := recorded(t, db); got[len(got)-1] != 21 {
				t.Errorf("versions after the failure: %v", got)
			}
			var n int64
			if err := db.Raw(`SELECT count(*) FROM platforms`).Scan(&n).Error; err != nil || n != 1 {
				t.Errorf("the data after the failure: %d platforms, %v", n, err)
			}
		})
	}
}

func wantIn(t *testing.T, err error, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("the message lacks %q:\n%v", p, err)
		}
	}
}

// Replicas starting together on one fresh database migrate one after the
// other: every start succeeds and each migration is recorded once.
func TestConcurrentStartsMigrateOnce(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			cfg := storetest.Config(t, kind)
			var dbs []*store.DB
			for range 3 {
				db, err := store.Open(ctx, cfg)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				dbs = append(dbs, db)
			}
			var wg sync.WaitGroup
			errs := make([]error, len(dbs))
			for i, db := range dbs {
				wg.Go(func() { errs[i] = db.Migrate(ctx) })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("start %d: %v", i, err)
				}
			}
			got := recorded(t, dbs[0])
			if int64(len(got)) != knownVersion(t, dbs[0]) {
				t.Errorf("recorded versions %v", got)
			}
		})
	}
}
