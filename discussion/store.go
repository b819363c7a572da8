package discussion

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/activity"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/memo"
	"github.com/roundtable-lms/roundtable/internal/store"
)

// Store reads and writes discussions.
type Store struct {
	db  *store.DB
	Now func() time.Time
	// PostsPerMinute bounds how many threads and replies a learner may post
	// in a minute; 0 or less means no bound.
	PostsPerMinute int
	// OnParticipation, when set, runs inside the transaction of every change
	// that may move what the named people have done in an activity (threads,
	// replies, accepted answers, upvotes received): completion and grades
	// follow in the same commit.
	OnParticipation func(ctx context.Context, tx *gorm.DB, orgID, linkID string, userIDs []string) error

	// newcomers are people just created by a launch this process recorded,
	// whose standing in a space their first page knows without reading
	// (see NewPerson).
	newcomers memo.Map[newcomerKey, struct{}]
}

type newcomerKey struct{ spaceID, userID string }

// participationChanged tells OnParticipation whose participation may have
// moved.
func (s *Store) participationChanged(ctx context.Context, tx *gorm.DB, v Viewer, userIDs ...string) error {
	if s.OnParticipation == nil {
		return nil
	}
	return s.OnParticipation(ctx, tx, v.OrgID, v.LinkID, userIDs)
}

// NewStore returns a discussion store on db.
func NewStore(db *store.DB) *Store {
	return &Store{db: db, Now: time.Now, PostsPerMinute: DefaultPostsPerMinute}
}

func (s *Store) now() time.Time { return s.Now().UTC() }

var errThreadNotFound = roundtable.Errorf(roundtable.ENOTFOUND, "That thread does not exist in your cohort's discussion.")
var errPostNotFound = roundtable.Errorf(roundtable.ENOTFOUND, "That post does not exist in your cohort's discussion.")

// threadRow is what writes need to know of a thread.
type threadRow struct {
	ID, Kind, AuthorID, OpeningPostID, AcceptedPostID string
	Locked, Closed, Hidden                            bool
	ReplyCount                                        int
}

func (s *Store) lockThread(tx *gorm.DB, v Viewer, id string) (threadRow, error) {
	var t threadRow
	err := tx.Raw(`SELECT id, kind, author_id, opening_post_id, accepted_post_id, locked, closed, hidden, reply_count
		FROM threads WHERE org_id = ? AND id = ? AND space_id = ?`, v.OrgID, id, v.SpaceID).
		Row().Scan(&t.ID, &t.Kind, &t.AuthorID, &t.OpeningPostID, &t.AcceptedPostID, &t.Locked, &t.Closed, &t.Hidden, &t.ReplyCount)
	// A thread hidden by moderators is, to learners, not there.
	if errors.Is(err, sql.ErrNoRows) || (err == nil && t.Hidden && !v.Staff) {
		return t, errThreadNotFound
	}
	if err == nil {
		err = checkOthers(tx, v, t.AuthorID)
	}
	return t, err
}

type postRow struct {
	ID, ThreadID, ParentID, AuthorID, Body string
	Opening, Deleted, Endorsed, Hidden     bool
}

func (s *Store) findPost(tx *gorm.DB, v Viewer, id string) (postRow, error) {
	var p postRow
	err := tx.Raw(`SELECT id, thread_id, parent_id, author_id, body, opening, deleted, endorsed, hidden
		FROM posts WHERE org_id = ? AND id = ? AND space_id = ?`, v.OrgID, id, v.SpaceID).
		Row().Scan(&p.ID, &p.ThreadID, &p.ParentID, &p.AuthorID, &p.Body, &p.Opening, &p.Deleted, &p.Endorsed, &p.Hidden)
	// A post hidden by moderators is, to learners, not there.
	if errors.Is(err, sql.ErrNoRows) || (err == nil && p.Hidden && !v.Staff) {
		return p, errPostNotFound
	}
	if err == nil {
		err = checkOthers(tx, v, p.AuthorID)
	}
	return p, err
}

func (s *Store) checkRate(tx *gorm.DB, v Viewer, now time.Time) error {
	if s.PostsPerMinute <= 0 || v.Staff {
		return nil
	}
	var n int
	if err := tx.Raw(`SELECT COUNT(*) FROM posts WHERE org_id = ? AND author_id = ? AND created_at > ?`,
		v.OrgID, v.UserID, now.Add(-time.Minute)).Row().Scan(&n); err != nil {
		return err
	}
	if n >= s.PostsPerMinute {
		return roundtable.Errorf(roundtable.ELIMITED, "You have posted %d times in the last minute, the most we allow. Wait a minute, then post again; your text is kept below.", n)
	}
	return nil
}

