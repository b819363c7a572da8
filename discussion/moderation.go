package discussion

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/markdown"
	"github.com/roundtable-lms/roundtable/internal/store"
)

// Moderation: members flag posts; staff (instructors and teaching
// assistants of the course) work through the flags, hide and restore
// posts, lock threads and suspend learners from posting in the course.
// Every staff action is written to the moderation log in the transaction
// of the action itself.

// Reasons for flagging a post.
const (
	ReasonSpam     = "spam"
	ReasonOffTopic = "off-topic"
	ReasonUnkind   = "unkind"
	ReasonOther    = "other"
)

// MaxNote bounds a flag's note and a moderation action's reason.
const MaxNote = 500

// FlagReason is a reason to flag a post, with the words a form shows.
type FlagReason struct {
	Value, Label, Hint string
}

// FlagReasons are the reasons a member may give, in the order forms show them.
var FlagReasons = []FlagReason{
	{ReasonSpam, "Spam", "Advertising or posts unrelated to learning."},
	{ReasonOffTopic, "Off-topic", "Does not belong in this course's discussion."},
	{ReasonUnkind, "Unkind", "Rude, harassing or disrespectful to someone."},
	{ReasonOther, "Something else", "Tell the staff what is wrong in the note."},
}

// ReasonLabel is the label of a flag reason.
func ReasonLabel(reason string) string {
	for _, r := range FlagReasons {
		if r.Value == reason {
			return r.Label
		}
	}
	return reason
}

// FlagInput is a member's flag of a post.
type FlagInput struct {
	Reason string
	Note   string
}

// Validate checks the reason and the note's length.
func (in *FlagInput) Validate() error {
	known := false
	for _, r := range FlagReasons {
		known = known || r.Value == in.Reason
	}
	if !known {
		return fieldErr("reason", roundtable.EINVALID, "Choose why you are flagging this post.")
	}
	in.Note = strings.TrimSpace(in.Note)
	if in.Reason == ReasonOther && in.Note == "" {
		return fieldErr("note", roundtable.EINVALID, "Say in a few words what is wrong with this post.")
	}
	return validNote("note", &in.Note)
}

func validNote(field string, s *string) error {
	*s = strings.TrimSpace(*s)
	if n := utf8.RuneCountInString(*s); n > MaxNote {
		return fieldErr(field, roundtable.ETOOLARGE, "Keep this to %d characters at most; it has %d.", MaxNote, n)
	}
	return nil
}

// Moderation actions, as the log records them.
const (
	ActionHide      = "hide"
	ActionRestore   = "restore"
	ActionDismiss   = "dismiss"
	ActionLock      = "lock"
	ActionUnlock    = "unlock"
	ActionPin       = "pin"
	ActionUnpin     = "unpin"
	ActionClose     = "close"
	ActionReopen    = "reopen"
	ActionEndorse   = "endorse"
	ActionUnendorse = "unendorse"
	ActionSuspend   = "suspend"
	ActionLift      = "lift"
)

// SuspendedMessage is what a suspended learner is told when they try to
// post or act on others' posts.
//
// A suspension stops every write that others see or that moves anyone's
// grade: threads, replies, edits, upvotes, accepting answers, flags. The
// learner still reads, follows threads (only they see it), reads their
// notifications and may remove their own posts.
const SuspendedMessage = "The course staff have suspended you from posting in this course: you cannot post, reply, edit, upvote, accept answers or flag posts. You can still read the discussion, follow threads and remove your own posts; ask your instructor if you think this is a mistake."

// Flag is one member's flag of a post, as staff see it.
type Flag struct {
	Reason    string
	Note      string
	By        Author
	CreatedAt time.Time
}

// ReasonLabel is the flag's reason in words.
func (f Flag) ReasonLabel() string { return ReasonLabel(f.Reason) }

// ReasonCount is how many open flags give a reason.
type ReasonCount struct {
	Reason string
	Label  string
	Count  int
}

// FlaggedPost is a post in the moderation queue, with its open flags.
type FlaggedPost struct {
	ID          string
	ThreadID    string
	ThreadTitle string
	Opening     bool
	Author      Author
	Body        string
	Hidden      bool
	Deleted     bool
	// ThreadLocked is whether the post's thread is locked.
	ThreadLocked bool
	// AuthorSuspended is whether the author may no longer post in the course.
	AuthorSuspended bool
	CreatedAt       time.Time
	Flags           []Flag
	Reasons         []ReasonCount
}

