package discussion_test

import (
	"context"
	"strings"
	"testing"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/discussion"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/store/storetest"
)

func TestSearch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := discussion.NewStore(db)
		s.PostsPerMinute = 0
		alice, bob, ines := viewer("alice", "A", false), viewer("bob", "A", false), viewer("ines", "A", true)
		zoe := viewer("zoe", "B", false)
		otherCourse := discussion.Viewer{SpaceID: "space-l2-A", OrgID: "p1", CourseID: "c2", LinkID: "l2", CohortID: "A", UserID: "yan"}

		mustID := func(id string, err error) string {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		titled := mustID(s.CreateThread(ctx, alice, discussion.ThreadInput{Kind: discussion.Question, Title: "Confidence intervals explained",
			Body: "What does a 95% interval mean?", Anonymous: true}))
		other := mustID(s.CreateThread(ctx, bob, discussion.ThreadInput{Kind: discussion.Discussion, Title: "Weekly check-in", Body: "How is everyone doing?"}))
		mentioned := mustID(s.Reply(ctx, alice, other, discussion.ReplyInput{Body: "Fine, though I still struggle with confidence in my plots.", Anonymous: true}))
		xss := mustID(s.Reply(ctx, bob, other, discussion.ReplyInput{Body: `Try <script>alert("confidence")</script> & <b>bold</b> ` + "\uE000" + `stray`}))
		removed := mustID(s.Reply(ctx, bob, titled, discussion.ReplyInput{Body: "confidence secret to be removed"}))
		if err := s.Delete(ctx, bob, removed); err != nil {
			t.Fatal(err)
		}
		mustID(s.CreateThread(ctx, zoe, discussion.ThreadInput{Kind: discussion.Question, Title: "Confidence in cohort B", Body: "confidence elsewhere"}))
		mustID(s.CreateThread(ctx, otherCourse, discussion.ThreadInput{Kind: discussion.Question, Title: "Confidence in course two", Body: "confidence"}))

		res, err := s.Search(ctx, bob, "confidence", 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range res {
			ids = append(ids, r.PostID)
		}
		if len(res) != 3 {
			t.Fatalf("search found %d posts (%v), want the titled thread's opening, the reply and the XSS reply", len(res), ids)
		}
		if res[0].ThreadID != titled || !res[0].Opening {
			t.Errorf("a thread titled with the word does not rank first: %+v", res[0])
		}
		if !strings.Contains(marked(res[0].Title), "[Confidence]") {
			t.Errorf("title not highlighted: %q", marked(res[0].Title))
		}
		if res[0].Author.Name != "" || res[0].Author.ID != "" || !res[0].Author.Anonymous {
			t.Errorf("an anonymous author is named to a peer: %+v", res[0].Author)
		}
		for _, r := range res {
			if r.PostID == removed || strings.Contains(marked(r.Snippet), "secret") {
				t.Error("search returns a removed post")
			}
			if strings.Contains(marked(r.Snippet), "elsewhere") || strings.Contains(r.ThreadTitle, "cohort B") || strings.Contains(r.ThreadTitle, "course two") {
				t.Errorf("search crosses a cohort or course: %+v", r)
			}
			if r.PostID == mentioned && !strings.Contains(marked(r.Snippet), "[confidence]") {
				t.Errorf("reply snippet not highlighted: %q", marked(r.Snippet))
			}
			// The post's text comes back as readers see it, without its
			// markup, for the page to escape.
			if r.PostID == xss && !strings.Contains(marked(r.Snippet), `Try alert("[confidence]") & bold `) {
				t.Errorf("snippet of the XSS reply: %q", marked(r.Snippet))
			}
		}
		// Staff see the name behind an anonymous post.
		if res, err := s.Search(ctx, ines, "intervals", 10); err != nil || len(res) != 1 || res[0].Author.ID != "alice" {
			t.Errorf("staff search: %+v %v", res, err)
		}
		// Every word must match.
		if res, err := s.Search(ctx, bob, "confidence plots", 10); err != nil || len(res) != 1 || res[0].PostID != mentioned {
			t.Errorf("two-word search: %+v %v", res, err)
		}
		// Edits and new titles are searched; the old text is not.
		if err := s.Edit(ctx, alice, mustOpening(t, s, alice, titled), "Standard errors explained", "What does a standard error mean?"); err != nil {
			t.Fatal(err)
		}
		if res, _ := s.Search(ctx, bob, "intervals", 10); len(res) != 0 {
			t.Errorf("the old text is still found: %+v", res)
		}
		if res, _ := s.Search(ctx, bob, "standard errors", 10); len(res) != 1 || res[0].ThreadID != titled {
			t.Errorf("the new title is not found: %+v", res)
		}

		// Queries that are search syntax never fail; empty and short ones say so.
		for _, q := range []string{`"`, `"confidence`, `confidence*`, `-confidence`, `NEAR(confidence plots)`, `(confidence OR`, `AND`, `title:confidence`,
			`confidence^`, `'; DROP TABLE posts; --`, `confiance à l'école`, `置信区间`, `\'`, `!!&&||`, `confidence:*`, "conf\x00idence", "\xff\xfe"} {
			if _, err := s.Search(ctx, bob, q, 10); err != nil && err != discussion.ErrQueryTooShort {
				t.Errorf("search %q: %v", q, err)
			}
			if _, err := s.Similar(ctx, bob, q, 5); err != nil {
				t.Errorf("similar %q: %v", q, err)
			}
		}
		if _, err := s.Search(ctx, bob, "  ", 10); err != discussion.ErrQueryEmpty {
			t.Errorf("empty query: %v", err)
		}
		if _, err := s.Search(ctx, bob, "a", 10); err != discussion.ErrQueryTooShort || code(err) != roundtable.EINVALID {
			t.Errorf("short query: %v", err)
		}
		if res, _ := s.Search(ctx, bob, "élève", 10); res != nil {
			t.Errorf("no match: %+v", res)
		}
	})
}