func event(tx *gorm.DB, v Viewer, userID, kind, threadID, postID string, now time.Time) error {
	return tx.Exec(`INSERT INTO participation_events (org_id, id, course_id, link_id, cohort_id, space_id, user_id, kind, thread_id, post_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, v.OrgID, store.NewID(), v.CourseID, v.LinkID, v.CohortID, v.SpaceID, userID, kind, threadID, postID, now).Error
}

func follow(tx *gorm.DB, v Viewer, threadID string, now time.Time) error {
	return tx.Exec(`INSERT INTO thread_follows (org_id, thread_id, user_id, cohort_id, space_id, created_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (org_id, thread_id, user_id) DO NOTHING`, v.OrgID, threadID, v.UserID, v.CohortID, v.SpaceID, now).Error
}

// CreateThread starts a thread with its opening post; the author follows it.
func (s *Store) CreateThread(ctx context.Context, v Viewer, in ThreadInput) (string, error) {
	tags, err := in.Validate()
	if err != nil {
		return "", err
	}
	now := s.now()
	threadID, postID := store.NewID(), store.NewID()
	err = s.db.Tx(ctx, func(tx *gorm.DB) error {
		if err := checkSuspended(tx, v); err != nil {
			return err
		}
		if err := checkAnonymous(tx, v, in.Anonymous); err != nil {
			return err
		}
		if err := s.checkRate(tx, v, now); err != nil {
			return err
		}
		if err := tx.Exec(`INSERT INTO threads (org_id, id, course_id, link_id, cohort_id, space_id, kind, title, tags, author_id, anonymous,
			opening_post_id, last_post_id, last_activity_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			v.OrgID, threadID, v.CourseID, v.LinkID, v.CohortID, v.SpaceID, in.Kind, in.Title, strings.Join(tags, " "), v.UserID, in.Anonymous,
			postID, postID, now, now).Error; err != nil {
			return err
		}
		if err := insertPost(tx, v, postID, threadID, "", true, in.Body, in.Anonymous, now); err != nil {
			return err
		}
		for _, tag := range tags {
			if err := tx.Exec(`INSERT INTO thread_tags (org_id, cohort_id, space_id, thread_id, tag) VALUES (?, ?, ?, ?, ?)`,
				v.OrgID, v.CohortID, v.SpaceID, threadID, tag).Error; err != nil {
				return err
			}
		}
		if err := follow(tx, v, threadID, now); err != nil {
			return err
		}
		if err := event(tx, v, v.UserID, EventThreadCreated, threadID, postID, now); err != nil {
			return err
		}
		if err := s.participationChanged(ctx, tx, v, v.UserID); err != nil {
			return err
		}
		return notifyThread(tx, v, threadID, postID, in.Body, in.Anonymous, now)
	})
	if err != nil {
		return "", fmt.Errorf("create thread: %w", err)
	}
	return threadID, nil
}

func insertPost(tx *gorm.DB, v Viewer, id, threadID, parentID string, opening bool, body string, anonymous bool, now time.Time) error {
	if err := tx.Exec(`INSERT INTO posts (org_id, id, cohort_id, link_id, space_id, thread_id, parent_id, opening, author_id, anonymous, body, body_text, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, v.OrgID, id, v.CohortID, v.LinkID, v.SpaceID, threadID, parentID, opening, v.UserID, anonymous, body, BodyText(body), now).Error; err != nil {
		return err
	}
	return linkAttachments(tx, v, id, body)
}

// Reply adds a reply to a thread, or to a top-level reply (a reply to a
// nested reply joins its parent: one level of nesting). It returns the
// new post's id.
func (s *Store) Reply(ctx context.Context, v Viewer, threadID string, in ReplyInput) (string, error) {
	if err := validBody(&in.Body); err != nil {
		return "", err
	}
	now := s.now()
	postID := store.NewID()
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		t, err := s.lockThread(tx, v, threadID)
		if err != nil {
			return err
		}
		if err := checkSuspended(tx, v); err != nil {
			return err
		}
		if err := checkAnonymous(tx, v, in.Anonymous); err != nil {
			return err
		}
		if !v.Staff && (t.Locked || t.Closed) {
			return roundtable.Errorf(roundtable.EFORBIDDEN, "This thread is %s: it takes no new replies.", map[bool]string{true: "locked", false: "closed"}[t.Locked])
		}
		parent, parentAuthor := "", ""
		if in.ParentID != "" {
			p, err := s.findPost(tx, v, in.ParentID)
			if err != nil || p.ThreadID != threadID || p.Opening {
				return fieldErr("body", roundtable.EINVALID, "The reply you answered is not in this thread.")
			}
			parent, parentAuthor = p.ID, p.AuthorID
			if p.ParentID != "" {
				parent = p.ParentID
			}
		}
		if err := s.checkRate(tx, v, now); err != nil {
			return err
		}
		if err := insertPost(tx, v, postID, threadID, parent, false, in.Body, in.Anonymous, now); err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE threads SET reply_count = reply_count + 1, last_post_id = ?, last_activity_at = ?
			WHERE org_id = ? AND id = ?`, postID, now, v.OrgID, threadID).Error; err != nil {
			return err
		}
		if err := follow(tx, v, threadID, now); err != nil {
			return err
		}
		if err := event(tx, v, v.UserID, EventReplyCreated, threadID, postID, now); err != nil {
			return err
		}
		if err := s.participationChanged(ctx, tx, v, v.UserID); err != nil {
			return err
		}
		return notifyReply(tx, v, t, parentAuthor, postID, in.Body, in.Anonymous, now)
	})
	if err != nil {
		return "", fmt.Errorf("reply: %w", err)
	}
	return postID, nil
}