// Suspension is a learner's suspension from posting in a course.
type Suspension struct {
	UserID    string
	Name      string
	Reason    string
	ByName    string
	CreatedAt time.Time
}

// Queue is what waits for staff: posts with open flags, the posts they
// hid, and who is suspended.
type Queue struct {
	Flagged   []FlaggedPost
	Hidden    []FlaggedPost
	Suspended []Suspension
}

// LogEntry is one moderation action.
type LogEntry struct {
	ID         string
	Action     string
	ActorName  string
	ThreadID   string
	PostID     string
	TargetName string
	Reason     string
	LinkID     string
	CohortID   string
	CreatedAt  time.Time
	// ThreadTitle names the thread concerned, when there is one.
	ThreadTitle string
	// PostAuthor, PostOpening and PostExcerpt name the post concerned,
	// when there is one, as staff see it (hidden and removed alike):
	// its author, whether it opens its thread, the start of its text.
	PostAuthor  Author
	PostOpening bool
	PostExcerpt string
	// PostRemoved is true when the post was removed since (its text is
	// gone from the post; its history keeps it).
	PostRemoved bool
}

// LogExcerpt is how many characters of a post the log quotes.
const LogExcerpt = 80

// LogPage is a page of the log, newest first, and the cursor of the next.
type LogPage struct {
	Entries []LogEntry
	Next    string
}

// logAction records a moderation action in tx.
// staffWithReason checks that v may moderate and that the reason given
// for the action is acceptable.
func staffWithReason(v Viewer, reason *string) error {
	if err := requireStaff(v); err != nil {
		return err
	}
	return validNote("reason", reason)
}

func logAction(tx *gorm.DB, v Viewer, now time.Time, action, threadID, postID, targetUserID, reason string) error {
	return tx.Exec(`INSERT INTO moderation_log (org_id, id, course_id, link_id, cohort_id, actor_id, action, thread_id, post_id, target_user_id, reason, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, v.OrgID, store.NewID(), v.CourseID, v.LinkID, v.CohortID, v.UserID, action,
		threadID, postID, targetUserID, reason, now).Error
}

// checkSuspended refuses a suspended learner's write (see SuspendedMessage).
func checkSuspended(tx *gorm.DB, v Viewer) error {
	if v.Staff {
		return nil
	}
	var suspended bool
	if err := tx.Raw(`SELECT `+viewerSuspended, suspendedArgs(v)...).Row().Scan(&suspended); err != nil {
		return err
	}
	if suspended {
		return roundtable.Errorf(roundtable.EFORBIDDEN, SuspendedMessage)
	}
	return nil
}

// viewerSuspended is 1 when the viewer is suspended from posting in the
// course, else 0 (its arguments: suspendedArgs).
const viewerSuspended = `CASE WHEN EXISTS (SELECT 1 FROM course_suspensions WHERE org_id = ? AND course_id = ? AND user_id = ?) THEN 1 ELSE 0 END`

func suspendedArgs(v Viewer) []any { return []any{v.OrgID, v.CourseID, v.UserID} }

// FlagPost flags someone else's post for the staff. Flagging is quiet: the
// author and peers are not told. A second flag of the same post by the
// same person, while the first is open, changes nothing.
func (s *Store) FlagPost(ctx context.Context, v Viewer, postID string, in FlagInput) error {
	if err := in.Validate(); err != nil {
		return err
	}
	now := s.now()
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		p, err := s.findPost(tx, v, postID)
		if err != nil {
			return err
		}
		if p.Deleted {
			return roundtable.Errorf(roundtable.EINVALID, "This post was removed; there is nothing left to flag.")
		}
		if p.AuthorID == v.UserID {
			return roundtable.Errorf(roundtable.EINVALID, "You cannot flag your own post; edit or remove it instead.")
		}
		if err := checkSuspended(tx, v); err != nil {
			return err
		}
		var n int
		if err := tx.Raw(`SELECT COUNT(*) FROM post_flags WHERE org_id = ? AND post_id = ? AND user_id = ? AND status = 'open'`,
			v.OrgID, p.ID, v.UserID).Row().Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		return tx.Exec(`INSERT INTO post_flags (org_id, id, course_id, link_id, cohort_id, space_id, thread_id, post_id, user_id, reason, note, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, v.OrgID, store.NewID(), v.CourseID, v.LinkID, v.CohortID, v.SpaceID, p.ThreadID, p.ID,
			v.UserID, in.Reason, in.Note, now).Error
	})
}

