package discussion

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/internal/store"
)

// Kinds of notification, one per recipient and action. When an action
// concerns someone in several ways (a reply to their question that also
// mentions them), they get the first kind of this list that applies.
const (
	NotifyMention     = "mention"
	NotifyAccepted    = "accepted"
	NotifyAnswer      = "answer"
	NotifyReply       = "reply"
	NotifyReplyToPost = "reply_to_post"
	NotifyFollowed    = "followed"
	// NotifyReviewReminder is staff reminding a learner of what they owe
	// in a peer review; Detail says what.
	NotifyReviewReminder = "review_reminder"
	// NotifyReviewReleased tells an author their peer review's results
	// are out; Detail says so in words.
	NotifyReviewReleased = "review_released"
)

// MaxNotifications is how many notifications the list shows.
const MaxNotifications = 50

// Notification is something that happened that concerns a person, in
// one of the spaces they may read.
type Notification struct {
	ID          string
	Kind        string
	Actor       Author
	ThreadID    string
	ThreadTitle string
	PostID      string
	// Detail says in words what a notification about no post is about.
	Detail string
	// Unseen is true when the viewer had not seen it before this read.
	Unseen    bool
	CreatedAt time.Time
	// SpaceID is the space it happened in; ActivityTitle and CourseTitle
	// name that space's activity and course. Elsewhere is true when it is
	// not the space of the page that lists it.
	SpaceID       string
	ActivityTitle string
	CourseTitle   string
	Elsewhere     bool
}

// Text says what happened, naming the actor as the viewer may know them.
func (n Notification) Text() string {
	who := n.Actor.Label()
	switch n.Kind {
	case NotifyMention:
		return who + " mentioned you"
	case NotifyAccepted:
		return who + " accepted your answer"
	case NotifyAnswer:
		return who + " answered your question"
	case NotifyReply:
		return who + " replied to your thread"
	case NotifyReplyToPost:
		return who + " replied to your post"
	case NotifyFollowed:
		return who + " replied in a thread you follow"
	case NotifyReviewReminder:
		return who + " reminded you: " + n.Detail
	case NotifyReviewReleased:
		return "The peer review's results are out: " + n.Detail
	}
	return who + " posted"
}

// notice is a notification to write.
type notice struct{ userID, kind string }

// notifyBatch is how many notifications one statement inserts, well under
// the databases' bounds on bound parameters.
const notifyBatch = 500

// notify writes one notification per recipient, never to the actor (the
// viewer), keeping the first kind given for each recipient.
func notify(tx *gorm.DB, v Viewer, threadID, postID string, anonymous bool, now time.Time, notices []notice) error {
	seen := map[string]bool{v.UserID: true, "": true}
	var q strings.Builder
	var args []any
	hidden, checked := false, false
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		err := tx.Exec(`INSERT INTO notifications (org_id, id, cohort_id, link_id, space_id, user_id, kind, actor_id, anonymous, thread_id, post_id, hidden, created_at)
			VALUES `+q.String(), args...).Error
		q.Reset()
		args = args[:0]
		return err
	}
	for _, n := range notices {
		if seen[n.userID] {
			continue
		}
		if !checked {
			// The first to write: is it hidden from learners (its thread
			// or post is)? Read after the caller updated the thread's
			// row, whose lock orders this read with moderation's
			// (setHidden updates that row before hideNotifications).
			if err := tx.Raw(`SELECT COALESCE((SELECT hidden FROM threads WHERE org_id = ? AND id = ?), FALSE)
				OR COALESCE((SELECT hidden FROM posts WHERE org_id = ? AND id = ?), FALSE)`,
				v.OrgID, threadID, v.OrgID, postID).Row().Scan(&hidden); err != nil {
				return err
			}
			checked = true
		}
		seen[n.userID] = true
		if len(args) > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, v.OrgID, store.NewID(), v.CohortID, v.LinkID, v.SpaceID, n.userID, n.kind, v.UserID, anonymous, threadID, postID, hidden, now)
		if len(args) >= notifyBatch*13 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// mentionName matches @name at a word start, as markdown renders mentions:
// letters, digits, dot, dash and underscore.
var mentionName = regexp.MustCompile(`(?:^|[\s(>])@([\p{L}\p{N}][\p{L}\p{N}._-]{0,39})`)

// codeSpans are fenced blocks and inline code, where an @ is no mention.
var codeSpans = regexp.MustCompile("(?s)```.*?(```|$)|`[^`\n]*`")

