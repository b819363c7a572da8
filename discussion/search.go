package discussion

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/markdown"
	"github.com/roundtable-lms/roundtable/internal/store"
)

// Search: full text over the posts of the viewer's space (Postgres tsvector
// with a GIN index, SQLite FTS5; see migrations 00006, 00018 and 00032),
// similar-question suggestions, and duplicates.
//
// Words are matched by their stem, in English: Postgres documents and
// queries go through the pgTextSearch configuration and SQLite's index
// through the Porter stemmer, which knows English only. Courses carry no
// language of their own, so every course searches in English. The index
// holds a post's text as readers see it (BodyText), not its Markdown.

// Limits of a search.
const (
	// MinQuery is the fewest characters of words a search needs.
	MinQuery = 2
	// MaxTerms bounds how many words of a query are searched for.
	MaxTerms = 16
	// MaxTermLen bounds each word, in characters.
	MaxTermLen = 64
	// MaxSimilar is the most similar threads a suggestion shows.
	MaxSimilar = 5
	// DefaultSearch is how many results a search returns by default.
	DefaultSearch = 20
)

// Highlight marks: the database wraps matches in them; Highlights splits
// the text at them. They are Unicode private-use characters, which neither
// FTS5 nor ts_headline treats specially.
const (
	markOpen  = "\uE000"
	markClose = "\uE001"
	// On Postgres < and > stand in for themselves as these while text is
	// parsed (see migration 00006); Highlights turns them back.
	pgAngles = "\uE002\uE003"
)

// pgTextSearch is the Postgres text search configuration of documents
// (the trigger of migration 00032) and of queries: both must stem alike.
const pgTextSearch = "english"

// ErrQueryEmpty and ErrQueryTooShort say why a search was not run.
var (
	ErrQueryEmpty    = roundtable.Errorf(roundtable.EINVALID, "Type a word or two to search for.")
	ErrQueryTooShort = roundtable.Errorf(roundtable.EINVALID, "Search for at least %d letters or digits.", MinQuery)
)

// SearchResult is a post that matches a search, as the viewer may see it.
type SearchResult struct {
	ThreadID    string
	PostID      string
	Kind        string
	Opening     bool
	ThreadTitle string
	// Title is the thread title and Snippet an excerpt of the post, their
	// matches marked.
	Title, Snippet []Highlight
	Author         Author
	CreatedAt      time.Time
}

// SimilarThread is a thread a suggestion names.
type SimilarThread struct {
	ID       string
	Kind     string
	Title    string
	Answered bool
	Replies  int
}

// SearchTerms splits a query into the words searched for: runs of letters,
// digits and combining marks, lower-cased, without repeats, at most
// MaxTerms of at most MaxTermLen characters. Everything else (quotes,
// operators, brackets) separates words, so no query can carry search
// syntax.
func SearchTerms(q string) []string {
	var terms []string
	seen := map[string]bool{}
	for _, f := range strings.FieldsFunc(q, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r))
	}) {
		if !utf8.ValidString(f) {
			continue
		}
		f = strings.ToLower(f)
		if utf8.RuneCountInString(f) > MaxTermLen {
			f = string([]rune(f)[:MaxTermLen])
		}
		// A word of marks alone (no letter or digit) is no word.
		if strings.IndexFunc(f, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) < 0 || seen[f] {
			continue
		}
		seen[f] = true
		terms = append(terms, f)
		if len(terms) == MaxTerms {
			break
		}
	}
	return terms
}

// checkQuery returns the terms of a search, or why there are none.
func checkQuery(q string) ([]string, error) {
	if strings.TrimSpace(q) == "" {
		return nil, ErrQueryEmpty
	}
	terms := SearchTerms(q)
	n := 0
	for _, t := range terms {
		n += utf8.RuneCountInString(t)
	}
	if n < MinQuery {
		return nil, ErrQueryTooShort
	}
	return terms, nil
}