func mustOpening(t *testing.T, s *discussion.Store, v discussion.Viewer, thread string) string {
	t.Helper()
	tv, err := s.Thread(context.Background(), v, thread)
	if err != nil {
		t.Fatal(err)
	}
	return tv.OpeningPostID
}

func TestSimilarAndDuplicates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := discussion.NewStore(db)
		s.PostsPerMinute = 0
		alice, bob, ines := viewer("alice", "A", false), viewer("bob", "A", false), viewer("ines", "A", true)
		zoe, zack := viewer("zoe", "B", false), viewer("zack", "B", true)
		create := func(v discussion.Viewer, title, body string) string {
			t.Helper()
			id, err := s.CreateThread(ctx, v, discussion.ThreadInput{Kind: discussion.Question, Title: title, Body: body})
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		pvalue := create(alice, "How do I read a p-value?", "The lecture lost me.")
		regression := create(bob, "Regression assumptions", "Which ones matter for the p-value?")
		create(bob, "Lunch plans", "Anyone around?")
		elsewhere := create(zoe, "Reading a p-value", "Cohort B asks too.")

		got, err := s.Similar(ctx, bob, "reading p-val", 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].ID != pvalue || got[1].ID != regression {
			t.Errorf("similar: %+v", got)
		}
		for _, g := range got {
			if g.ID == elsewhere {
				t.Error("a suggestion from another cohort")
			}
		}
		if got, _ := s.Similar(ctx, bob, "a", 5); len(got) != 0 {
			t.Errorf("one letter suggests %+v", got)
		}

		dup := create(bob, "p-value meaning?", "Same question")
		dup2 := create(bob, "What is a p value", "Again")
		if err := s.MarkDuplicate(ctx, bob, dup, pvalue); code(err) != roundtable.EFORBIDDEN {
			t.Errorf("a learner marks a duplicate: %v", err)
		}
		if err := s.MarkDuplicate(ctx, ines, dup, dup); code(err) != roundtable.EINVALID {
			t.Errorf("a self-duplicate: %v", err)
		}
		if err := s.MarkDuplicate(ctx, ines, dup, elsewhere); code(err) != roundtable.ENOTFOUND {
			t.Errorf("a duplicate of another cohort's thread: %v", err)
		}
		if err := s.MarkDuplicate(ctx, zack, elsewhere, pvalue); code(err) != roundtable.ENOTFOUND {
			t.Errorf("another cohort's staff reach this cohort's thread: %v", err)
		}
		// dup2 → dup, then dup → pvalue: dup2 follows to pvalue; no chains.
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(s.MarkDuplicate(ctx, ines, dup2, dup))
		must(s.MarkDuplicate(ctx, ines, dup, pvalue))
		// A duplicate of a duplicate points to the original.
		dup3 := create(bob, "p-value again", "Third time")
		must(s.MarkDuplicate(ctx, ines, dup3, dup2))
		// The thread's read links it to its original and its duplicates.
		linked := func(v discussion.Viewer, id string) (discussion.Duplicates, error) {
			tv, err := s.Thread(ctx, v, id)
			return tv.Duplicates, err
		}
		d, err := linked(alice, pvalue)
		must(err)
		if d.Of != nil || len(d.Marked) != 3 {
			t.Errorf("the original's duplicates: %+v", d)
		}
		for _, id := range []string{dup, dup2, dup3} {
			d, err := linked(alice, id)
			must(err)
			if d.Of == nil || d.Of.ID != pvalue || len(d.Marked) != 0 {
				t.Errorf("%s: %+v, want a duplicate of the original", id, d)
			}
		}
		// Marking the original a duplicate of its own duplicate is a cycle.
		if err := s.MarkDuplicate(ctx, ines, pvalue, dup); code(err) != roundtable.EINVALID {
			t.Errorf("original marked a duplicate of its duplicate: %v", err)
		}
		// The list links each duplicate to its original.
		originals := func(v discussion.Viewer) map[string]discussion.ThreadRef {
			t.Helper()
			l, err := s.List(ctx, v, discussion.ListQuery{Limit: 100})
			must(err)
			m := map[string]discussion.ThreadRef{}
			for _, th := range l.Threads {
				if th.Original.ID != "" {
					m[th.ID] = th.Original
				}
			}
			return m
		}
		if m := originals(alice); len(m) != 3 || m[dup].ID != pvalue || m[dup3].Title != "How do I read a p-value?" {
			t.Errorf("the list's originals: %+v", m)
		}
		if d, err := linked(zoe, pvalue); code(err) != roundtable.ENOTFOUND || d.Of != nil || len(d.Marked) != 0 {
			t.Errorf("another cohort sees duplicates: %+v, %v", d, err)
		}
		// Suggestions leave duplicates out.
		got, _ = s.Similar(ctx, bob, "p-value", 5)
		for _, g := range got {
			if g.ID == dup || g.ID == dup2 || g.ID == dup3 {
				t.Errorf("a duplicate is suggested: %+v", g)
			}
		}
		// Unmarking.
		must(s.MarkDuplicate(ctx, ines, dup, ""))
		if d, _ := linked(alice, dup); d.Of != nil {
			t.Errorf("unmarked thread still a duplicate")
		}
		// A thread moderators hid is linked for staff only.
		must(s.Hide(ctx, ines, mustOpening(t, s, ines, pvalue), "off topic"))
		if d, _ := linked(bob, dup2); d.Of != nil {
			t.Errorf("a learner sees a hidden original: %+v", d.Of)
		}
		if d, _ := linked(ines, dup2); d.Of == nil || d.Of.ID != pvalue {
			t.Errorf("staff lose the hidden original: %+v", d)
		}
		if m := originals(bob); len(m) != 0 {
			t.Errorf("the list links a learner to a hidden original: %+v", m)
		}
		if m := originals(ines); len(m) != 2 || m[dup2].ID != pvalue {
			t.Errorf("the list's originals for staff: %+v", m)
		}
	})
}