// mentionTokens returns the lower-cased names mentioned in a Markdown body.
func mentionTokens(body string) []string {
	body = codeSpans.ReplaceAllString(body, " ")
	var out []string
	seen := map[string]bool{}
	for _, m := range mentionName.FindAllStringSubmatch(body, -1) {
		tok := strings.ToLower(strings.TrimRight(m[1], ".-_"))
		if tok != "" && !seen[tok] {
			seen[tok] = true
			out = append(out, tok)
		}
	}
	return out
}

// handles are the names by which a person can be mentioned: their given
// name, their full name written without spaces or with dots, dashes or
// underscores for them, their pseudonym and their email's local part.
func handles(name, given, family, pseudonym, email string) []string {
	var hs []string
	add := func(s string) {
		if s = strings.ToLower(strings.TrimSpace(s)); s != "" && !strings.ContainsAny(s, " \t") {
			hs = append(hs, s)
		}
	}
	add(given)
	if name == "" {
		name = strings.TrimSpace(given + " " + family)
	}
	fields := strings.Fields(name)
	if len(fields) > 0 {
		for _, sep := range []string{"", ".", "_", "-"} {
			add(strings.Join(fields, sep))
		}
	}
	add(pseudonym)
	if at := strings.IndexByte(email, '@'); at > 0 {
		add(email[:at])
	}
	return hs
}

