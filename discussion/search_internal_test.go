package discussion

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

// A search reads the searched space's posts only: another tenant's 500
// posts holding the same word are never read. On SQLite the statement is
// driven by the full-text match it binds, which yields the space's
// matching posts alone; on Postgres every way the executed plan reaches
// posts starts from the space.
func TestSearchReadsOnlyTheSpacesPosts(t *testing.T) {
	t.Parallel() // with TestReadsAtScaleDoNotGrow
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			searchReadsOnlyTheSpacesPosts(t, storetest.Open(t, kind))
		})
	}
}

func searchReadsOnlyTheSpacesPosts(t *testing.T, db *store.DB) {
	ctx := context.Background()
	s := NewStore(db)
	s.PostsPerMinute = 0
	ours := Viewer{SpaceID: "space-ours", OrgID: "p-ours", CourseID: "c1", LinkID: "l-1", CohortID: "cohort-a", UserID: "ines", Staff: true}
	theirs := Viewer{SpaceID: "space-theirs", OrgID: "p-theirs", CourseID: "c9", LinkID: "l-9", CohortID: "cohort-z", UserID: "zed", Staff: true}

	// Ours: 2,000 posts, 3 of them about gloves.
	thread, err := s.CreateThread(ctx, ours, ThreadInput{Kind: Question, Title: "Gloves in the lab", Body: "Which gloves for solvents?"})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := s.Reply(ctx, ours, thread, ReplyInput{Body: "Nitrile gloves, and change them often."}); err != nil {
			t.Fatal(err)
		}
	}
	copies(t, db, ours, 1997, "'Ask the technician about the fume hood, ' || n.i")
	// Theirs: 8,000 posts, 500 of them about gloves.
	if _, err := s.CreateThread(ctx, theirs, ThreadInput{Kind: Discussion, Title: "Gloves everywhere", Body: "gloves gloves gloves"}); err != nil {
		t.Fatal(err)
	}
	copies(t, db, theirs, 7999, "CASE WHEN n.i % 16 = 0 THEN 'more gloves ' ELSE 'safety goggles ' END || n.i")
	if err := db.Exec(`ANALYZE`).Error; err != nil {
		t.Fatal(err)
	}

	res, err := s.Search(ctx, ours, "gloves", 50)
	if err != nil || len(res) != 3 {
		t.Fatalf("search found %d posts (%v), want 3", len(res), err)
	}
	query, args := s.searchStatement(ours, []string{ours.SpaceID}, []string{"gloves"}, 50)
	readsOnlyTheSpacesPosts(t, db, "search", db.Rebind(query), args)
	// Suggestions too, with each word's count.
	if sim, err := s.Similar(ctx, ours, "gloves for the lab", 5); err != nil || len(sim) != 1 || sim[0].ID != thread {
		t.Fatalf("suggestions: %+v %v", sim, err)
	}
	query, args = s.similarStatement(ours, []string{ours.SpaceID}, []string{"gloves", "lab"}, 5)
	readsOnlyTheSpacesPosts(t, db, "suggestion", db.Rebind(query), args)
}

