package discussion

import (
	"context"
	"database/sql"
	"errors"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
)

// The activity's rules that the discussion enforces, from the settings its
// staff chose (the discussion kind's options document in activity_settings,
// activity.DiscussionOptions; no row means the defaults: anonymity allowed,
// nothing hidden until a learner posts). The document is JSON; `->` gives
// a member as JSON on both databases, so a flag compares with 'true'.

// ErrPostFirst refuses a learner another's thread in a post-first activity
// until they have a response that counts (hasResponded).
var ErrPostFirst = roundtable.Errorf(roundtable.EFORBIDDEN,
	"In this activity you post your own response first: your cohort's threads open once you have started one (a removed or hidden post does not count). Go back to the discussion and start yours.")

var errNoAnonymous = fieldErr("anonymous", roundtable.EINVALID,
	"This activity does not allow anonymous posts: untick anonymous to post under your name. Your text is kept below.")

// hasResponded is true when the viewer has a response that counts in the
// space, the one that opens others' threads in a post-first activity: a
// post of theirs (a thread or a reply) that is neither removed nor hidden
// by moderators, in a thread that is not hidden. A thread started and
// then removed, or hidden, opens nothing. Its arguments: respondedArgs.
const hasResponded = `EXISTS (SELECT 1 FROM posts own JOIN threads ownt ON ownt.org_id = own.org_id AND ownt.id = own.thread_id
	WHERE own.org_id = ? AND own.author_id = ? AND own.space_id = ?
		AND own.deleted = FALSE AND own.hidden = FALSE AND ownt.hidden = FALSE)`

func respondedArgs(v Viewer) []any { return []any{v.OrgID, v.UserID, v.SpaceID} }

// postFirstAsked is true when the activity asks learners to post first
// (arguments: platform, link).
const postFirstAsked = `EXISTS (SELECT 1 FROM activity_settings st WHERE st.org_id = ? AND st.link_id = ? AND (st.options -> 'post_first') = 'true')`

// mustPostFirstCase is 1 when the viewer (a learner) must post before
// seeing others: the activity asks it and they have no response that
// counts yet (arguments: mustPostFirstArgs).
const mustPostFirstCase = `CASE WHEN ` + postFirstAsked + ` AND NOT ` + hasResponded + ` THEN 1 ELSE 0 END`

func mustPostFirstArgs(v Viewer) []any {
	return append([]any{v.OrgID, v.LinkID}, respondedArgs(v)...)
}

// MustPostFirst reports whether the viewer may see only their own threads
// until they have a response that counts (hasResponded): a learner in a
// post-first activity who has none. Staff and observers never must.
func (s *Store) MustPostFirst(ctx context.Context, v Viewer) (bool, error) {
	return mustPostFirst(s.db.DB.WithContext(ctx), v)
}

func mustPostFirst(db *gorm.DB, v Viewer) (bool, error) {
	if v.Staff || v.Observer {
		return false, nil
	}
	var must int
	err := db.Raw(`SELECT `+mustPostFirstCase, mustPostFirstArgs(v)...).Row().Scan(&must)
	return must == 1, err
}

// othersGate is a condition on a thread t: for a learner who must post
// first, only their own threads pass. One clause in the query that lists
// or searches, so it costs no round trip.
func othersGate(v Viewer) (string, []any) {
	if v.Staff || v.Observer {
		return "", nil
	}
	return ` AND (t.author_id = ? OR NOT ` + postFirstAsked + ` OR ` + hasResponded + `)`,
		append([]any{v.UserID, v.OrgID, v.LinkID}, respondedArgs(v)...)
}

// checkOthers refuses a learner who must post first something of another
// author's.
func checkOthers(tx *gorm.DB, v Viewer, authorID string) error {
	if v.Staff || v.Observer || authorID == v.UserID {
		return nil
	}
	must, err := mustPostFirst(tx, v)
	if err != nil {
		return err
	}
	if must {
		return ErrPostFirst
	}
	return nil
}

// checkAnonymous refuses an anonymous post where the activity does not
// allow them.
func checkAnonymous(tx *gorm.DB, v Viewer, anonymous bool) error {
	if !anonymous {
		return nil
	}
	var allowed bool
	err := tx.Raw(`SELECT CASE WHEN (options -> 'allow_anonymous') = 'false' THEN FALSE ELSE TRUE END FROM activity_settings WHERE org_id = ? AND link_id = ?`, v.OrgID, v.LinkID).Row().Scan(&allowed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if !allowed {
		return errNoAnonymous
	}
	return nil
}
