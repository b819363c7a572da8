package tenant_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/roundtable-lms/roundtable/internal/blob"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
	"github.com/roundtable-lms/roundtable/internal/tenant"
)

// Removing a registration keeps its organisation's people and discussions
// while another registration reaches them; removing the last one deletes
// the organisation with all of it, and nothing of another organisation.
func TestRemovingTheLastRegistrationDeletesTheOrganisation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		reg := tenant.NewRegistry(db)
		files, err := blob.NewDir(t.TempDir())
		must(t, err)
		reg.Files = files
		first, err := reg.Add(ctx, canvas("10000000000001"))
		must(t, err)
		second := canvas("10000000000002")
		second.OrgID = first.OrgID
		second, err = reg.Add(ctx, second)
		must(t, err)
		other, err := reg.Add(ctx, canvas("10000000000003"))
		must(t, err)
		if second.OrgID != first.OrgID || other.OrgID == first.OrgID {
			t.Fatalf("organisations %q, %q, %q", first.OrgID, second.OrgID, other.OrgID)
		}
		now := time.Now().UTC()
		fileOf := map[string]string{}
		for _, org := range []string{first.OrgID, other.OrgID} {
			for _, q := range []string{
				`INSERT INTO users (org_id, id, issuer, subject, pseudonym, created_at, updated_at) VALUES (?, 'u1', 'https://canvas.instructure.com', 's1', 'P', ?, ?)`,
				`INSERT INTO courses (org_id, id, issuer, deployment_id, context_key, platform_id, created_at, updated_at)
					VALUES (?, 'c1', 'https://canvas.instructure.com', '1:abc', 'ctx', '', ?, ?)`,
				`INSERT INTO threads (org_id, id, course_id, link_id, cohort_id, kind, title, author_id, opening_post_id, last_post_id, last_activity_at, created_at)
					VALUES (?, 't1', 'c1', 'l1', 'h1', 'discussion', 'Title', 'u1', 'p1', 'p1', ?, ?)`,
			} {
				must(t, db.Exec(q, org, now, now).Error)
			}
			must(t, db.Exec(`INSERT INTO posts (org_id, id, cohort_id, link_id, thread_id, opening, author_id, body, created_at)
				VALUES (?, 'p1', 'h1', 'l1', 't1', TRUE, 'u1', 'A post about ladders', ?)`, org, now).Error)
			key, size, err := files.Put(ctx, strings.NewReader("a photo of "+org), 1<<10)
			must(t, err)
			must(t, db.Exec(`INSERT INTO attachments (org_id, id, space_id, cohort_id, uploader_id, blob_key, content_type, size, name, created_at)
				VALUES (?, 'f1', 's1', 'h1', 'u1', ?, 'image/jpeg', ?, 'ladder.jpg', ?)`, org, key, size, now).Error)
			fileOf[org] = key
		}
		kept := func(org string) bool {
			b, err := files.Open(ctx, fileOf[org])
			if err == nil {
				b.Close()
			}
			return err == nil
		}
		count := func(org string) (n int64) {
			t.Helper()
			must(t, db.Raw(`SELECT (SELECT COUNT(*) FROM users WHERE org_id = ?) + (SELECT COUNT(*) FROM courses WHERE org_id = ?)
				+ (SELECT COUNT(*) FROM threads WHERE org_id = ?) + (SELECT COUNT(*) FROM posts WHERE org_id = ?)`, org, org, org, org).Scan(&n).Error)
			return n
		}

		must(t, reg.Remove(ctx, first.ID))
		if n := count(first.OrgID); n != 4 {
			t.Errorf("removing one of two registrations left %d of the organisation's 4 rows", n)
		}
		if _, err := reg.Organisation(ctx, first.OrgID); err != nil {
			t.Errorf("the organisation went with one of its registrations: %v", err)
		}
		must(t, reg.Remove(ctx, second.ID))
		if n := count(first.OrgID); n != 0 {
			t.Errorf("removing the last registration left %d of the organisation's rows", n)
		}
		if _, err := reg.Organisation(ctx, first.OrgID); err == nil {
			t.Error("the organisation outlived its last registration")
		}
		if n := count(other.OrgID); n != 4 {
			t.Errorf("another organisation kept %d of its 4 rows", n)
		}
		if kept(first.OrgID) || !kept(other.OrgID) {
			t.Errorf("after the organisation went, its file is kept: %v, the other organisation's: %v", kept(first.OrgID), kept(other.OrgID))
		}
		if db.Dialect == store.SQLite {
			var found int64
			must(t, db.Raw(`SELECT COUNT(*) FROM post_fts WHERE post_fts MATCH 'ladders'`).Scan(&found).Error)
			if found != 1 {
				t.Errorf("search finds %d posts about ladders, want the other organisation's", found)
			}
		}
	})
}
