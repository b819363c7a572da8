package discussion

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxDuplicateCandidates bounds the threads DuplicateCandidates lists.
const MaxDuplicateCandidates = 20

// minDuplicateQuery is the fewest characters of a title search: one
// letter would list most of the space.
const minDuplicateQuery = 2

// DuplicateCandidates lists the threads of the viewer's space whose title
// holds q (any case), newest first: the threads staff may mark threadID a
// duplicate of. Left out are threadID itself, threads hidden by moderators
// or whose opening post was removed (nobody should be sent there), and
// threads already marked as duplicates (their original is listed
// instead). Staff only.
//
// It is a plain title match, not the full-text search: staff type words
// they saw in a title, and a substring finds "merge" in "Merge conflicts"
// and in "merging" alike.
func (s *Store) DuplicateCandidates(ctx context.Context, v Viewer, threadID, q string) ([]ThreadRef, error) {
	if err := requireStaff(v); err != nil {
		return nil, err
	}
	q = strings.Join(strings.Fields(q), " ")
	if utf8.RuneCountInString(q) < minDuplicateQuery {
		return nil, nil
	}
	pattern := "%" + likeEscaper.Replace(strings.ToLower(q)) + "%"
	rows, err := s.db.SQL.QueryContext(ctx, s.db.Rebind(`SELECT t.id, t.title
		FROM threads t
		JOIN posts op ON op.org_id = t.org_id AND op.id = t.opening_post_id
		WHERE t.org_id = ? AND t.space_id = ? AND t.id <> ? AND t.hidden = FALSE AND t.duplicate_of = ''
		AND op.deleted = FALSE AND LOWER(t.title) LIKE ? ESCAPE '!'
		ORDER BY t.id DESC LIMIT ?`), v.OrgID, v.SpaceID, threadID, pattern, MaxDuplicateCandidates)
	if err != nil {
		return nil, fmt.Errorf("duplicate candidates: %w", err)
	}
	defer rows.Close()
	var out []ThreadRef
	for rows.Next() {
		var t ThreadRef
		if err := rows.Scan(&t.ID, &t.Title); err != nil {
			return nil, fmt.Errorf("duplicate candidates: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// likeEscaper escapes what LIKE would read as wildcards, with '!' as the
// escape character (a backslash means different things to the two
// databases' string literals).
var likeEscaper = strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