// mentioned resolves the @names of body to members of the viewer's
// cohort. A name that fits more than one member names nobody.
func mentioned(tx *gorm.DB, v Viewer, body string) ([]string, error) {
	tokens := mentionTokens(body)
	if len(tokens) == 0 {
		return nil, nil
	}
	rows, err := tx.Raw(`SELECT u.id, u.name, u.given_name, u.family_name, u.pseudonym, u.email
		FROM cohort_members cm JOIN users u ON u.org_id = cm.org_id AND u.id = cm.user_id
		WHERE cm.org_id = ? AND cm.cohort_id = ?`, v.OrgID, v.CohortID).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	owners := map[string]map[string]bool{}
	for rows.Next() {
		var id, name, given, family, pseudonym, email string
		if err := rows.Scan(&id, &name, &given, &family, &pseudonym, &email); err != nil {
			return nil, err
		}
		for _, h := range handles(name, given, family, pseudonym, email) {
			if owners[h] == nil {
				owners[h] = map[string]bool{}
			}
			owners[h][id] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var ids []string
	for _, tok := range tokens {
		if len(owners[tok]) != 1 {
			continue
		}
		for id := range owners[tok] {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// notifyThread tells the people a new thread's opening post mentions.
func notifyThread(tx *gorm.DB, v Viewer, threadID, postID, body string, anonymous bool, now time.Time) error {
	ids, err := mentioned(tx, v, body)
	if err != nil {
		return err
	}
	var ns []notice
	for _, id := range ids {
		ns = append(ns, notice{id, NotifyMention})
	}
	return notify(tx, v, threadID, postID, anonymous, now, ns)
}

// notifyReply tells, of a new reply: those it mentions, the thread's
// author (an answer, on a question), the author of the post it answers,
// and the thread's followers.
func notifyReply(tx *gorm.DB, v Viewer, t threadRow, parentAuthorID, postID, body string, anonymous bool, now time.Time) error {
	ids, err := mentioned(tx, v, body)
	if err != nil {
		return err
	}
	var ns []notice
	for _, id := range ids {
		ns = append(ns, notice{id, NotifyMention})
	}
	kind := NotifyReply
	if t.Kind == Question {
		kind = NotifyAnswer
	}
	ns = append(ns, notice{t.AuthorID, kind}, notice{parentAuthorID, NotifyReplyToPost})
	var followers []string
	if err := tx.Raw(`SELECT user_id FROM thread_follows WHERE org_id = ? AND thread_id = ? ORDER BY user_id`,
		v.OrgID, t.ID).Scan(&followers).Error; err != nil {
		return err
	}
	for _, id := range followers {
		ns = append(ns, notice{id, NotifyFollowed})
	}
	return notify(tx, v, t.ID, postID, anonymous, now, ns)
}

// notifyAccepted tells an answer's author it was accepted. An asker who
// asked anonymously accepts anonymously.
func notifyAccepted(tx *gorm.DB, v Viewer, threadID, postID, authorID string, now time.Time) error {
	var anonymous []bool
	if err := tx.Raw(`SELECT anonymous FROM threads WHERE org_id = ? AND id = ? AND author_id = ?`,
		v.OrgID, threadID, v.UserID).Scan(&anonymous).Error; err != nil {
		return err
	}
	return notify(tx, v, threadID, postID, len(anonymous) == 1 && anonymous[0], now, []notice{{authorID, NotifyAccepted}})
}

// MaxUnreadCounted bounds the count of unseen notifications: every page
// shows it, and a learner who follows busy threads can have thousands
// (counting 2,000 took 5 ms of Postgres per page); past it, pages say
// "99+".
const MaxUnreadCounted = 100

// unreadCount counts a viewer's unseen notifications, up to a limit
// (platform, cohort, link, user, staff, limit), for Standing and Thread.
// It reads the unseen notifications' index alone: whether a notification
// is hidden from learners is kept on it (see hideNotifications).
const unreadCount = `SELECT COUNT(*) FROM (SELECT 1 FROM notifications n
		WHERE n.space_id = ? AND n.user_id = ? AND (? OR n.hidden = FALSE)
		AND n.seen_at IS NULL LIMIT ?) unseen`

// Standing is what every page of the space shows of the viewer: the
// count of their unseen notifications (up to MaxUnreadCounted), and
// whether they are suspended from posting in the course (staff never).
type Standing struct {
	UnseenNotifications int
	Suspended           bool
}

// newcomerFor bounds how long a launch's word that its person is new
// (NewPerson) waits for their first page.
const newcomerFor = 10 * time.Second

// NewPerson records that userID is a person the launch this process just
// recorded created: no notification and no suspension can name an id
// that did not exist, so the first Standing read in the space after it
// (the page the launch leads to) is answered without the database.
func (s *Store) NewPerson(spaceID, userID string) {
	s.newcomers.Put(newcomerKey{spaceID, userID}, struct{}{}, s.now().Add(newcomerFor))
}

// Standing reads the viewer's standing, in one statement.
func (s *Store) Standing(ctx context.Context, v Viewer) (Standing, error) {
	k := newcomerKey{v.SpaceID, v.UserID}
	if _, ok := s.newcomers.Get(k, s.now()); ok {
		s.newcomers.Delete(k)
		return Standing{}, nil
	}
	var st Standing
	err := s.db.QueryRow(ctx, `SELECT (`+unreadCount+`), `+viewerSuspended,
		append([]any{v.SpaceID, v.UserID, v.Staff, MaxUnreadCounted}, suspendedArgs(v)...)...).
		Scan(&st.UnseenNotifications, &st.Suspended)
	if err != nil {
		return Standing{}, fmt.Errorf("viewer's standing: %w", err)
	}
	st.Suspended = st.Suspended && !v.Staff
	return st, nil
}

// spaceReadable is true when the notification's person (n.user_id) may
// still read its space (s): an active member of the space's course, in
// the space's cohort or on the course's staff.
const spaceReadable = `EXISTS (SELECT 1 FROM memberships rm WHERE rm.org_id = n.org_id AND rm.course_id = s.course_id
		AND rm.user_id = n.user_id AND rm.status = 'active'
		AND (EXISTS (SELECT 1 FROM cohort_members rc WHERE rc.org_id = n.org_id AND rc.cohort_id = s.cohort_id AND rc.user_id = n.user_id)
			OR ',' || rm.roles || ',' LIKE '%,instructor,%' OR ',' || rm.roles || ',' LIKE '%,teaching_assistant,%'
			OR ',' || rm.roles || ',' LIKE '%,administrator,%'))`

// personNotifications reads a person's newest notifications across every
// space they may still read, newest first. In space here (none when
// empty), the viewer's rules apply as that space's page applies them
// (staff see what moderators hid); elsewhere, nothing hidden from
// learners is listed and anonymous actors stay anonymous.
func personNotifications(tx *gorm.DB, orgID, userID, here string, staffHere bool, limit int) ([]Notification, error) {
	rows, err := tx.Raw(`SELECT n.id, n.kind, n.actor_id, n.anonymous, COALESCE(u.name, ''), COALESCE(u.pseudonym, ''), COALESCE(am.roles, ''),
			n.thread_id, COALESCE(t.title, ''), n.post_id, n.detail, n.seen_at, n.created_at, n.space_id, COALESCE(l.title, ''), COALESCE(c.title, '')
		FROM notifications n
		LEFT JOIN spaces s ON s.id = n.space_id
		LEFT JOIN resource_links l ON l.org_id = n.org_id AND l.id = s.link_id
		LEFT JOIN courses c ON c.org_id = n.org_id AND c.id = s.course_id
		LEFT JOIN users u ON u.org_id = n.org_id AND u.id = n.actor_id
		LEFT JOIN memberships am ON am.org_id = n.org_id AND am.course_id = s.course_id AND am.user_id = n.actor_id
		LEFT JOIN threads t ON t.org_id = n.org_id AND t.id = n.thread_id
		LEFT JOIN posts p ON p.org_id = n.org_id AND p.id = n.post_id
		WHERE n.org_id = ? AND n.user_id = ?
			AND ((n.space_id = ? AND (? OR (COALESCE(t.hidden, FALSE) = FALSE AND COALESCE(p.hidden, FALSE) = FALSE)))
				OR (n.space_id <> ? AND n.hidden = FALSE AND `+spaceReadable+`))
		ORDER BY n.id DESC LIMIT ?`, orgID, userID, here, staffHere, here, limit).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		var n Notification
		var actorID, name, pseudonym, roles string
		var seenAt sql.NullTime
		if err := rows.Scan(&n.ID, &n.Kind, &actorID, &n.Actor.Anonymous, &name, &pseudonym, &roles,
			&n.ThreadID, &n.ThreadTitle, &n.PostID, &n.Detail, &seenAt, &n.CreatedAt, &n.SpaceID, &n.ActivityTitle, &n.CourseTitle); err != nil {
			return nil, err
		}
		n.Elsewhere = n.SpaceID != here
		n.Actor = author(Viewer{UserID: userID, Staff: staffHere && !n.Elsewhere}, actorID, name, pseudonym, roles, n.Actor.Anonymous)
		n.Unseen = !seenAt.Valid
		out = append(out, n)
	}
	return out, rows.Err()
}

// Notifications returns the viewer's newest notifications: a person's,
// from this space and every other space they may still read, each naming
// its space. Reading them changes nothing: a GET that marked them seen did
// so for anyone who made a reader's browser ask for the page (an image in
// a post did); MarkNotificationsRead does, by a form.
func (s *Store) Notifications(ctx context.Context, v Viewer) ([]Notification, error) {
	var out []Notification
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		out, err = personNotifications(tx, v.OrgID, v.UserID, v.SpaceID, v.Staff, MaxNotifications)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("notifications: %w", err)
	}
	return out, nil
}

// PersonNotifications is a person's notifications across spaces, for
// reading outside any one space (email, digests).
type PersonNotifications struct {
	// Items are the newest, newest first, at most MaxNotifications.
	Items []Notification
	// Unseen counts the unseen ones, up to MaxUnreadCounted.
	Unseen int
}

// PersonNotifications reads the notifications of person userID of
// organisation orgID in every space they may still read: none a moderator
// hid, and no anonymous actor named.
func (s *Store) PersonNotifications(ctx context.Context, orgID, userID string) (PersonNotifications, error) {
	var out PersonNotifications
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		if out.Items, err = personNotifications(tx, orgID, userID, "", false, MaxNotifications); err != nil {
			return err
		}
		return tx.Raw(`SELECT COUNT(*) FROM (SELECT 1 FROM notifications n JOIN spaces s ON s.id = n.space_id
			WHERE n.org_id = ? AND n.user_id = ? AND n.seen_at IS NULL AND n.hidden = FALSE AND `+spaceReadable+`
			LIMIT ?) unseen`, orgID, userID, MaxUnreadCounted).Row().Scan(&out.Unseen)
	})
	if err != nil {
		return PersonNotifications{}, fmt.Errorf("a person's notifications: %w", err)
	}
	return out, nil
}

// MarkNotificationsRead marks the viewer's notifications as seen, in every
// space (the page lists them all): all of them, or, when upTo names one,
// it and those before it (a page's newest: what the page showed, not what
// came since).
func (s *Store) MarkNotificationsRead(ctx context.Context, v Viewer, upTo string) error {
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE notifications SET seen_at = ?
			WHERE org_id = ? AND user_id = ? AND seen_at IS NULL AND (? = '' OR id <= ?)`,
			s.now(), v.OrgID, v.UserID, upTo, upTo).Error
	})
	if err != nil {
		return fmt.Errorf("mark notifications read: %w", err)
	}
	return nil
}

// hideNotifications sets, after moderators hid or restored a post, whether
// each notification of its thread (of the post alone, unless it opens the
// thread) is hidden from learners: when its thread or its post is.
func hideNotifications(tx *gorm.DB, orgID, threadID, postID string, wholeThread bool) error {
	q := `UPDATE notifications SET hidden =
		COALESCE((SELECT t.hidden FROM threads t WHERE t.org_id = notifications.org_id AND t.id = notifications.thread_id), FALSE)
		OR COALESCE((SELECT p.hidden FROM posts p WHERE p.org_id = notifications.org_id AND p.id = notifications.post_id), FALSE)
		WHERE org_id = ? AND thread_id = ?`
	args := []any{orgID, threadID}
	if !wholeThread {
		q += ` AND post_id = ?`
		args = append(args, postID)
	}
	return tx.Exec(q, args...).Error
}