// marked writes highlights as text, each match in brackets.
func marked(hs []discussion.Highlight) string {
	var b strings.Builder
	for _, h := range hs {
		if h.Marked {
			b.WriteString("[" + h.Text + "]")
		} else {
			b.WriteString(h.Text)
		}
	}
	return b.String()
}

func TestHighlights(t *testing.T) {
	for in, want := range map[string]string{
		"a \uE000b\uE001 c":            "a [b] c",
		"<x>\uE000&\uE001":             "<x>[&]",
		"\uE001\uE000open":             "[open]",
		"\uE000a\uE000b\uE001\uE001":   "[ab]",
		"\"quoted\" 'single'":          "\"quoted\" 'single'",
		"bad \xff utf8 \uE000x\uE001!": "bad \uFFFD utf8 [x]!",
		"\uE002b\uE003":                "<b>",
	} {
		if got := marked(discussion.Highlights(in)); got != want {
			t.Errorf("Highlights(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzSearchQuery: whatever someone types, the FTS5 query runs without a
// syntax error, and highlights keep the text but for its marks.
func FuzzSearchQuery(f *testing.F) {
	for _, s := range []string{`"`, `a*`, `NEAR(a b)`, `-x`, `(a OR b`, `col:x`, `^a`, `a AND`, `'\`, "é\u0301", "\uE000x", `置信`} {
		f.Add(s)
	}
	db := storetest.Open(f, store.SQLite)
	s := discussion.NewStore(db)
	ctx := context.Background()
	v := viewer("alice", "A", false)
	if _, err := s.CreateThread(ctx, v, discussion.ThreadInput{Kind: discussion.Question, Title: "Fuzzing the search box", Body: "with \"quotes\" and (brackets)"}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, q string) {
		terms := discussion.SearchTerms(q)
		if len(terms) > discussion.MaxTerms {
			t.Fatalf("%d terms", len(terms))
		}
		for _, or := range []bool{false, true} {
			if len(terms) == 0 {
				break
			}
			fq := discussion.FTS5Query(terms, or, or)
			var n int
			if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM post_fts WHERE post_fts MATCH ?`, fq).Scan(&n); err != nil {
				t.Fatalf("MATCH %q (from %q): %v", fq, q, err)
			}
		}
		if _, err := s.Search(ctx, v, q, 5); err != nil && err != discussion.ErrQueryEmpty && err != discussion.ErrQueryTooShort {
			t.Fatalf("search %q: %v", q, err)
		}
		if _, err := s.Similar(ctx, v, q, 5); err != nil {
			t.Fatalf("similar %q: %v", q, err)
		}
		var text strings.Builder
		for _, h := range discussion.Highlights(q) {
			text.WriteString(h.Text)
		}
		want := strings.NewReplacer("\uE000", "", "\uE001", "", "\uE002", "<", "\uE003", ">").Replace(strings.ToValidUTF8(q, "\uFFFD"))
		if text.String() != want {
			t.Fatalf("highlights of %q read %q", q, text.String())
		}
	})
}

// Search and suggestions run over a set of spaces a viewer may read: the
// posts of every space of the set, and of no other.
func TestSearchOverASetOfSpaces(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := discussion.NewStore(db)
		s.PostsPerMinute = 0
		alice, zoe := viewer("alice", "A", false), viewer("zoe", "B", false)
		yan := discussion.Viewer{SpaceID: "space-l2-A", OrgID: "p1", CourseID: "c2", LinkID: "l2", CohortID: "A", UserID: "yan"}
		threads := map[string]string{}
		for _, w := range []discussion.Viewer{alice, zoe, yan} {
			id, err := s.CreateThread(ctx, w, discussion.ThreadInput{Kind: discussion.Question, Title: "Regression diagnostics in " + w.SpaceID, Body: "Residual plots puzzle me"})
			if err != nil {
				t.Fatal(err)
			}
			threads[w.SpaceID] = id
		}
		found := func(ids []string) map[string]bool {
			m := map[string]bool{}
			for _, id := range ids {
				m[id] = true
			}
			return m
		}
		res, err := s.SearchIn(ctx, alice, []string{alice.SpaceID, zoe.SpaceID}, "residual", 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range res {
			got = append(got, r.ThreadID)
		}
		if f := found(got); len(got) != 2 || !f[threads[alice.SpaceID]] || !f[threads[zoe.SpaceID]] {
			t.Errorf("search over cohorts A and B found threads %v, want A's and B's: %v", got, threads)
		}
		if res, err := s.Search(ctx, alice, "residual", 10); err != nil || len(res) != 1 || res[0].ThreadID != threads[alice.SpaceID] {
			t.Errorf("search in A alone: %+v %v", res, err)
		}
		if res, err := s.SearchIn(ctx, alice, nil, "residual", 10); err != nil || len(res) != 0 {
			t.Errorf("search over no space: %+v %v", res, err)
		}
		similar, err := s.SimilarIn(ctx, alice, []string{alice.SpaceID, yan.SpaceID}, "regression diagnostics", 10)
		if err != nil {
			t.Fatal(err)
		}
		got = got[:0]
		for _, t := range similar {
			got = append(got, t.ID)
		}
		if f := found(got); len(got) != 2 || !f[threads[alice.SpaceID]] || !f[threads[yan.SpaceID]] {
			t.Errorf("suggestions over A and course two's space: %v, want their threads: %v", got, threads)
		}
	})
}