// Edit replaces a post's body (and the thread's title, for an opening
// post, when title is not empty), keeping the earlier version.
func (s *Store) Edit(ctx context.Context, v Viewer, postID, title, body string) error {
	if err := validBody(&body); err != nil {
		return err
	}
	title = strings.TrimSpace(title)
	now := s.now()
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		p, err := s.findPost(tx, v, postID)
		if err != nil {
			return err
		}
		if p.Deleted {
			return roundtable.Errorf(roundtable.EINVALID, "A removed post cannot be edited.")
		}
		t, err := s.lockThread(tx, v, p.ThreadID)
		if err != nil {
			return err
		}
		if !v.Staff && (p.AuthorID != v.UserID || t.Locked) {
			return roundtable.Errorf(roundtable.EFORBIDDEN, "You can edit only your own posts, in threads that are not locked.")
		}
		if err := checkSuspended(tx, v); err != nil {
			return err
		}
		if err := checkRevisions(tx, v, p.ID); err != nil {
			return err
		}
		var oldTitle string
		if p.Opening {
			if err := tx.Raw(`SELECT title FROM threads WHERE org_id = ? AND id = ?`, v.OrgID, t.ID).Row().Scan(&oldTitle); err != nil {
				return err
			}
			if title != "" && title != oldTitle {
				in := ThreadInput{Kind: t.Kind, Title: title, Body: body}
				if _, err := in.Validate(); err != nil {
					return err
				}
				if err := tx.Exec(`UPDATE threads SET title = ? WHERE org_id = ? AND id = ?`, in.Title, v.OrgID, t.ID).Error; err != nil {
					return err
				}
			}
		}
		if err := tx.Exec(`INSERT INTO post_revisions (org_id, id, cohort_id, space_id, post_id, title, body, editor_id, reason, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'edit', ?)`, v.OrgID, store.NewID(), v.CohortID, v.SpaceID, p.ID, oldTitle, p.Body, v.UserID, now).Error; err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE posts SET body = ?, body_text = ?, edited_at = ? WHERE org_id = ? AND id = ?`, body, BodyText(body), now, v.OrgID, p.ID).Error; err != nil {
			return err
		}
		return linkAttachments(tx, v, p.ID, body)
	})
}

// Delete removes a post's text, leaving a placeholder so its replies stay;
// the text is kept in the post's history.
func (s *Store) Delete(ctx context.Context, v Viewer, postID string) error {
	now := s.now()
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		p, err := s.findPost(tx, v, postID)
		if err != nil {
			return err
		}
		if !v.Staff && p.AuthorID != v.UserID {
			return roundtable.Errorf(roundtable.EFORBIDDEN, "You can remove only your own posts.")
		}
		if p.Deleted {
			return nil
		}
		if err := tx.Exec(`INSERT INTO post_revisions (org_id, id, cohort_id, space_id, post_id, body, editor_id, reason, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 'delete', ?)`, v.OrgID, store.NewID(), v.CohortID, v.SpaceID, p.ID, p.Body, v.UserID, now).Error; err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE threads SET accepted_post_id = '' WHERE org_id = ? AND id = ? AND accepted_post_id = ?`,
			v.OrgID, p.ThreadID, p.ID).Error; err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE posts SET body = '', body_text = '', deleted = TRUE, endorsed = FALSE WHERE org_id = ? AND id = ?`, v.OrgID, p.ID).Error; err != nil {
			return err
		}
		return s.participationChanged(ctx, tx, v, p.AuthorID)
	})
}

// ToggleVote upvotes a post, or takes the viewer's upvote back: one vote
// per person per post. It reports whether the viewer now votes for it.
func (s *Store) ToggleVote(ctx context.Context, v Viewer, postID string) (bool, error) {
	now := s.now()
	voted := false
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		p, err := s.findPost(tx, v, postID)
		if err != nil {
			return err
		}
		if p.Deleted {
			return roundtable.Errorf(roundtable.EINVALID, "A removed post cannot be upvoted.")
		}
		if p.AuthorID == v.UserID {
			return roundtable.Errorf(roundtable.EINVALID, "You cannot upvote your own post.")
		}
		if err := checkSuspended(tx, v); err != nil {
			return err
		}
		res := tx.Exec(`DELETE FROM post_votes WHERE org_id = ? AND post_id = ? AND user_id = ?`, v.OrgID, p.ID, v.UserID)
		if res.Error != nil {
			return res.Error
		}
		delta := -1
		if res.RowsAffected == 0 {
			delta, voted = 1, true
			if err := tx.Exec(`INSERT INTO post_votes (org_id, post_id, user_id, cohort_id, space_id, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
				v.OrgID, p.ID, v.UserID, v.CohortID, v.SpaceID, now).Error; err != nil {
				return err
			}
			if err := event(tx, v, p.AuthorID, EventUpvoteReceived, p.ThreadID, p.ID, now); err != nil {
				return err
			}
		}
		if err := tx.Exec(`UPDATE posts SET vote_count = vote_count + ? WHERE org_id = ? AND id = ?`, delta, v.OrgID, p.ID).Error; err != nil {
			return err
		}
		if err := s.participationChanged(ctx, tx, v, p.AuthorID); err != nil {
			return err
		}
		if p.Opening {
			return tx.Exec(`UPDATE threads SET vote_count = vote_count + ? WHERE org_id = ? AND id = ?`, delta, v.OrgID, p.ThreadID).Error
		}
		return nil
	})
	return voted, err
}

