package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// TestLookupsOfPeopleAndCohortsFitOneIndex asks Postgres, on small tables
// never analysed (a term's first launches), how it would find a person
// and a cohort by id and by the LMS's names. Each lookup must use an index
// that holds all of its columns: a plan made now is kept by its
// connection as the course grows, and a lookup by the organisation alone
// then reads every person of it (as the check of a membership's foreign
// key once did, until migrations 00029 and 00030).
func TestLookupsOfPeopleAndCohortsFitOneIndex(t *testing.T) {
	db := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	now := time.Now().UTC()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.Exec(`INSERT INTO organisations (id, name, created_at) VALUES ('o1', 'Org', ?)`, now).Error)
	must(db.Exec(`INSERT INTO courses (org_id, id, issuer, deployment_id, context_key, platform_id, label, title, created_at, updated_at)
		VALUES ('o1', 'c1', 'https://lms.example', 'd1', 'ctx1', 'p1', 'C1', 'Course', ?, ?)`, now, now).Error)
	for _, u := range []string{"u1", "u2", "u3", "u4", "u5"} {
		must(db.Exec(`INSERT INTO users (org_id, id, issuer, subject, name, pseudonym, created_at, updated_at)
			VALUES ('o1', ?, 'https://lms.example', ?, 'Name', 'Pseudonym', ?, ?)`, u, "sub-"+u, now, now).Error)
	}
	for _, c := range []string{"k1", "k2", "k3"} {
		must(db.Exec(`INSERT INTO cohorts (org_id, id, course_id, cohort_key, name, created_at) VALUES ('o1', ?, 'c1', ?, 'Cohort', ?)`,
			"co-"+c, c, now).Error)
	}
	for _, c := range []struct {
		what, query string
		args        []any
		columns     []string
	}{
		{"a person by id", `SELECT name FROM users WHERE org_id = $1 AND id = $2`, []any{"o1", "u3"}, []string{"org_id", "id"}},
		{"a person by issuer and subject", `SELECT name FROM users WHERE org_id = $1 AND issuer = $2 AND subject = $3`,
			[]any{"o1", "https://lms.example", "sub-u3"}, []string{"org_id", "issuer", "subject"}},
		{"a cohort by id", `SELECT name FROM cohorts WHERE org_id = $1 AND id = $2`, []any{"o1", "co-k2"}, []string{"org_id", "id"}},
		{"a cohort by course and key", `SELECT name FROM cohorts WHERE org_id = $1 AND course_id = $2 AND cohort_key = $3`,
			[]any{"o1", "c1", "k2"}, []string{"org_id", "course_id", "cohort_key"}},
	} {
		rows, err := db.SQL.QueryContext(ctx, `EXPLAIN `+c.query, c.args...)
		must(err)
		var plan []string
		for rows.Next() {
			var line string
			must(rows.Scan(&line))
			plan = append(plan, line)
		}
		must(rows.Err())
		rows.Close()
		var cond string
		for _, line := range plan {
			if i := strings.Index(line, "Index Cond: "); i >= 0 {
				cond = line[i:]
			}
		}
		for _, col := range c.columns {
			if !strings.Contains(cond, "("+col+" = ") {
				t.Errorf("%s: the index used does not hold %s:\n%s", c.what, col, strings.Join(plan, "\n"))
				break
			}
		}
	}
}
