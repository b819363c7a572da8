package web_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/roundtable-lms/roundtable/internal/apptest"
	"github.com/roundtable-lms/roundtable/internal/config"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/ltiplatform"
)

// courseMembers is how big the course grows before the measured launches:
// a large course at the start of a term.
const courseMembers = 10000

// growCourse adds n learners to the seeded course and its course-wide
// cohort in three statements, as a roster sync of a big course would leave
// them, without ever analysing the tables: the launch's plans must not
// depend on fresh statistics. The learners last launched a day ago.
func growCourse(t *testing.T, env *apptest.Env, n int) {
	t.Helper()
	ctx := context.Background()
	var course struct{ ID, CohortID string }
	if err := env.DB.WithContext(ctx).Raw(`SELECT c.id, co.id AS cohort_id FROM courses c
		JOIN cohorts co ON co.org_id = c.org_id AND co.course_id = c.id AND co.cohort_key = 'course'
		WHERE c.org_id = ? AND c.context_key = ?`, env.Registered.ID, apptest.CourseID).Scan(&course).Error; err != nil || course.ID == "" {
		t.Fatalf("read the seeded course: %v (%+v)", err, course)
	}
	if env.DB.Dialect == store.Postgres {
		// Keep the tables as a busy term start finds them: never analysed.
		for _, table := range []string{"users", "memberships", "cohort_members", "cohorts", "courses", "sessions", "used_login_states"} {
			if err := env.DB.Exec(`ALTER TABLE ` + table + ` SET (autovacuum_enabled = false)`).Error; err != nil {
				t.Fatal(err)
			}
		}
	}
	series := `WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ?) `
	day := time.Now().UTC().Add(-24 * time.Hour)
	steps := []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO users (org_id, id, issuer, subject, name, pseudonym, created_at, updated_at) ` + series +
			`SELECT ?, 'grown-' || CAST(n AS TEXT), ?, 'grown-subject-' || CAST(n AS TEXT), 'Learner ' || CAST(n AS TEXT), 'Learner ' || CAST(n AS TEXT), ?, ? FROM g`,
			[]any{n, env.Registered.ID, env.Registered.Issuer, day, day}},
		{`INSERT INTO memberships (org_id, course_id, user_id, roles, lti_roles, status, last_launch_at, created_at, updated_at) ` + series +
			`SELECT ?, ?, 'grown-' || CAST(n AS TEXT), 'learner', ?, 'active', ?, ?, ? FROM g`,
			[]any{n, env.Registered.ID, course.ID, lti.RoleLearner, day, day, day}},
		{`INSERT INTO cohort_members (org_id, cohort_id, user_id, created_at) ` + series +
			`SELECT ?, ?, 'grown-' || CAST(n AS TEXT), ? FROM g`,
			[]any{n, env.Registered.ID, course.CohortID, day}},
		{`UPDATE cohorts SET member_count = member_count + ? WHERE org_id = ? AND id = ?`,
			[]any{n, env.Registered.ID, course.CohortID}},
	}
	for _, s := range steps {
		if err := env.DB.WithContext(ctx).Exec(s.sql, s.args...).Error; err != nil {
			t.Fatalf("grow the course: %v", err)
		}
	}
}

// tableReads is what Postgres counted for one table: sequential scans,
// the rows they read, and the rows fetched through indexes.
type tableReads struct {
	SeqScans, SeqRows, IdxRows int64
}

// launchReads reads the row counters of the tool's tables in schema.
func launchReads(t *testing.T, conn *pgx.Conn, schema string) map[string]tableReads {
	t.Helper()
	ctx := context.Background()
	rows, err := conn.Query(ctx, `SELECT relname, COALESCE(seq_scan, 0), COALESCE(seq_tup_read, 0), COALESCE(idx_tup_fetch, 0)
		FROM pg_stat_user_tables WHERE schemaname = $1`, schema)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]tableReads{}
	for rows.Next() {
		var name string
		var r tableReads
		if err := rows.Scan(&name, &r.SeqScans, &r.SeqRows, &r.IdxRows); err != nil {
			t.Fatal(err)
		}
		out[name] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLaunchCostFlatInCourseSize launches a new learner and a returning
// one into a course of 10,000 members on a never-analysed Postgres
// database, end to end, and counts the rows Postgres read for each launch:
// a launch reads a handful of rows bounded by the person, never the course.
//
// Postgres counts a backend's reads when the backend goes idle, at most
// once a second, or when it exits. The tool here opens a fresh connection
// for each statement and closes it after, so every launch's reads are
// counted once its connections have gone.
func TestLaunchCostFlatInCourseSize(t *testing.T) {
	t.Parallel()
	appName := "launchcost" + randomHex(4)
	var dbURL string
	env := apptest.StartWith(t, store.Postgres, func(cfg *config.Config) {
		u, err := url.Parse(cfg.DatabaseURL)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("application_name", appName)
		q.Set("pool_max_conn_lifetime", "1ms")
		u.RawQuery = q.Encode()
		cfg.DatabaseURL, dbURL = u.String(), u.String()
	})
	for _, sqlDB := range []interface{ SetMaxIdleConns(int) }{env.DB.SQL, env.DB.RelaxedSQL()} {
		sqlDB.SetMaxIdleConns(0)
	}
	ctx := context.Background()
	su, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	sq := su.Query()
	schema := sq.Get("search_path")
	sq.Del("pool_max_conn_lifetime")
	sq.Set("application_name", "launchcost-stats")
	su.RawQuery = sq.Encode()
	conn, err := pgx.Connect(ctx, su.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })

	now := func() time.Time {
		var ts time.Time
		if err := conn.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&ts); err != nil {
			t.Fatal(err)
		}
		return ts
	}
	prev := now()

	// The course exists (a first learner made it), then grows.
	if _, res := env.Launch(t, apptest.Learner, nil); res.StatusCode != 200 {
		t.Fatalf("first launch: %d %s", res.StatusCode, res.URL)
	}
	growCourse(t, env, courseMembers)

	settle := func(since time.Time) {
		t.Helper()
		// Every connection the launch used is closed when it ends; wait
		// until their backends have exited, having counted their reads.
		// (The job queue's long-lived connections read none of the
		// launch's tables.)
		deadline := time.Now().Add(30 * time.Second)
		for {
			var n int
			if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND backend_start >= $2`, appName, since).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				return
			}
			if time.Now().After(deadline) {
				rows, _ := conn.Query(ctx, `SELECT pid, state, backend_start, left(query, 80) FROM pg_stat_activity WHERE application_name = $1 AND backend_start >= $2`, appName, since)
				for rows.Next() {
					var pid int
					var st, q string
					var bs time.Time
					rows.Scan(&pid, &st, &bs, &q)
					t.Logf("%d %s %s %s", pid, st, bs, q)
				}
				rows.Close()
				t.Fatalf("%d of the tool's connections still open", n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	measure := func(name string, launch func()) {
		t.Helper()
		settle(prev)
		start := now()
		before := launchReads(t, conn, schema)
		launch()
		settle(start)
		prev = start
		after := launchReads(t, conn, schema)
		var total int64
		var detail []string
		for table, a := range after {
			if strings.HasPrefix(table, "river_") {
				continue // the job queue's own polling
			}
			b := before[table]
			d := tableReads{a.SeqScans - b.SeqScans, a.SeqRows - b.SeqRows, a.IdxRows - b.IdxRows}
			if d == (tableReads{}) {
				continue
			}
			total += d.SeqRows + d.IdxRows
			detail = append(detail, fmt.Sprintf("%s: %d seq scans reading %d rows, %d rows by index", table, d.SeqScans, d.SeqRows, d.IdxRows))
			switch table {
			case "users", "memberships", "cohort_members", "sessions", "used_login_states":
				if d.SeqScans > 0 {
					t.Errorf("%s: %s was scanned sequentially (%d rows read)", name, table, d.SeqRows)
				}
			}
		}
		t.Logf("%s read %d rows:\n%s", name, total, strings.Join(detail, "\n"))
		if total > 100 {
			t.Errorf("%s read %d rows in a course of %d members; want a few rows bounded by the person", name, total, courseMembers)
		}
	}

	newcomer := "learner-newcomer"
	if err := env.Platform.AddUser(ltiplatform.User{ID: newcomer, Name: "Nia Newcomer", Email: "nia@example.edu"}); err != nil {
		t.Fatal(err)
	}
	if err := env.Platform.Enroll(apptest.CourseID, newcomer, lti.RoleLearner); err != nil {
		t.Fatal(err)
	}
	launch := func(user string) func() {
		return func() {
			if _, res := env.Launch(t, user, nil); res.StatusCode != 200 || !strings.Contains(res.URL, "/a/") {
				t.Fatalf("launch of %s ended at %s with %d", user, res.URL, res.StatusCode)
			}
		}
	}
	measure("a new learner's first launch", launch(newcomer))
	measure("a relaunch within minutes", launch(newcomer))
	// A day later the newcomer is a returning learner.
	if err := env.DB.Exec(`UPDATE memberships SET last_launch_at = ? WHERE user_id IN (SELECT id FROM users WHERE subject = ?)`,
		time.Now().UTC().Add(-24*time.Hour), newcomer).Error; err != nil {
		t.Fatal(err)
	}
	measure("a returning learner's launch", launch(newcomer))

	var size int
	if err := env.DB.Raw(`SELECT member_count FROM cohorts WHERE cohort_key = 'course'`).Scan(&size).Error; err != nil {
		t.Fatal(err)
	}
	if want := courseMembers + 2; size != want {
		t.Errorf("course-wide cohort counts %d members, want %d", size, want)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