// readsOnlyTheSpacesPosts checks the plan of a statement of
// searchReadsOnlyTheSpacesPosts, named what.
func readsOnlyTheSpacesPosts(t *testing.T, db *store.DB, what, query string, args []any) {
	t.Helper()
	ctx := context.Background()
	switch db.Dialect {
	case store.Postgres:
		var plan string
		if err := db.SQL.QueryRowContext(ctx, `EXPLAIN (ANALYZE, FORMAT JSON) `+query, args...).Scan(&plan); err != nil {
			t.Fatal(err)
		}
		// Every way the plan reaches posts starts from the space: the
		// full-text index of documents with their space's word, or the
		// index of the space's posts. Never the full-text index of all
		// documents, which holds their 500 posts with the word, nor a
		// scan of the table.
		read, ways := postsReads(t, plan)
		for _, w := range ways {
			if !strings.HasPrefix(w, "posts_space_search") && !strings.HasPrefix(w, "posts_space_hidden (space_id = 'space-ours'::text)") {
				t.Errorf("the %s reads posts by %s:\n%s", what, w, plan)
			}
		}
		if read > 2000 {
			t.Errorf("the %s read %.0f rows of posts, more than the space's 2,000:\n%s", what, read, plan)
		}
	default:
		rows, err := db.SQL.QueryContext(ctx, `EXPLAIN QUERY PLAN `+query, args...)
		if err != nil {
			t.Fatal(err)
		}
		var steps []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			steps = append(steps, detail)
		}
		rows.Close()
		if len(steps) == 0 || !strings.HasPrefix(steps[0], "SCAN post_fts VIRTUAL TABLE") {
			t.Fatalf("the %s is not driven by its full-text match: %q", what, steps)
		}
		// Every full-text match of the statement asks for the space's
		// word: none yields another space's posts.
		for _, a := range args {
			m, ok := a.(string)
			if !ok || !strings.Contains(m, "gloves") {
				continue
			}
			if !strings.HasPrefix(m, "space : (") {
				t.Errorf("the %s matches %q, in every space", what, m)
			}
			var n int
			if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM post_fts WHERE post_fts MATCH ?`, m).Scan(&n); err != nil || n > 3 {
				t.Errorf("the full-text match %q yields %d posts (%v), want at most the space's 3", m, n, err)
			}
		}
	}
}

// copies adds n posts to v's space, copies of its opening post with the
// body the SQL expression body writes from n.i (1 to n).
func copies(t *testing.T, db *store.DB, v Viewer, n int, body string) {
	t.Helper()
	if err := db.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO posts (org_id, id, cohort_id, link_id, space_id, thread_id, parent_id, opening, author_id, anonymous, body, created_at)
		SELECT p.org_id, p.id || '-' || n.i, p.cohort_id, p.link_id, p.space_id, p.thread_id, '', FALSE, p.author_id, FALSE, `+body+`, p.created_at
		FROM posts p CROSS JOIN n WHERE p.org_id = ? AND p.opening`, n, v.OrgID).Error; err != nil {
		t.Fatal(err)
	}
}

// postsReads adds up the rows of posts that the nodes of an executed
// Postgres plan read (those they returned and those their conditions
// removed, in every loop), and lists how each node
// reached them: an index's name and condition, or the node's type.
func postsReads(t *testing.T, plan string) (float64, []string) {
	t.Helper()
	var doc []struct {
		Plan map[string]any `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(plan), &doc); err != nil || len(doc) != 1 {
		t.Fatalf("plan: %v", err)
	}
	var sum float64
	var ways []string
	var walk func(n map[string]any)
	walk = func(n map[string]any) {
		str := func(k string) string { v, _ := n[k].(string); return v }
		num := func(k string) float64 { f, _ := n[k].(float64); return f }
		if str("Relation Name") == "posts" || strings.HasPrefix(str("Index Name"), "posts") {
			if str("Node Type") != "Bitmap Index Scan" {
				// A bitmap's rows are counted once, where the table is read.
				sum += (num("Actual Rows") + num("Rows Removed by Filter") + num("Rows Removed by Index Recheck")) * max(num("Actual Loops"), 1)
			}
			switch {
			case str("Index Name") != "":
				ways = append(ways, strings.TrimSpace(str("Index Name")+" "+str("Index Cond")))
			case str("Node Type") != "Bitmap Heap Scan":
				ways = append(ways, str("Node Type"))
			}
		}
		children, _ := n["Plans"].([]any)
		for _, c := range children {
			if m, ok := c.(map[string]any); ok {
				walk(m)
			}
		}
	}
	walk(doc[0].Plan)
	return sum, ways
}

// A query Postgres reads as no words at all finds nothing, rather than
// the whole space (Search leaves common words out before; this is the
// statements' own guard).
func TestQueryOfNoWordsFindsNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := NewStore(db)
		v := Viewer{SpaceID: "space-ours", OrgID: "p-ours", CourseID: "c1", LinkID: "l-1", CohortID: "cohort-a", UserID: "ines", Staff: true}
		if _, err := s.CreateThread(ctx, v, ThreadInput{Kind: Question, Title: "The lab", Body: "Where is the lab?"}); err != nil {
			t.Fatal(err)
		}
		for what, stmt := range map[string]func() (string, []any){
			"search":     func() (string, []any) { return s.searchStatement(v, []string{v.SpaceID}, []string{"where"}, 10) },
			"suggestion": func() (string, []any) { return s.similarStatement(v, []string{v.SpaceID}, []string{"where"}, 5) },
		} {
			query, args := stmt()
			// A suggestion of one word needs it matched once; the query of
			// a common word has it matched nowhere.
			rows, err := db.SQL.QueryContext(ctx, db.Rebind(query), args...)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			n := 0
			for rows.Next() {
				n++
			}
			rows.Close()
			if db.Dialect == store.Postgres && n != 0 {
				t.Errorf("the %s of a stop word alone found %d posts", what, n)
			}
		}
	})
}