// Accept marks a reply as a question's accepted answer, or un-marks it when
// it already is, and reports which. Only the asker and staff may.
func (s *Store) Accept(ctx context.Context, v Viewer, postID string) (accepted bool, err error) {
	now := s.now()
	err = s.db.Tx(ctx, func(tx *gorm.DB) error {
		p, err := s.findPost(tx, v, postID)
		if err != nil {
			return err
		}
		t, err := s.lockThread(tx, v, p.ThreadID)
		if err != nil {
			return err
		}
		if !v.Staff && t.AuthorID != v.UserID {
			return roundtable.Errorf(roundtable.EFORBIDDEN, "Only the person who asked and the course staff can accept an answer.")
		}
		if t.Kind != Question || p.Opening || p.Deleted {
			return roundtable.Errorf(roundtable.EINVALID, "Only a reply to a question can be its accepted answer.")
		}
		if err := checkSuspended(tx, v); err != nil {
			return err
		}
		id := p.ID
		if t.AcceptedPostID == p.ID {
			id = ""
		} else if err := checkAcceptable(v, t, p); err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE threads SET accepted_post_id = ? WHERE org_id = ? AND id = ?`, id, v.OrgID, t.ID).Error; err != nil {
			return err
		}
		// The author of the answer accepted before loses it.
		changed := []string{p.AuthorID}
		if t.AcceptedPostID != "" && t.AcceptedPostID != p.ID {
			var previous string
			if err := tx.Raw(`SELECT author_id FROM posts WHERE org_id = ? AND id = ?`, v.OrgID, t.AcceptedPostID).Scan(&previous).Error; err != nil {
				return err
			}
			changed = append(changed, previous)
		}
		if err := s.participationChanged(ctx, tx, v, changed...); err != nil {
			return err
		}
		if accepted = id != ""; !accepted {
			return nil
		}
		if err := event(tx, v, p.AuthorID, EventAnswerAccepted, t.ID, p.ID, now); err != nil {
			return err
		}
		return notifyAccepted(tx, v, t.ID, p.ID, p.AuthorID, now)
	})
	return accepted, err
}

// checkAcceptable refuses an answer nobody else gave: one's own reply,
// and a reply by the person who asked. Taking back such an answer, accepted
// before Roundtable refused them, stays possible; it never counted.
func checkAcceptable(v Viewer, t threadRow, p postRow) error {
	switch {
	case p.AuthorID == v.UserID:
		return roundtable.Errorf(roundtable.EINVALID, "You cannot accept your own reply: an accepted answer is one someone else gave.")
	case p.AuthorID == t.AuthorID:
		return roundtable.Errorf(roundtable.EINVALID, "A reply by the person who asked cannot be the accepted answer of their own question.")
	}
	return nil
}

func requireStaff(v Viewer) error {
	if !v.Staff {
		return roundtable.Errorf(roundtable.EFORBIDDEN, "Only instructors and teaching assistants can do that.")
	}
	return nil
}

// Endorse toggles staff endorsement of a post.
func (s *Store) Endorse(ctx context.Context, v Viewer, postID string) error {
	if err := requireStaff(v); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		p, err := s.findPost(tx, v, postID)
		if err != nil {
			return err
		}
		if p.Deleted {
			return roundtable.Errorf(roundtable.EINVALID, "A removed post cannot be endorsed.")
		}
		if err := tx.Exec(`UPDATE posts SET endorsed = ? WHERE org_id = ? AND id = ?`, !p.Endorsed, v.OrgID, p.ID).Error; err != nil {
			return err
		}
		action := ActionEndorse
		if p.Endorsed {
			action = ActionUnendorse
		}
		return logAction(tx, v, s.now(), action, p.ThreadID, p.ID, "", "")
	})
}

// SetFlag pins, locks or closes a thread (on) or undoes it; staff only.
func (s *Store) SetFlag(ctx context.Context, v Viewer, threadID, flag string, on bool) error {
	if err := requireStaff(v); err != nil {
		return err
	}
	return s.setThreadFlag(ctx, v, threadID, flag, on, "")
}

// Follow makes the viewer follow a thread (on) or stop following it.
func (s *Store) Follow(ctx context.Context, v Viewer, threadID string, on bool) error {
	now := s.now()
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		if _, err := s.lockThread(tx, v, threadID); err != nil {
			return err
		}
		if on {
			return follow(tx, v, threadID, now)
		}
		return tx.Exec(`DELETE FROM thread_follows WHERE org_id = ? AND thread_id = ? AND user_id = ?`, v.OrgID, threadID, v.UserID).Error
	})
}

// Revisions lists a post's earlier versions, oldest first.
func (s *Store) Revisions(ctx context.Context, v Viewer, postID string) ([]Revision, error) {
	var out []Revision
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		p, err := s.findPost(tx, v, postID)
		if err != nil {
			return err
		}
		if p.Deleted && !v.Staff {
			return errPostNotFound
		}
		rows, err := tx.Raw(`SELECT id, title, body, editor_id, reason, created_at, redacted_at FROM post_revisions
			WHERE org_id = ? AND post_id = ? ORDER BY id`, v.OrgID, p.ID).Rows()
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r Revision
			var redacted sql.NullTime
			if err := rows.Scan(&r.ID, &r.Title, &r.Body, &r.EditorID, &r.Reason, &r.CreatedAt, &redacted); err != nil {
				return err
			}
			r.Redacted, r.RedactedAt = redacted.Valid, redacted.Time
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, err
}

var threadColumns = `t.id, t.kind, t.title, t.tags, t.author_id, t.anonymous, COALESCE(u.name, ''), COALESCE(u.pseudonym, ''), COALESCE(m.roles, ''),
	t.opening_post_id, t.accepted_post_id, t.pinned, t.locked, t.closed, t.reply_count, t.vote_count,
	t.last_post_id, t.last_activity_at, t.created_at, COALESCE(vi.seen_posts, 0), CASE WHEN f.user_id IS NULL THEN 0 ELSE 1 END,
	t.hidden, t.hidden_replies, t.duplicate_of, ` + originalOf("title") + `, ` + originalOf("hidden")

// originalOf is a column of the original a thread t duplicates, NULL when
// it duplicates none: a subquery asked only of duplicates (a join made
// Postgres hash every thread of the platform for a page of 25).
func originalOf(col string) string {
	return `CASE WHEN t.duplicate_of <> '' THEN (SELECT o.` + col + ` FROM threads o
		WHERE o.org_id = t.org_id AND o.id = t.duplicate_of AND o.space_id = t.space_id) END`
}

const threadJoins = `FROM threads t ` + threadDetails

// threadDetails joins a thread t with its author and the viewer's visit
// and follow (the viewer's id twice).
const threadDetails = `LEFT JOIN users u ON u.org_id = t.org_id AND u.id = t.author_id
	LEFT JOIN memberships m ON m.org_id = t.org_id AND m.course_id = t.course_id AND m.user_id = t.author_id
	LEFT JOIN thread_visits vi ON vi.org_id = t.org_id AND vi.thread_id = t.id AND vi.user_id = ?
	LEFT JOIN thread_follows f ON f.org_id = t.org_id AND f.thread_id = t.id AND f.user_id = ?`

func author(v Viewer, id, name, pseudonym, roles string, anonymous bool) Author {
	if name == "" {
		name = pseudonym
	}
	a := Author{ID: id, Name: name, Anonymous: anonymous, Mine: id == v.UserID, Staff: course.ParseRoles(roles).IsStaff()}
	if anonymous && !v.Staff && !a.Mine {
		a.ID, a.Name, a.Staff = "", "", false
	}
	return a
}

type scanner interface{ Scan(dest ...any) error }

func scanThread(r scanner, v Viewer, extra ...any) (Thread, string, error) {
	var t Thread
	var tags, authorID, name, pseudonym, roles, lastPost string
	var seen, hiddenReplies int
	var duplicateOf string
	var originalTitle sql.NullString
	var originalHidden sql.NullBool
	dest := []any{&t.ID, &t.Kind, &t.Title, &tags, &authorID, &t.Author.Anonymous, &name, &pseudonym, &roles,
		&t.OpeningPostID, &t.AcceptedPostID, &t.Pinned, &t.Locked, &t.Closed, &t.Replies, &t.Votes,
		&lastPost, &t.LastActivity, &t.CreatedAt, &seen, &t.Following, &t.Hidden, &hiddenReplies,
		&duplicateOf, &originalTitle, &originalHidden}
	if err := r.Scan(append(dest, extra...)...); err != nil {
		return t, "", err
	}
	if originalTitle.Valid && (v.Staff || !originalHidden.Bool) {
		t.Original = ThreadRef{ID: duplicateOf, Title: originalTitle.String}
	}
	t.Tags = strings.Fields(tags)
	t.Author = author(v, authorID, name, pseudonym, roles, t.Author.Anonymous)
	// Unread counts every post, hidden or not, as visits record them.
	t.allReplies = t.Replies
	t.Unread = max(0, t.Replies+1-seen)
	if !v.Staff {
		// Learners do not see the replies moderators hid.
		t.Replies = max(0, t.Replies-hiddenReplies)
	}
	return t, lastPost, nil
}

// List returns a page of the space's threads, in one query.
func (s *Store) List(ctx context.Context, v Viewer, q ListQuery) (ThreadList, error) {
	if q.Limit <= 0 || q.Limit > 100 {
		q.Limit = DefaultPage
	}
	var where strings.Builder
	args := []any{v.SpaceID}
	where.WriteString(` WHERE t.space_id = ?`)
	if !v.Staff {
		where.WriteString(` AND t.hidden = FALSE`)
	}
	gate, gateArgs := othersGate(v)
	where.WriteString(gate)
	args = append(args, gateArgs...)
	if q.Tag != "" {
		// The space lets the tag's index find its threads.
		where.WriteString(` AND EXISTS (SELECT 1 FROM thread_tags g WHERE g.space_id = t.space_id AND g.tag = ? AND g.thread_id = t.id)`)
		args = append(args, strings.ToLower(q.Tag))
	}
	if q.Kind == Question || q.Kind == Discussion {
		where.WriteString(` AND t.kind = ?`)
		args = append(args, q.Kind)
	}
	if q.Mine {
		where.WriteString(` AND t.author_id = ?`)
		args = append(args, v.UserID)
	}
	if q.Following {
		where.WriteString(` AND EXISTS (SELECT 1 FROM thread_follows fw WHERE fw.org_id = t.org_id AND fw.thread_id = t.id AND fw.user_id = ?)`)
		args = append(args, v.UserID)
	}
	// A cursor compares rows, (a, b) < (x, y), which the sort's index
	// seeks to; spelled out as a < x OR (a = x AND b < y) it was a filter
	// that read every thread of the pages before.
	c, hasCursor := decodeCursor(q.Cursor)
	var order string
	switch q.Sort {
	case SortNewest:
		order = `t.id DESC`
		if hasCursor {
			where.WriteString(` AND t.id < ?`)
			args = append(args, c.id)
		}
	case SortTop:
		order = `t.vote_count DESC, t.id DESC`
		if hasCursor {
			n, _ := strconv.Atoi(c.key)
			where.WriteString(` AND (t.vote_count, t.id) < (?, ?)`)
			args = append(args, n, c.id)
		}
	case SortUnanswered:
		where.WriteString(` AND t.kind = 'question' AND t.accepted_post_id = '' AND t.closed = FALSE`)
		order = `t.id ASC`
		if hasCursor {
			where.WriteString(` AND t.id > ?`)
			args = append(args, c.id)
		}
	default:
		q.Sort = SortActivity
		order = `t.pinned DESC, t.last_post_id DESC`
		if hasCursor {
			pinned := c.key == "1"
			where.WriteString(` AND (t.pinned, t.last_post_id) < (?, ?)`)
			args = append(args, pinned, c.id)
		}
	}
	// The page's threads are chosen first and only they are joined with
	// their authors, visits and follows (joining first made Postgres hash
	// the whole space for a filtered list). The limit is part of the text,
	// not a parameter: with a parameter Postgres cannot cost a reusable
	// plan (it guesses a tenth of the rows) and planned this query anew
	// for every page, 1.7 ms of its CPU for 0.9 ms of execution.
	args = append(args, v.UserID, v.UserID)
	rows, err := s.db.SQL.QueryContext(ctx, s.db.Rebind(`SELECT `+threadColumns+` FROM (SELECT t.* FROM threads t`+where.String()+
		` ORDER BY `+order+` LIMIT `+strconv.Itoa(q.Limit+1)+`) t `+threadDetails+` ORDER BY `+order), args...)
	if err != nil {
		return ThreadList{}, fmt.Errorf("list threads: %w", err)
	}
	defer rows.Close()
	var out ThreadList
	var lastPosts []string
	for rows.Next() {
		t, lastPost, err := scanThread(rows, v)
		if err != nil {
			return ThreadList{}, fmt.Errorf("list threads: %w", err)
		}
		out.Threads = append(out.Threads, t)
		lastPosts = append(lastPosts, lastPost)
	}
	if err := rows.Err(); err != nil {
		return ThreadList{}, fmt.Errorf("list threads: %w", err)
	}
	if len(out.Threads) > q.Limit {
		out.Threads = out.Threads[:q.Limit]
		last := out.Threads[q.Limit-1]
		switch q.Sort {
		case SortTop:
			out.Next = encodeCursor(cursor{key: strconv.Itoa(last.Votes), id: last.ID})
		case SortActivity:
			key := "0"
			if last.Pinned {
				key = "1"
			}
			out.Next = encodeCursor(cursor{key: key, id: lastPosts[q.Limit-1]})
		default:
			out.Next = encodeCursor(cursor{id: last.ID})
		}
	}
	return out, nil
}

type cursor struct{ key, id string }

func encodeCursor(c cursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.key + "|" + c.id))
}

func decodeCursor(s string) (cursor, bool) {
	if s == "" || len(s) > 200 {
		return cursor{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, false
	}
	key, id, ok := strings.Cut(string(b), "|")
	return cursor{key: key, id: id}, ok && id != ""
}

// Thread returns a thread with its first page of posts (see ThreadPage).
func (s *Store) Thread(ctx context.Context, v Viewer, threadID string) (ThreadView, error) {
	return s.ThreadPage(ctx, v, threadID, ReplyPage{})
}

// ThreadPage returns a thread with its opening post and a page of its
// replies (all of them when they fit on one), in two queries (three to
// find the page that shows a post), and records the viewer's visit.
func (s *Store) ThreadPage(ctx context.Context, v Viewer, threadID string, page ReplyPage) (ThreadView, error) {
	var tv ThreadView
	var lastVisit sql.NullTime
	// The same statement answers what the page asks of the viewer and the
	// activity: whether they must post first (mustPostFirstCase), whether
	// they are suspended, whether posts may be anonymous, and the header's
	// count of unseen notifications. Each was a round trip of its own, and
	// under load each round trip waits for a core.
	var mustPostFirst, suspended bool
	// It also links the thread to the threads marked as its duplicates, a
	// JSON array of [id, title].
	var marked string
	row := s.db.QueryRow(ctx, `SELECT `+threadColumns+`, vi.last_visit_at,
		`+mustPostFirstCase+`,
		`+viewerSuspended+`,
		COALESCE((SELECT CASE WHEN (st.options -> 'allow_anonymous') = 'false' THEN FALSE ELSE TRUE END FROM activity_settings st WHERE st.org_id = t.org_id AND st.link_id = t.link_id), ?),
		(`+unreadCount+`),
		COALESCE((SELECT `+markedDuplicates[s.db.Dialect]+` FROM threads d
			WHERE d.org_id = t.org_id AND d.duplicate_of = t.id AND d.duplicate_of <> '' AND d.space_id = t.space_id`+hiddenMarked(v)+`), '')
		`+threadJoins+`
		WHERE t.org_id = ? AND t.id = ? AND t.space_id = ?`,
		append(mustPostFirstArgs(v), v.OrgID, v.CourseID, v.UserID, activity.DefaultDiscussion.AllowAnonymous,
			v.SpaceID, v.UserID, v.Staff, MaxUnreadCounted,
			v.UserID, v.UserID, v.OrgID, threadID, v.SpaceID)...)
	t, _, err := scanThread(row, v, &lastVisit, &mustPostFirst, &suspended, &tv.AnonymousAllowed, &tv.UnreadNotifications, &marked)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && t.Hidden && !v.Staff) {
		return tv, errThreadNotFound
	}
	if err != nil {
		return tv, fmt.Errorf("thread: %w", err)
	}
	if !t.Author.Mine && !v.Staff && !v.Observer && mustPostFirst {
		return tv, ErrPostFirst
	}
	tv.Suspended = suspended && !v.Staff
	tv.Thread = t
	if t.Original.ID != "" {
		tv.Duplicates.Of = &t.Original
	}
	if tv.Duplicates.Marked, err = parseThreadRefs(marked); err != nil {
		return tv, fmt.Errorf("thread duplicates: %w", err)
	}
	if lastVisit.Valid {
		tv.LastVisit = lastVisit.Time
	}
	visit := []any{v.OrgID, threadID, v.UserID, v.CohortID, v.SpaceID, t.allReplies + 1, s.now()}
	tv.Page, tv.Pages = 1, 1
	q, args := threadPosts, []any{v.CourseID, v.UserID, v.OrgID, threadID, v.SpaceID}
	if paged := t.allReplies > RepliesPerPage; paged {
		if tv.Page, err = s.pageNumber(ctx, v, threadID, page); err != nil {
			return tv, err
		}
		q, args = threadPostsPage, append([]any{v.OrgID, threadID}, append(args, v.OrgID, threadID, (tv.Page-1)*RepliesPerPage)...)
	}
	if s.db.Dialect == store.Postgres {
		q, args = recordVisitWith+q, append(visit, args...)
	}
	rows, err := s.db.SQL.QueryContext(ctx, s.db.Rebind(q), args...)
	if err != nil {
		return tv, fmt.Errorf("thread posts: %w", err)
	}
	defer rows.Close()
	index := map[string]int{}
	for rows.Next() {
		var p Post
		var authorID, name, pseudonym, roles string
		var edited sql.NullTime
		if err := rows.Scan(&p.ID, &p.ParentID, &p.Opening, &authorID, &p.Author.Anonymous, &name, &pseudonym, &roles,
			&p.Body, &p.Votes, &p.Endorsed, &p.Deleted, &edited, &p.CreatedAt, &p.Voted, &p.Hidden, &tv.TopReplies); err != nil {
			return tv, fmt.Errorf("thread posts: %w", err)
		}
		if p.Hidden && !v.Staff {
			// Hidden by moderators: to learners, a placeholder like a removed post.
			p.Body, p.Endorsed = "", false
		}
		p.ThreadID = threadID
		p.Author = author(v, authorID, name, pseudonym, roles, p.Author.Anonymous)
		if edited.Valid {
			p.Edited, p.EditedAt = true, edited.Time
		}
		p.Accepted = p.ID == t.AcceptedPostID
		p.New = !tv.LastVisit.IsZero() && p.CreatedAt.After(tv.LastVisit) && !p.Author.Mine
		switch {
		case p.Opening:
			tv.Opening = p
		case p.ParentID == "":
			index[p.ID] = len(tv.Replies)
			tv.Replies = append(tv.Replies, p)
		default:
			if i, ok := index[p.ParentID]; ok {
				tv.Replies[i].Children = append(tv.Replies[i].Children, p)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return tv, fmt.Errorf("thread posts: %w", err)
	}
	rows.Close()
	if tv.TopReplies == 0 {
		// One page: every reply was read.
		tv.TopReplies = len(tv.Replies)
	}
	tv.Pages = max(1, (tv.TopReplies+RepliesPerPage-1)/RepliesPerPage)
	if tv.Page > tv.Pages {
		// Past the last page (replies were removed since the link was made,
		// or the number was made up): the last.
		return s.ThreadPage(ctx, v, threadID, ReplyPage{Number: tv.Pages})
	}
	if s.db.Dialect != store.Postgres {
		_, err = s.db.SQL.ExecContext(ctx, recordVisit, visit...)
		if err != nil {
			return tv, fmt.Errorf("record visit: %w", err)
		}
	}
	return tv, nil
}

// threadPosts reads a thread's posts with their authors and the viewer's
// votes (arguments: course, viewer, platform, thread, space). The
// thread's id is a subquery so that Postgres estimates every thread the
// same: given the id, it re-planned the statement for each view (0.5 ms,
// a third of the statement's cost) because a reusable plan, costed for a
// thread of average size, looked dearer than one made for a thread that
// its statistics think small. The plan is the same either way.
//
// Its last column counts the thread's replies to the thread itself, which
// only a thread of more than one page asks (threadPostsPage); here 0.
const threadPosts = `SELECT ` + threadPostColumns + `, 0` + threadPostsFrom + ` ORDER BY p.id`

const threadPostColumns = `p.id, p.parent_id, p.opening, p.author_id, p.anonymous,
		COALESCE(u.name, ''), COALESCE(u.pseudonym, ''), COALESCE(m.roles, ''), p.body, p.vote_count, p.endorsed, p.deleted,
		p.edited_at, p.created_at, CASE WHEN pv.user_id IS NULL THEN 0 ELSE 1 END, p.hidden`

const threadPostsFrom = `
		FROM posts p
		LEFT JOIN users u ON u.org_id = p.org_id AND u.id = p.author_id
		LEFT JOIN memberships m ON m.org_id = p.org_id AND m.course_id = ? AND m.user_id = p.author_id
		LEFT JOIN post_votes pv ON pv.org_id = p.org_id AND pv.post_id = p.id AND pv.user_id = ?
		WHERE p.org_id = ? AND p.thread_id = (SELECT CAST(? AS TEXT)) AND p.space_id = ?`

// recordVisit upserts the viewer's visit: the posts seen and when. A
// visit that finds no post added since the last one writes nothing: the
// posts new to the viewer are those after the last visit that saw fewer,
// and re-reading a thread is most of its views.
const recordVisit = `INSERT INTO thread_visits (org_id, thread_id, user_id, cohort_id, space_id, seen_posts, last_visit_at) VALUES (?, ?, ?, ?, ?, ?, ?)
	` + visitConflict

const visitConflict = `ON CONFLICT (org_id, thread_id, user_id) DO UPDATE SET seen_posts = excluded.seen_posts, last_visit_at = excluded.last_visit_at
	WHERE thread_visits.seen_posts <> excluded.seen_posts`

// recordVisitWith opens threadPosts on Postgres: the posts are read and
// the visit recorded (recordVisit's arguments first) in one round trip.
// The visit's commit does not wait for the write-ahead log to reach disk (synchronous_commit off
// for this statement's transaction alone): that wait was 2 to 8 ms of
// every thread view, and a crash can at worst lose the last fraction of a
// second of visits, which shows a few posts as new again.
const recordVisitWith = `WITH visit AS (INSERT INTO thread_visits (org_id, thread_id, user_id, cohort_id, space_id, seen_posts, last_visit_at)
		SELECT ?, ?, ?, ?, ?, ?::integer, ?::timestamptz FROM (SELECT set_config('synchronous_commit', 'off', true)) relaxed
		` + visitConflict + `) `

// markedDuplicates aggregates threads d into a JSON array of [id, title],
// ordered by id.
var markedDuplicates = map[store.Dialect]string{
	store.SQLite:   `json_group_array(json_array(d.id, d.title) ORDER BY d.id)`,
	store.Postgres: `json_agg(json_build_array(d.id, d.title) ORDER BY d.id)::text`,
}

// hiddenMarked leaves out, for learners, marked duplicates (d) that
// moderators hid.
func hiddenMarked(v Viewer) string {
	if v.Staff {
		return ""
	}
	return ` AND d.hidden = FALSE`
}

// parseThreadRefs reads markedDuplicates' array.
func parseThreadRefs(js string) ([]ThreadRef, error) {
	if js == "" || js == "[]" {
		return nil, nil
	}
	var pairs [][2]string
	if err := json.Unmarshal([]byte(js), &pairs); err != nil {
		return nil, err
	}
	refs := make([]ThreadRef, len(pairs))
	for i, p := range pairs {
		refs[i] = ThreadRef{ID: p[0], Title: p[1]}
	}
	return refs, nil
}
