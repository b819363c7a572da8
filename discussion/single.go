package discussion

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Single reads: one post, or one thread as the list shows it, for pages
// that refresh a part of themselves (live updates) instead of reloading.
// Each is one query, and each reads exactly what Thread and List would
// show the same viewer, so a refreshed part never differs from a reload.

// Post returns one post of a thread as Thread shows it to v (hidden posts
// are placeholders to learners, anonymous authors unnamed to peers), with
// the thread it belongs to. It records no visit. A thread hidden from
// learners, another's thread to a learner who must post first, or a
// thread or post of another cohort or activity, is not found.
func (s *Store) Post(ctx context.Context, v Viewer, threadID, postID string) (Thread, Post, error) {
	var p Post
	var lastVisit, edited sql.NullTime
	var authorID, name, pseudonym, roles string
	gate, gateArgs := othersGate(v)
	row := s.db.QueryRow(ctx, `SELECT `+threadColumns+`, vi.last_visit_at,
		p.id, p.parent_id, p.opening, p.author_id, p.anonymous, COALESCE(pu.name, ''), COALESCE(pu.pseudonym, ''), COALESCE(pm.roles, ''),
		p.body, p.vote_count, p.endorsed, p.deleted, p.edited_at, p.created_at, CASE WHEN pv.user_id IS NULL THEN 0 ELSE 1 END, p.hidden
		`+threadJoins+`
		JOIN posts p ON p.org_id = t.org_id AND p.space_id = t.space_id AND p.thread_id = t.id AND p.id = ?
		LEFT JOIN users pu ON pu.org_id = p.org_id AND pu.id = p.author_id
		LEFT JOIN memberships pm ON pm.org_id = p.org_id AND pm.course_id = ? AND pm.user_id = p.author_id
		LEFT JOIN post_votes pv ON pv.org_id = p.org_id AND pv.post_id = p.id AND pv.user_id = ?
		WHERE t.org_id = ? AND t.id = ? AND t.space_id = ?`+gate,
		append([]any{v.UserID, v.UserID, postID, v.CourseID, v.UserID, v.OrgID, threadID, v.SpaceID}, gateArgs...)...)
	t, _, err := scanThread(row, v, &lastVisit,
		&p.ID, &p.ParentID, &p.Opening, &authorID, &p.Author.Anonymous, &name, &pseudonym, &roles,
		&p.Body, &p.Votes, &p.Endorsed, &p.Deleted, &edited, &p.CreatedAt, &p.Voted, &p.Hidden)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && t.Hidden && !v.Staff) {
		return Thread{}, Post{}, errPostNotFound
	}
	if err != nil {
		return Thread{}, Post{}, fmt.Errorf("post: %w", err)
	}
	// As Thread does, so the post reads the same as on a reload.
	if p.Hidden && !v.Staff {
		p.Body, p.Endorsed = "", false
	}
	p.ThreadID = t.ID
	p.Author = author(v, authorID, name, pseudonym, roles, p.Author.Anonymous)
	if edited.Valid {
		p.Edited, p.EditedAt = true, edited.Time
	}
	p.Accepted = p.ID == t.AcceptedPostID
	p.New = lastVisit.Valid && p.CreatedAt.After(lastVisit.Time) && !p.Author.Mine
	return t, p, nil
}

// ListedThread returns one thread as List shows it to v. A thread List
// leaves out (hidden from learners, another's to a learner who must post
// first) or of another cohort or activity is not found.
func (s *Store) ListedThread(ctx context.Context, v Viewer, threadID string) (Thread, error) {
	gate, gateArgs := othersGate(v)
	row := s.db.QueryRow(ctx, `SELECT `+threadColumns+` `+threadJoins+`
		WHERE t.org_id = ? AND t.id = ? AND t.space_id = ?`+gate,
		append([]any{v.UserID, v.UserID, v.OrgID, threadID, v.SpaceID}, gateArgs...)...)
	t, _, err := scanThread(row, v)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && t.Hidden && !v.Staff) {
		return Thread{}, errThreadNotFound
	}
	if err != nil {
		return Thread{}, fmt.Errorf("thread: %w", err)
	}
	return t, nil
}