// Flagged reports whether the viewer has an open flag on the post.
func (s *Store) Flagged(ctx context.Context, v Viewer, postID string) (bool, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM post_flags WHERE space_id = ? AND post_id = ? AND user_id = ? AND status = 'open'`,
		v.SpaceID, postID, v.UserID).Scan(&n)
	return n > 0, err
}

// WaitingCount is how many posts of the space have open flags; staff only
// (0 for others, without asking the database).
func (s *Store) WaitingCount(ctx context.Context, v Viewer) (int, error) {
	if !v.Staff {
		return 0, nil
	}
	var n int
	err := s.db.QueryRow(ctx, `SELECT COUNT(DISTINCT post_id) FROM post_flags WHERE space_id = ? AND status = 'open'`,
		v.SpaceID).Scan(&n)
	return n, err
}

// Queue returns the space's open flags grouped by post (oldest flagged
// first), the hidden posts and the course's suspended learners.
func (s *Store) Queue(ctx context.Context, v Viewer) (Queue, error) {
	var q Queue
	if err := requireStaff(v); err != nil {
		return q, err
	}
	const postCols = `p.id, p.thread_id, t.title, p.opening, p.author_id, p.anonymous, COALESCE(u.name, ''), COALESCE(u.pseudonym, ''), COALESCE(m.roles, ''),
		p.body, p.hidden, p.deleted, t.locked, CASE WHEN su.user_id IS NULL THEN 0 ELSE 1 END, p.created_at`
	const postJoins = `JOIN threads t ON t.org_id = p.org_id AND t.id = p.thread_id
		LEFT JOIN users u ON u.org_id = p.org_id AND u.id = p.author_id
		LEFT JOIN memberships m ON m.org_id = p.org_id AND m.course_id = t.course_id AND m.user_id = p.author_id
		LEFT JOIN course_suspensions su ON su.org_id = p.org_id AND su.course_id = t.course_id AND su.user_id = p.author_id`
	scanPost := func(r scanner, extra ...any) (FlaggedPost, error) {
		var fp FlaggedPost
		var authorID, name, pseudonym, roles string
		err := r.Scan(append([]any{&fp.ID, &fp.ThreadID, &fp.ThreadTitle, &fp.Opening, &authorID, &fp.Author.Anonymous, &name, &pseudonym, &roles,
			&fp.Body, &fp.Hidden, &fp.Deleted, &fp.ThreadLocked, &fp.AuthorSuspended, &fp.CreatedAt}, extra...)...)
		fp.Author = author(v, authorID, name, pseudonym, roles, fp.Author.Anonymous)
		return fp, err
	}
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		rows, err := tx.Raw(`SELECT `+postCols+`, f.reason, f.note, f.user_id, COALESCE(fu.name, ''), COALESCE(fu.pseudonym, ''), COALESCE(fm.roles, ''), f.created_at
			FROM post_flags f
			JOIN posts p ON p.org_id = f.org_id AND p.id = f.post_id
			`+postJoins+`
			LEFT JOIN users fu ON fu.org_id = f.org_id AND fu.id = f.user_id
			LEFT JOIN memberships fm ON fm.org_id = f.org_id AND fm.course_id = f.course_id AND fm.user_id = f.user_id
			WHERE f.space_id = ? AND f.status = 'open'
			ORDER BY f.post_id, f.id`, v.SpaceID).Rows()
		if err != nil {
			return err
		}
		defer rows.Close()
		index := map[string]int{}
		for rows.Next() {
			var f Flag
			var byID, byName, byPseudonym, byRoles string
			fp, err := scanPost(rows, &f.Reason, &f.Note, &byID, &byName, &byPseudonym, &byRoles, &f.CreatedAt)
			if err != nil {
				return err
			}
			f.By = author(v, byID, byName, byPseudonym, byRoles, false)
			i, ok := index[fp.ID]
			if !ok {
				i = len(q.Flagged)
				index[fp.ID] = i
				q.Flagged = append(q.Flagged, fp)
			}
			q.Flagged[i].Flags = append(q.Flagged[i].Flags, f)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		for i := range q.Flagged {
			q.Flagged[i].Reasons = countReasons(q.Flagged[i].Flags)
		}

		rows, err = tx.Raw(`SELECT `+postCols+` FROM posts p `+postJoins+`
			WHERE p.space_id = ? AND p.hidden = TRUE
			ORDER BY p.hidden_at DESC, p.id DESC LIMIT 100`, v.SpaceID).Rows()
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			fp, err := scanPost(rows)
			if err != nil {
				return err
			}
			q.Hidden = append(q.Hidden, fp)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()

		rows, err = tx.Raw(`SELECT su.user_id, COALESCE(u.name, ''), COALESCE(u.pseudonym, ''), su.reason, COALESCE(b.name, ''), su.created_at
			FROM course_suspensions su
			LEFT JOIN users u ON u.org_id = su.org_id AND u.id = su.user_id
			LEFT JOIN users b ON b.org_id = su.org_id AND b.id = su.suspended_by
			WHERE su.org_id = ? AND su.course_id = ? ORDER BY su.created_at DESC`, v.OrgID, v.CourseID).Rows()
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var su Suspension
			var pseudonym string
			if err := rows.Scan(&su.UserID, &su.Name, &pseudonym, &su.Reason, &su.ByName, &su.CreatedAt); err != nil {
				return err
			}
			if su.Name == "" {
				su.Name = pseudonym
			}
			q.Suspended = append(q.Suspended, su)
		}
		return rows.Err()
	})
	if err != nil {
		return q, fmt.Errorf("moderation queue: %w", err)
	}
	return q, nil
}

func countReasons(flags []Flag) []ReasonCount {
	var out []ReasonCount
	for _, r := range FlagReasons {
		n := 0
		for _, f := range flags {
			if f.Reason == r.Value {
				n++
			}
		}
		if n > 0 {
			out = append(out, ReasonCount{Reason: r.Value, Label: r.Label, Count: n})
		}
	}
	return out
}

// Hide hides a post from learners (staff still see it, marked) and
// resolves its open flags. Hiding an opening post hides its thread. What
// is hidden no longer counts toward completion and grades; the authors
// concerned are re-scored in the same transaction, and again on Restore.
func (s *Store) Hide(ctx context.Context, v Viewer, postID, reason string) error {
	return s.setHidden(ctx, v, postID, reason, true)
}

// Restore shows a hidden post to learners again.
func (s *Store) Restore(ctx context.Context, v Viewer, postID, reason string) error {
	return s.setHidden(ctx, v, postID, reason, false)
}

func (s *Store) setHidden(ctx context.Context, v Viewer, postID, reason string, hide bool) error {
	if err := staffWithReason(v, &reason); err != nil {
		return err
	}
	now := s.now()
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		p, err := s.findPost(tx, v, postID)
		if err != nil {
			return err
		}
		if p.Hidden == hide {
			return nil
		}
		action, hiddenBy, hiddenAt, delta := ActionHide, v.UserID, sql.NullTime{Time: now, Valid: true}, 1
		if !hide {
			action, hiddenBy, hiddenAt, delta = ActionRestore, "", sql.NullTime{}, -1
		}
		if err := tx.Exec(`UPDATE posts SET hidden = ?, hidden_by = ?, hidden_at = ? WHERE org_id = ? AND id = ?`,
			hide, hiddenBy, hiddenAt, v.OrgID, p.ID).Error; err != nil {
			return err
		}
		if p.Opening {
			err = tx.Exec(`UPDATE threads SET hidden = ? WHERE org_id = ? AND id = ?`, hide, v.OrgID, p.ThreadID).Error
		} else {
			err = tx.Exec(`UPDATE threads SET hidden_replies = hidden_replies + ? WHERE org_id = ? AND id = ?`, delta, v.OrgID, p.ThreadID).Error
		}
		if err != nil {
			return err
		}
		if err := hideNotifications(tx, v.OrgID, p.ThreadID, p.ID, p.Opening); err != nil {
			return err
		}
		// What is hidden does not count: a hidden reply takes its author's
		// reply, upvotes and accepted answer with it; a hidden opening post
		// hides the thread, and every post in it stops counting.
		authors := []string{p.AuthorID}
		if p.Opening {
			authors = nil
			if err := tx.Raw(`SELECT DISTINCT author_id FROM posts WHERE org_id = ? AND thread_id = ?`, v.OrgID, p.ThreadID).
				Scan(&authors).Error; err != nil {
				return err
			}
		}
		if err := s.participationChanged(ctx, tx, v, authors...); err != nil {
			return err
		}
		if hide {
			if err := tx.Exec(`UPDATE post_flags SET status = 'resolved', resolved_by = ?, resolved_at = ? WHERE org_id = ? AND post_id = ? AND status = 'open'`,
				v.UserID, now, v.OrgID, p.ID).Error; err != nil {
				return err
			}
		}
		return logAction(tx, v, now, action, p.ThreadID, p.ID, p.AuthorID, reason)
	})
}

// Dismiss closes a post's open flags without acting on the post.
func (s *Store) Dismiss(ctx context.Context, v Viewer, postID, reason string) error {
	if err := staffWithReason(v, &reason); err != nil {
		return err
	}
	now := s.now()
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		p, err := s.findPost(tx, v, postID)
		if err != nil {
			return err
		}
		res := tx.Exec(`UPDATE post_flags SET status = 'dismissed', resolved_by = ?, resolved_at = ? WHERE org_id = ? AND post_id = ? AND status = 'open'`,
			v.UserID, now, v.OrgID, p.ID)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		return logAction(tx, v, now, ActionDismiss, p.ThreadID, p.ID, p.AuthorID, reason)
	})
}

// LockThread locks a thread (on) or unlocks it, with a reason for the log.
func (s *Store) LockThread(ctx context.Context, v Viewer, threadID string, on bool, reason string) error {
	if err := staffWithReason(v, &reason); err != nil {
		return err
	}
	return s.setThreadFlag(ctx, v, threadID, FlagLocked, on, reason)
}

var flagActions = map[string][2]string{
	FlagPinned: {ActionUnpin, ActionPin},
	FlagLocked: {ActionUnlock, ActionLock},
	FlagClosed: {ActionReopen, ActionClose},
}

// setThreadFlag sets a thread's pinned, locked or closed flag and logs it
// when it changes; the caller checked the viewer is staff.
func (s *Store) setThreadFlag(ctx context.Context, v Viewer, threadID, flag string, on bool, reason string) error {
	actions, ok := flagActions[flag]
	if !ok {
		return roundtable.Errorf(roundtable.EINVALID, "Unknown thread setting %q.", flag)
	}
	now := s.now()
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		if _, err := s.lockThread(tx, v, threadID); err != nil {
			return err
		}
		// flag is one of three constants: safe to name as a column.
		res := tx.Exec(`UPDATE threads SET `+flag+` = ? WHERE org_id = ? AND id = ? AND `+flag+` <> ?`, on, v.OrgID, threadID, on)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		a := actions[0]
		if on {
			a = actions[1]
		}
		return logAction(tx, v, now, a, threadID, "", "", reason)
	})
}

// Suspend stops a learner of the course from posting in it (they still
// read). postID, when set, names the post that led to it in the log.
func (s *Store) Suspend(ctx context.Context, v Viewer, userID, postID, reason string) error {
	if err := staffWithReason(v, &reason); err != nil {
		return err
	}
	now := s.now()
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		var roles string
		err := tx.Raw(`SELECT roles FROM memberships WHERE org_id = ? AND course_id = ? AND user_id = ?`, v.OrgID, v.CourseID, userID).Row().Scan(&roles)
		if errors.Is(err, sql.ErrNoRows) {
			return roundtable.Errorf(roundtable.ENOTFOUND, "That person is not a member of this course.")
		}
		if err != nil {
			return err
		}
		if course.ParseRoles(roles).IsStaff() {
			return roundtable.Errorf(roundtable.EINVALID, "Course staff cannot be suspended.")
		}
		threadID := ""
		if postID != "" {
			p, err := s.findPost(tx, v, postID)
			if err != nil {
				return err
			}
			if p.AuthorID != userID {
				return roundtable.Errorf(roundtable.EINVALID, "That post is not this person's.")
			}
			threadID = p.ThreadID
		}
		res := tx.Exec(`INSERT INTO course_suspensions (org_id, course_id, user_id, reason, suspended_by, created_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (org_id, course_id, user_id) DO NOTHING`, v.OrgID, v.CourseID, userID, reason, v.UserID, now)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		return logAction(tx, v, now, ActionSuspend, threadID, postID, userID, reason)
	})
}

// Lift ends a learner's suspension from posting in the course.
func (s *Store) Lift(ctx context.Context, v Viewer, userID, reason string) error {
	if err := staffWithReason(v, &reason); err != nil {
		return err
	}
	now := s.now()
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`DELETE FROM course_suspensions WHERE org_id = ? AND course_id = ? AND user_id = ?`, v.OrgID, v.CourseID, userID)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return roundtable.Errorf(roundtable.ENOTFOUND, "That person is not suspended in this course.")
		}
		return logAction(tx, v, now, ActionLift, "", "", userID, reason)
	})
}

// LogPageSize is how many entries a page of the moderation log holds.
const LogPageSize = 50

// Log returns a page of the course's moderation log, newest first; staff only.
func (s *Store) Log(ctx context.Context, v Viewer, after string, limit int) (LogPage, error) {
	var out LogPage
	if err := requireStaff(v); err != nil {
		return out, err
	}
	if limit <= 0 || limit > 200 {
		limit = LogPageSize
	}
	args := []any{v.OrgID, v.CourseID}
	where := ``
	if c, ok := decodeCursor(after); ok {
		where = ` AND l.id < ?`
		args = append(args, c.id)
	}
	args = append(args, limit+1)
	// One statement names each entry's thread and post: the log reads the
	// same at 50 entries as at one. The post's text is cut in the database
	// (enough for an excerpt once its Markdown is gone).
	rows, err := s.db.SQL.QueryContext(ctx, s.db.Rebind(`SELECT l.id, l.action, COALESCE(a.name, ''), COALESCE(a.pseudonym, ''), l.thread_id, l.post_id,
		COALESCE(tu.name, ''), COALESCE(tu.pseudonym, ''), l.reason, l.link_id, l.cohort_id, l.created_at,
		COALESCE(t.title, ''), COALESCE(p.author_id, ''), COALESCE(p.anonymous, FALSE), COALESCE(pu.name, ''), COALESCE(pu.pseudonym, ''),
		COALESCE(pm.roles, ''), COALESCE(p.opening, FALSE), COALESCE(p.deleted, FALSE), COALESCE(SUBSTR(p.body, 1, 400), '')
		FROM moderation_log l
		LEFT JOIN users a ON a.org_id = l.org_id AND a.id = l.actor_id
		LEFT JOIN users tu ON tu.org_id = l.org_id AND tu.id = l.target_user_id
		LEFT JOIN threads t ON t.org_id = l.org_id AND t.id = l.thread_id
		LEFT JOIN posts p ON p.org_id = l.org_id AND p.id = l.post_id
		LEFT JOIN users pu ON pu.org_id = p.org_id AND pu.id = p.author_id
		LEFT JOIN memberships pm ON pm.org_id = l.org_id AND pm.course_id = l.course_id AND pm.user_id = p.author_id
		WHERE l.org_id = ? AND l.course_id = ?`+where+` ORDER BY l.id DESC LIMIT ?`), args...)
	if err != nil {
		return out, fmt.Errorf("moderation log: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e LogEntry
		var actorPseudonym, targetPseudonym string
		var authorID, authorName, authorPseudonym, authorRoles, body string
		if err := rows.Scan(&e.ID, &e.Action, &e.ActorName, &actorPseudonym, &e.ThreadID, &e.PostID, &e.TargetName, &targetPseudonym,
			&e.Reason, &e.LinkID, &e.CohortID, &e.CreatedAt,
			&e.ThreadTitle, &authorID, &e.PostAuthor.Anonymous, &authorName, &authorPseudonym, &authorRoles, &e.PostOpening, &e.PostRemoved, &body); err != nil {
			return out, fmt.Errorf("moderation log: %w", err)
		}
		if e.ActorName == "" {
			e.ActorName = actorPseudonym
		}
		if e.TargetName == "" {
			e.TargetName = targetPseudonym
		}
		if e.PostID != "" && authorID != "" {
			e.PostAuthor = author(v, authorID, authorName, authorPseudonym, authorRoles, e.PostAuthor.Anonymous)
			e.PostExcerpt = markdown.PlainText(body, LogExcerpt)
		}
		out.Entries = append(out.Entries, e)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("moderation log: %w", err)
	}
	if len(out.Entries) > limit {
		out.Entries = out.Entries[:limit]
		out.Next = encodeCursor(cursor{id: out.Entries[limit-1].ID})
	}
	return out, nil
}