// FTS5Query writes terms as an FTS5 query: each a quoted string (quotes
// doubled), joined by AND or OR; prefix makes the last a prefix query.
func FTS5Query(terms []string, or, prefix bool) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = `"` + strings.ReplaceAll(t, `"`, `""`) + `"`
	}
	if prefix && len(parts) > 0 {
		parts[len(parts)-1] += "*"
	}
	if or {
		return strings.Join(parts, " OR ")
	}
	return strings.Join(parts, " AND ")
}

// TSQuery writes terms as a Postgres to_tsquery text: each a quoted lexeme
// (quotes and backslashes escaped), joined by & or |; prefix makes the last
// a prefix match.
func TSQuery(terms []string, or, prefix bool) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(t) + "'"
	}
	if prefix && len(parts) > 0 {
		parts[len(parts)-1] += ":*"
	}
	if or {
		return strings.Join(parts, " | ")
	}
	return strings.Join(parts, " & ")
}

// Highlight is a run of text a search shows, Marked where it matched.
type Highlight struct {
	Text   string
	Marked bool
}

// Highlights splits text from the database at its highlight marks into
// runs, marked or not: a stray mark in someone's post opens or closes
// nothing it should not. Pages escape the text as they show it.
func Highlights(s string) []Highlight {
	s = strings.NewReplacer(pgAngles[:3], "<", pgAngles[3:], ">").Replace(strings.ToValidUTF8(s, "\uFFFD"))
	var out []Highlight
	marked := false
	for s != "" {
		i := strings.IndexAny(s, markOpen+markClose)
		if i < 0 {
			i = len(s)
		}
		if i > 0 {
			if n := len(out); n > 0 && out[n-1].Marked == marked {
				out[n-1].Text += s[:i]
			} else {
				out = append(out, Highlight{Text: s[:i], Marked: marked})
			}
		}
		if i == len(s) {
			break
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		marked = string(r) == markOpen
		s = s[i+size:]
	}
	return out
}

// Search finds the posts of the viewer's space that contain every word of
// q but the common ones (stopWords), in any of its forms, best first:
// removed posts never, nor hidden ones for learners; an anonymous author
// stays anonymous to peers.
func (s *Store) Search(ctx context.Context, v Viewer, q string, limit int) ([]SearchResult, error) {
	return s.SearchIn(ctx, v, []string{v.SpaceID}, q, limit)
}

// SearchIn is Search over a set of spaces the viewer may read, with the
// standing the viewer has in their own space (v.SpaceID): whether they
// see what moderators hid, and the post-first rule of their activity.
func (s *Store) SearchIn(ctx context.Context, v Viewer, spaceIDs []string, q string, limit int) ([]SearchResult, error) {
	terms, err := checkQuery(q)
	if err != nil {
		return nil, err
	}
	// Common words match nothing on Postgres: none matches anything on
	// either database.
	if terms = significant(terms); len(terms) == 0 || len(spaceIDs) == 0 {
		return nil, nil
	}
	if limit <= 0 || limit > 100 {
		limit = DefaultSearch
	}
	query, args := s.searchStatement(v, spaceIDs, terms, limit)
	rows, err := s.db.SQL.QueryContext(ctx, s.db.Rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	defer rows.Close()
	var out []SearchResult
	for rows.Next() {
		var r SearchResult
		var authorID, name, pseudonym, roles, title, snippet string
		if err := rows.Scan(&r.PostID, &r.ThreadID, &r.Kind, &r.Opening, &r.ThreadTitle, &authorID, &r.Author.Anonymous,
			&name, &pseudonym, &roles, &r.CreatedAt, &title, &snippet); err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		r.Author = author(v, authorID, name, pseudonym, roles, r.Author.Anonymous)
		if title == "" {
			title = r.ThreadTitle
		}
		r.Title, r.Snippet = Highlights(title), Highlights(snippet)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return out, nil
}

// searchStatement is Search's statement for the spaces and terms. Both
// databases match in a full-text index whose every document carries its
// space's word (spaceWord): the index yields the spaces' posts with the
// words, and never reads another space's, whatever they hold. On
// SQLite, CROSS JOIN keeps that match first (SQLite does not reorder it):
// planned freely, the statement may scan every tenant's threads instead.
func (s *Store) searchStatement(v Viewer, spaceIDs []string, terms []string, limit int) (string, []any) {
	var query string
	var args []any
	visible := ` AND p.deleted = FALSE`
	if !v.Staff {
		// What moderators hid is not there for learners: the post, or its whole thread.
		visible += ` AND p.hidden = FALSE AND t.hidden = FALSE`
	}
	gate, gateArgs := othersGate(v)
	visible += gate
	// A query of no words Postgres keeps (numnode 0) would leave the
	// space's word alone to match: every post of the space.
	switch s.db.Dialect {
	case store.Postgres:
		query = `SELECT p.id, p.thread_id, t.kind, p.opening, t.title, p.author_id, p.anonymous,
			COALESCE(u.name, ''), COALESCE(u.pseudonym, ''), COALESCE(m.roles, ''), p.created_at,
			CASE WHEN p.opening THEN ts_headline('` + pgTextSearch + `', translate(t.title, '<>', ?), q, ?) ELSE '' END,
			ts_headline('` + pgTextSearch + `', translate(COALESCE(p.body_text, p.body), '<>', ?), q, ?)
			FROM posts p
			CROSS JOIN to_tsquery('` + pgTextSearch + `', ?) q
			JOIN threads t ON t.org_id = p.org_id AND t.id = p.thread_id
			LEFT JOIN users u ON u.org_id = p.org_id AND u.id = p.author_id
			LEFT JOIN memberships m ON m.org_id = p.org_id AND m.course_id = ? AND m.user_id = p.author_id
			WHERE ` + pgSpaceDocument + ` @@ (q && ?::tsquery) AND numnode(q) > 0 AND p.space_id IN (` + placeholders(len(spaceIDs)) + `)` + visible + `
			ORDER BY ts_rank(p.search, q) DESC, p.id DESC LIMIT ?`
		args = []any{pgAngles, headlineOptions(true), pgAngles, headlineOptions(false), TSQuery(terms, false, false),
			v.CourseID, pgSpaceQuery(spaceIDs)}
	default:
		query = `SELECT p.id, p.thread_id, t.kind, p.opening, t.title, p.author_id, p.anonymous,
			COALESCE(u.name, ''), COALESCE(u.pseudonym, ''), COALESCE(m.roles, ''), p.created_at,
			CASE WHEN p.opening THEN highlight(post_fts, 0, ?, ?) ELSE '' END,
			snippet(post_fts, 1, ?, ?, '…', 24)
			FROM post_fts
			CROSS JOIN post_search_ids x ON x.rid = post_fts.rowid
			CROSS JOIN posts p ON p.org_id = x.org_id AND p.id = x.post_id
			CROSS JOIN threads t ON t.org_id = p.org_id AND t.id = p.thread_id
			LEFT JOIN users u ON u.org_id = p.org_id AND u.id = p.author_id
			LEFT JOIN memberships m ON m.org_id = p.org_id AND m.course_id = ? AND m.user_id = p.author_id
			WHERE post_fts MATCH ? AND p.space_id IN (` + placeholders(len(spaceIDs)) + `)` + visible + `
			ORDER BY bm25(post_fts, 10.0, 1.0, 0.0), p.id DESC LIMIT ?`
		args = []any{markOpen, markClose, markOpen, markClose, v.CourseID, fts5SpaceQuery(spaceIDs, terms, false, false)}
	}
	for _, id := range spaceIDs {
		args = append(args, id)
	}
	return query, append(append(args, gateArgs...), limit)
}

// spaceWord is the word that every full-text document of a space's posts
// carries, and no other document (see migration 00026): "sp", then the
// space's id without the hyphens that would split it into several words.
// pgSpaceDocument and SQLite's post_search_docs compute the same in SQL.
func spaceWord(spaceID string) string {
	return "sp" + strings.ReplaceAll(spaceID, "-", "")
}

// spaceWords are the words of a set of spaces.
func spaceWords(spaceIDs []string) []string {
	words := make([]string, len(spaceIDs))
	for i, id := range spaceIDs {
		words[i] = spaceWord(id)
	}
	return words
}

// pgSpaceQuery matches a document of any of the spaces.
func pgSpaceQuery(spaceIDs []string) string { return TSQuery(spaceWords(spaceIDs), true, false) }

// placeholders is n placeholders for an IN list.
func placeholders(n int) string { return strings.Repeat("?, ", n-1) + "?" }

// pgSpaceDocument is a post's full-text document with its space's word, as
// the index posts_space_search holds it: a statement matches on exactly
// this expression for Postgres to use that index.
const pgSpaceDocument = `(p.search || array_to_tsvector(ARRAY['sp' || replace(p.space_id, '-', '')]))`

// fts5SpaceQuery is the FTS5 query for terms (see FTS5Query) in the posts
// of a set of spaces: one of the spaces' words in its own column, and the
// terms in the title and body.
func fts5SpaceQuery(spaceIDs []string, terms []string, or, prefix bool) string {
	return `space : (` + FTS5Query(spaceWords(spaceIDs), true, false) + `) AND {title body} : (` + FTS5Query(terms, or, prefix) + `)`
}

// headlineOptions are ts_headline's: the whole title, or fragments of a body.
func headlineOptions(whole bool) string {
	o := "StartSel=" + markOpen + ", StopSel=" + markClose
	if whole {
		return o + ", HighlightAll=true"
	}
	return o + `, MaxWords=30, MinWords=12, ShortWord=1, MaxFragments=2, FragmentDelimiter=" … "`
}

// Similar finds up to MaxSimilar questions of the viewer's space that
// look like the one someone is writing (title; its last word may be half
// typed): suggestions shown before a question is asked again. A question
// is suggested only when its title or opening post holds at least half
// of the title's words, not counting the common ones (stopWords), so a
// question sharing one word of six is left out. Answered questions come
// first, then those sharing more words, then the best ranked. Threads
// marked as duplicates are left out; their original is suggested instead.
func (s *Store) Similar(ctx context.Context, v Viewer, title string, limit int) ([]SimilarThread, error) {
	return s.SimilarIn(ctx, v, []string{v.SpaceID}, title, limit)
}

// SimilarIn is Similar over a set of spaces the viewer may read, with the
// standing the viewer has in their own space (see SearchIn).
func (s *Store) SimilarIn(ctx context.Context, v Viewer, spaceIDs []string, title string, limit int) ([]SimilarThread, error) {
	if len(spaceIDs) == 0 {
		return nil, nil
	}
	terms := significant(SearchTerms(title))
	var n int
	for _, t := range terms {
		n += utf8.RuneCountInString(t)
	}
	if n < MinQuery+1 {
		return nil, nil
	}
	if limit <= 0 || limit > MaxSimilar {
		limit = MaxSimilar
	}
	query, args := s.similarStatement(v, spaceIDs, terms, limit)
	rows, err := s.db.SQL.QueryContext(ctx, s.db.Rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("similar threads: %w", err)
	}
	defer rows.Close()
	var out []SimilarThread
	for rows.Next() {
		var t SimilarThread
		var accepted string
		if err := rows.Scan(&t.ID, &t.Kind, &t.Title, &accepted, &t.Replies); err != nil {
			return nil, fmt.Errorf("similar threads: %w", err)
		}
		t.Answered = accepted != ""
		out = append(out, t)
	}
	return out, rows.Err()
}

// similarStatement is Similar's statement for the spaces and terms. Like
// searchStatement, it reaches posts through the full-text index of the
// spaces' documents, and each term's count reads only the spaces' posts.
func (s *Store) similarStatement(v Viewer, spaceIDs []string, terms []string, limit int) (string, []any) {
	// Threads moderators hid are suggested to staff only.
	visible := ` AND t.kind = ? AND t.duplicate_of = ''`
	if !v.Staff {
		visible += ` AND t.hidden = FALSE`
	}
	gate, gateArgs := othersGate(v)
	visible += gate
	// matched counts the title's words a question holds, each its own
	// match: the last as a prefix, as the query has it.
	matched := make([]string, len(terms))
	var args []any
	for i, t := range terms {
		prefix := i == len(terms)-1
		switch s.db.Dialect {
		case store.Postgres:
			matched[i] = `(p.search @@ to_tsquery('` + pgTextSearch + `', ?))::int`
			args = append(args, TSQuery([]string{t}, false, prefix))
		default:
			// Each term's posts in the spaces are read once for the statement.
			matched[i] = `(x.rid IN (SELECT rowid FROM post_fts WHERE post_fts MATCH ?))`
			args = append(args, fts5SpaceQuery(spaceIDs, []string{t}, false, prefix))
		}
	}
	var query string
	switch s.db.Dialect {
	case store.Postgres:
		query = `SELECT id, kind, title, accepted_post_id, reply_count FROM (
			SELECT t.id, t.kind, t.title, t.accepted_post_id, t.reply_count, ts_rank(p.search, q) AS rank, ` + strings.Join(matched, " + ") + ` AS matched
			FROM posts p
			CROSS JOIN to_tsquery('` + pgTextSearch + `', ?) q
			JOIN threads t ON t.org_id = p.org_id AND t.id = p.thread_id
			WHERE ` + pgSpaceDocument + ` @@ (q && ?::tsquery) AND numnode(q) > 0 AND p.opening = TRUE AND p.space_id IN (` + placeholders(len(spaceIDs)) + `)` + visible + `
			) c WHERE matched >= ?
			ORDER BY accepted_post_id <> '' DESC, matched DESC, rank DESC, id DESC LIMIT ?`
		args = append(args, TSQuery(terms, true, true), pgSpaceQuery(spaceIDs))
	default:
		query = `SELECT id, kind, title, accepted_post_id, reply_count FROM (
			SELECT t.id, t.kind, t.title, t.accepted_post_id, t.reply_count, bm25(post_fts, 10.0, 1.0, 0.0) AS rank, ` + strings.Join(matched, " + ") + ` AS matched
			FROM post_fts
			CROSS JOIN post_search_ids x ON x.rid = post_fts.rowid
			CROSS JOIN posts p ON p.org_id = x.org_id AND p.id = x.post_id
			CROSS JOIN threads t ON t.org_id = p.org_id AND t.id = p.thread_id
			WHERE post_fts MATCH ? AND p.opening = TRUE AND p.space_id IN (` + placeholders(len(spaceIDs)) + `)` + visible + `
			) WHERE matched >= ?
			ORDER BY accepted_post_id <> '' DESC, matched DESC, rank, id DESC LIMIT ?`
		args = append(args, fts5SpaceQuery(spaceIDs, terms, true, true))
	}
	for _, id := range spaceIDs {
		args = append(args, id)
	}
	args = append(append(append(args, Question), gateArgs...), minMatched(len(terms)), limit)
	return query, args
}

// minMatched is how many of n significant words a suggested question must
// hold: at least half of them.
func minMatched(n int) int { return (n + 1) / 2 }

// significant leaves out of terms the words too common to tell one post
// from another (stopWords).
func significant(terms []string) []string {
	var out []string
	for _, t := range terms {
		if !stopWords[t] {
			out = append(out, t)
		}
	}
	return out
}

// stopWords are the English words Postgres's 'english' configuration
// drops from documents and queries. Search leaves them out on SQLite too,
// whose stemmer keeps them, so both databases find the same posts; and a
// suggestion does not count them as words in common.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`i me my myself we our ours ourselves you your yours yourself yourselves
		he him his himself she her hers herself it its itself they them their theirs themselves what which who whom
		this that these those am is are was were be been being have has had having do does did doing a an the and
		but if or because as until while of at by for with about against between into through during before after
		above below to from up down in out on off over under again further then once here there when where why how
		all any both each few more most other some such no nor not only own same so than too very s t can will just
		don should now`) {
		m[w] = true
	}
	return m
}()

// BodyText is the text of a post's body as readers see it, without its
// Markdown: what search indexes and shows excerpts of.
func BodyText(body string) string { return markdown.PlainText(body, 0) }

// fillBatch is how many posts FillBodyText writes in one transaction.
const fillBatch = 200

// FillBodyText writes the text of the posts written before Roundtable
// kept it (migration 00032), a batch per transaction, which re-indexes
// each; until then their Markdown stands in. It returns how many posts
// it wrote. Run again, or by several replicas at once, it writes each
// post once: only posts without the text are read, in order, and a post
// edited meanwhile keeps the text its edit wrote.
func (s *Store) FillBodyText(ctx context.Context) (int, error) {
	total := 0
	lastOrg, lastID := "", ""
	for {
		type row struct{ OrgID, ID, Body string }
		var rows []row
		err := s.db.Tx(ctx, func(tx *gorm.DB) error {
			if err := tx.Raw(`SELECT org_id, id, body FROM posts
				WHERE body_text IS NULL AND (org_id > ? OR (org_id = ? AND id > ?))
				ORDER BY org_id, id LIMIT ?`, lastOrg, lastOrg, lastID, fillBatch).Scan(&rows).Error; err != nil {
				return err
			}
			for _, r := range rows {
				res := tx.Exec(`UPDATE posts SET body_text = ? WHERE org_id = ? AND id = ? AND body_text IS NULL`, BodyText(r.Body), r.OrgID, r.ID)
				if res.Error != nil {
					return res.Error
				}
				total += int(res.RowsAffected)
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("fill the text of posts: %w", err)
		}
		if len(rows) < fillBatch {
			return total, nil
		}
		lastOrg, lastID = rows[len(rows)-1].OrgID, rows[len(rows)-1].ID
	}
}

// ThreadRef names a thread: its id and title.
type ThreadRef struct {
	ID    string
	Title string
}

// Duplicates is how a thread is linked to others as a duplicate.
type Duplicates struct {
	// Of is the original, when the thread is a duplicate.
	Of *ThreadRef
	// Marked are the threads marked as duplicates of this one.
	Marked []ThreadRef
}

// MarkDuplicate marks a thread as a duplicate of another of the same space
// (staff only), or unmarks it when originalID is empty. There are no
// chains: a duplicate of a duplicate points to the original, and the
// thread's own duplicates move to the original too.
func (s *Store) MarkDuplicate(ctx context.Context, v Viewer, threadID, originalID string) error {
	if err := requireStaff(v); err != nil {
		return err
	}
	originalID = strings.TrimSpace(originalID)
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		if _, err := s.lockThread(tx, v, threadID); err != nil {
			return err
		}
		if originalID == "" {
			return tx.Exec(`UPDATE threads SET duplicate_of = '' WHERE org_id = ? AND id = ?`, v.OrgID, threadID).Error
		}
		var target, targetOf string
		err := tx.Raw(`SELECT id, duplicate_of FROM threads WHERE org_id = ? AND id = ? AND space_id = ?`,
			v.OrgID, originalID, v.SpaceID).Row().Scan(&target, &targetOf)
		if errors.Is(err, sql.ErrNoRows) {
			return roundtable.Errorf(roundtable.ENOTFOUND, "There is no such thread in this cohort's discussion to mark this one a duplicate of.")
		}
		if err != nil {
			return err
		}
		if targetOf != "" {
			target = targetOf
		}
		if target == threadID {
			return roundtable.Errorf(roundtable.EINVALID, "A thread cannot be a duplicate of itself.")
		}
		if err := tx.Exec(`UPDATE threads SET duplicate_of = ? WHERE org_id = ? AND id = ?`, target, v.OrgID, threadID).Error; err != nil {
			return err
		}
		return tx.Exec(`UPDATE threads SET duplicate_of = ? WHERE org_id = ? AND duplicate_of = ? AND space_id = ?`,
			target, v.OrgID, threadID, v.SpaceID).Error
	})
}
