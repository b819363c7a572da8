package discussion

import (
	"context"
	"database/sql"
	"errors"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
)

// The activity's rules that the discussion enforces, from the settings its
// staff chose (the activity_settings table; no row means the defaults:
// anonymity allowed, nothing hidden until a learner posts).

// ErrPostFirst refuses a learner another's thread in a post-first activity
// until they have started one of their own.
var ErrPostFirst = roundtable.Errorf(roundtable.EFORBIDDEN,
	"In this activity you post your own response first: your cohort's threads open once you have started one. Go back to the discussion and start yours.")

var errNoAnonymous = fieldErr("anonymous", roundtable.EINVALID,
	"This activity does not allow anonymous posts: untick anonymous to post under your name. Your text is kept below.")

// postFirstQuery is 1 when the viewer (a learner) must post before seeing
// others: the activity asks it and they have no thread in the space yet.
const postFirstQuery = `SELECT CASE WHEN EXISTS (SELECT 1 FROM activity_settings st WHERE st.platform_id = ? AND st.link_id = ? AND st.post_first = TRUE)
	AND NOT EXISTS (SELECT 1 FROM threads own WHERE own.platform_id = ? AND own.cohort_id = ? AND own.link_id = ? AND own.author_id = ?)
	THEN 1 ELSE 0 END`

// MustPostFirst reports whether the viewer may see only their own threads
// until they start one: a learner in a post-first activity who has not.
// Staff and observers never must.
func (s *Store) MustPostFirst(ctx context.Context, v Viewer) (bool, error) {
	return mustPostFirst(s.db.DB.WithContext(ctx), v)
}

func mustPostFirst(db *gorm.DB, v Viewer) (bool, error) {
	if v.Staff || v.Observer {
		return false, nil
	}
	var must int
	err := db.Raw(postFirstQuery, v.PlatformID, v.LinkID, v.PlatformID, v.CohortID, v.LinkID, v.UserID).Row().Scan(&must)
	return must == 1, err
}

// othersGate is a condition on a thread t: for a learner who must post
// first, only their own threads pass. One clause in the query that lists
// or searches, so it costs no round trip.
func othersGate(v Viewer) (string, []any) {
	if v.Staff || v.Observer {
		return "", nil
	}
	return ` AND (t.author_id = ? OR NOT EXISTS (SELECT 1 FROM activity_settings st WHERE st.platform_id = ? AND st.link_id = ? AND st.post_first = TRUE)
		OR EXISTS (SELECT 1 FROM threads own WHERE own.platform_id = ? AND own.cohort_id = ? AND own.link_id = ? AND own.author_id = ?))`,
		[]any{v.UserID, v.PlatformID, v.LinkID, v.PlatformID, v.CohortID, v.LinkID, v.UserID}
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
	err := tx.Raw(`SELECT allow_anonymous FROM activity_settings WHERE platform_id = ? AND link_id = ?`, v.PlatformID, v.LinkID).Row().Scan(&allowed)
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
