package discussion

import (
	"context"
	"fmt"
	"strconv"
)

// Pages of a long thread. A thread page shows the opening post and up to
// RepliesPerPage replies to the thread, each with its own replies; a
// thread with more has pages, numbered from 1, oldest replies first. A
// link to a post names it (ReplyPage.At), so it opens on the page that
// shows it. A thread of RepliesPerPage replies or fewer, nested ones
// included, is read as before, in one statement; only a longer one asks
// which page and how many.

// RepliesPerPage is how many replies to a thread a page shows.
const RepliesPerPage = 100

// ReplyPage picks the page of a thread's replies to read.
type ReplyPage struct {
	// Number is the page's number, from 1 (0 is 1); past the last, the last.
	Number int
	// At, when set, names one of the thread's posts: the page is the one
	// that shows it (the first for the opening post or an unknown one).
	At string
}

// pageNumber is the number of the page a thread of more than one page
// shows for p.
func (s *Store) pageNumber(ctx context.Context, v Viewer, threadID string, p ReplyPage) (int, error) {
	if p.At == "" {
		return max(1, p.Number), nil
	}
	// The replies to the thread before the post's own (or its parent's).
	var before int
	err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM posts r
		WHERE r.org_id = ? AND r.thread_id = ? AND r.opening = FALSE AND r.parent_id = ''
		AND r.id < (SELECT CASE WHEN a.parent_id = '' THEN a.id ELSE a.parent_id END FROM posts a
			WHERE a.org_id = ? AND a.thread_id = ? AND a.id = ? AND a.opening = FALSE)`,
		v.OrgID, threadID, v.OrgID, threadID, p.At).Scan(&before)
	if err != nil {
		return 0, fmt.Errorf("page of a post: %w", err)
	}
	return before/RepliesPerPage + 1, nil
}

// threadPostsPage reads, as threadPosts does, the opening post and a page
// of replies with their own replies (arguments: platform and thread for
// the count of replies to the thread, threadPosts', then platform, thread
// and the page's offset).
var threadPostsPage = `SELECT ` + threadPostColumns + `,
		(SELECT COUNT(*) FROM posts r WHERE r.org_id = ? AND r.thread_id = ? AND r.opening = FALSE AND r.parent_id = '')` +
	threadPostsFrom + `
		AND (p.opening OR (CASE WHEN p.parent_id = '' THEN p.id ELSE p.parent_id END) IN (SELECT r.id FROM posts r
			WHERE r.org_id = ? AND r.thread_id = ? AND r.opening = FALSE AND r.parent_id = ''
			ORDER BY r.id LIMIT ` + strconv.Itoa(RepliesPerPage) + ` OFFSET ?))
		ORDER BY p.id`
