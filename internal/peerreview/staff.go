package peerreview

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/peerreview/allocate"
	"github.com/roundtable-lms/roundtable/internal/store"
)

// Release publishes the results: authors read their feedback, and the
// gradebook's scores become final.
func (s *Store) Release(ctx context.Context, v Viewer, o Options) error {
	if !v.Staff {
		return errStaffOnly
	}
	return s.release(ctx, v, o)
}

// ReleaseIfDue releases the results of an activity released on a date
// once the date has passed, the first time anyone opens it after; it
// reports whether results are out.
func (s *Store) ReleaseIfDue(ctx context.Context, v Viewer, o Options, released bool) (bool, error) {
	if released || o.PhaseAt(s.now(), false) != PhaseReleased {
		return released || o.PhaseAt(s.now(), false) == PhaseReleased, nil
	}
	// Nobody released them: the person who happened to open the
	// activity is not named as if they had.
	system := v
	system.UserID = ""
	return true, s.release(ctx, system, o)
}

func (s *Store) release(ctx context.Context, v Viewer, o Options) error {
	now := s.now()
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		// Authors hear of it once, the first time results go out.
		var before int
		if err := tx.Raw(`SELECT COUNT(*) FROM pr_activity_state WHERE org_id = ? AND link_id = ? AND released_at IS NOT NULL`,
			v.OrgID, v.LinkID).Row().Scan(&before); err != nil {
			return fmt.Errorf("read release: %w", err)
		}
		if before == 0 {
			var authors []struct{ AuthorID, CohortID string }
			if err := tx.Raw(`SELECT DISTINCT s.author_id, s.cohort_id FROM pr_submissions s JOIN pr_reviews r ON r.org_id = s.org_id
				AND r.submission_id = s.id AND r.state = ? AND r.reviewer_id <> r.author_id
				WHERE s.org_id = ? AND s.link_id = ? AND s.withdrawn = FALSE`, StateDone, v.OrgID, v.LinkID).Scan(&authors).Error; err != nil {
				return fmt.Errorf("read authors: %w", err)
			}
			var noNotes []notified
			if err := tx.Raw(`SELECT user_id FROM notifications WHERE org_id = ? AND link_id = ? AND kind = ?`, v.OrgID, v.LinkID, NotifyReleased).
				Scan(&noNotes).Error; err != nil {
				return fmt.Errorf("read notifications: %w", err)
			}
			told := map[string]bool{}
			for _, n := range noNotes {
				told[n.UserID] = true
			}
			for _, a := range authors {
				if told[a.AuthorID] {
					continue
				}
				if err := notifyPerson(tx, v, a.AuthorID, a.CohortID, "", NotifyReleased, "the feedback on your work is ready", now); err != nil {
					return err
				}
			}
		}
		if err := tx.Exec(`INSERT INTO pr_activity_state (org_id, link_id, released_at) VALUES (?, ?, ?)
			ON CONFLICT (org_id, link_id) DO UPDATE SET released_at = excluded.released_at`, v.OrgID, v.LinkID, s.now()).Error; err != nil {
			return fmt.Errorf("release results: %w", err)
		}
		return s.regradeEveryone(ctx, tx, v, o)
	})
}

// regradeEveryone re-grades the activity and tells the gradebook of every
// learner graded: a release changes what all their scores say.
func (s *Store) regradeEveryone(ctx context.Context, tx *gorm.DB, v Viewer, o Options) error {
	var everyone []string
	if err := tx.Raw(`SELECT user_id FROM pr_grades WHERE org_id = ? AND link_id = ?`, v.OrgID, v.LinkID).Scan(&everyone).Error; err != nil {
		return fmt.Errorf("read grades: %w", err)
	}
	return s.gradesMoved(ctx, tx, v, o, everyone)
}

// Unrelease takes the results back (staff released too early).
func (s *Store) Unrelease(ctx context.Context, v Viewer, o Options) error {
	if !v.Staff {
		return errStaffOnly
	}
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec(`UPDATE pr_activity_state SET released_at = NULL WHERE org_id = ? AND link_id = ?`, v.OrgID, v.LinkID).Error; err != nil {
			return fmt.Errorf("withdraw results: %w", err)
		}
		return s.regradeEveryone(ctx, tx, v, o)
	})
}

// Override sets a learner's grade by hand (fraction 0 to 1, with a note
// for the learner's record); it wins over the computation and stays when
// reviews change. A negative fraction removes the override.
func (s *Store) Override(ctx context.Context, v Viewer, o Options, userID string, fraction float64, note string) error {
	if !v.Staff {
		return errStaffOnly
	}
	note = strings.TrimSpace(note)
	if fraction >= 0 && (fraction > 1 || note == "") {
		return fieldErr("override", "Give a grade between 0 and 100%% and a note saying why.")
	}
	if utf8.RuneCountInString(note) > MaxReason {
		return fieldErr("override", "The note is longer than %d characters.", MaxReason)
	}
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		if fraction < 0 {
			err = tx.Exec(`DELETE FROM pr_overrides WHERE org_id = ? AND link_id = ? AND user_id = ?`, v.OrgID, v.LinkID, userID).Error
		} else {
			err = tx.Exec(`INSERT INTO pr_overrides (org_id, link_id, user_id, fraction, note, by_id, at) VALUES (?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (org_id, link_id, user_id) DO UPDATE SET fraction = excluded.fraction, note = excluded.note, by_id = excluded.by_id, at = excluded.at`,
				v.OrgID, v.LinkID, userID, fraction, note, v.UserID, s.now()).Error
		}
		if err != nil {
			return fmt.Errorf("override grade: %w", err)
		}
		return s.gradesMoved(ctx, tx, v, o, []string{userID})
	})
}

// ResolveFlag records what staff decided about a flagged review.
func (s *Store) ResolveFlag(ctx context.Context, v Viewer, reviewID, resolution string) error {
	if !v.Staff {
		return errStaffOnly
	}
	resolution = strings.TrimSpace(resolution)
	if resolution == "" || utf8.RuneCountInString(resolution) > MaxReason {
		return fieldErr("resolution", "Say what you decided, in at most %d characters.", MaxReason)
	}
	res := s.db.DB.WithContext(ctx).Exec(`UPDATE pr_flags SET resolution = ?, resolved_by = ?, resolved_at = ? WHERE org_id = ? AND review_id = ? AND link_id = ?`,
		resolution, v.UserID, s.now(), v.OrgID, reviewID, v.LinkID)
	if res.Error != nil {
		return fmt.Errorf("resolve flag: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return errNoReview
	}
	return nil
}

// Assign gives author's submission to reviewer by hand (staff), logged
// with the staff member's name.
func (s *Store) Assign(ctx context.Context, v Viewer, o Options, authorID, reviewerID string) error {
	if !v.Staff {
		return errStaffOnly
	}
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		in, err := s.inPoolOf(tx, v, authorID)
		if err != nil {
			return err
		}
		if err := s.lockPool(tx, in, o); err != nil {
			return err
		}
		p, subs, err := s.pool(ctx, tx, in, o, "")
		if err != nil {
			return err
		}
		a, err := p.Assign(authorID, reviewerID, allocate.ReasonStaff)
		if err != nil {
			return roundtable.Errorf(roundtable.ECONFLICT, "%s", err.Error())
		}
		if _, err := s.assign(tx, in, o, subs, []allocate.Assignment{a}, v.UserID, s.now()); err != nil {
			return err
		}
		return s.gradesMoved(ctx, tx, v, o, []string{reviewerID, authorID})
	})
}

// inPoolOf is v placed in the cohort of author's submission.
func (s *Store) inPoolOf(tx *gorm.DB, v Viewer, authorID string) (Viewer, error) {
	in := v
	err := tx.Raw(`SELECT cohort_id FROM pr_submissions WHERE org_id = ? AND link_id = ? AND author_id = ?`, v.OrgID, v.LinkID, authorID).
		Row().Scan(&in.CohortID)
	if errors.Is(err, sql.ErrNoRows) {
		return in, errNoSubmission
	}
	return in, err
}

// RemoveReview takes a review away from its reviewer (staff); a
// replacement reviewer is found when the pool has one.
func (s *Store) RemoveReview(ctx context.Context, v Viewer, o Options, reviewID string) error {
	if !v.Staff {
		return errStaffOnly
	}
	now := s.now()
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		rs, err := s.queryReviewsTx(ctx, tx, `WHERE r.org_id = ? AND r.id = ? AND r.link_id = ? AND r.state <> ?`, v.OrgID, reviewID, v.LinkID, StateRemoved)
		if err != nil {
			return err
		}
		if len(rs) == 0 {
			return errNoReview
		}
		r := rs[0]
		in := v
		in.CohortID = r.CohortID
		if err := s.lockPool(tx, in, o); err != nil {
			return err
		}
		p, subs, err := s.pool(ctx, tx, in, o, "")
		if err != nil {
			return err
		}
		touched := []string{r.ReviewerID, r.AuthorID}
		if _, pooledAuthor := subs[r.AuthorID]; r.Self() || !pooledAuthor {
			if err := tx.Exec(`UPDATE pr_reviews SET state = ?, updated_at = ? WHERE org_id = ? AND id = ?`, StateRemoved, now, v.OrgID, r.ID).Error; err != nil {
				return fmt.Errorf("remove review: %w", err)
			}
			if err := s.log(tx, in, "remove", r.ID, r.AuthorID, r.ReviewerID, allocate.ReasonStaff, v.UserID, now); err != nil {
				return err
			}
		} else {
			ch, err := p.Remove(r.AuthorID, r.ReviewerID)
			if err != nil {
				return fmt.Errorf("remove review: %w", err)
			}
			for i := range ch.Removed {
				if ch.Removed[i].Author == r.AuthorID && ch.Removed[i].Reviewer == r.ReviewerID {
					ch.Removed[i].Reason = allocate.ReasonStaff
				}
			}
			more, err := s.apply(tx, in, o, subs, ch, v.UserID, now)
			if err != nil {
				return err
			}
			touched = append(touched, more...)
		}
		return s.gradesMoved(ctx, tx, v, o, touched)
	})
}

// LogEntry is one line of the allocation log.
type LogEntry struct {
	At                                   time.Time
	Action, Author, Reviewer, Reason, By string
}

// Log is the activity's allocation log, newest first, at most limit.
func (s *Store) Log(ctx context.Context, v Viewer, limit int) ([]LogEntry, error) {
	if !v.Staff {
		return nil, errStaffOnly
	}
	rows, err := s.db.SQL.QueryContext(ctx, s.db.Rebind(`SELECT at, action, author_id, reviewer_id, reason, actor_id FROM pr_allocation_log
		WHERE org_id = ? AND link_id = ? ORDER BY at DESC, id LIMIT ?`), v.OrgID, v.LinkID, limit)
	if err != nil {
		return nil, fmt.Errorf("read allocation log: %w", err)
	}
	defer rows.Close()
	var out []LogEntry
	for rows.Next() {
		var e LogEntry
		if err := rows.Scan(&e.At, &e.Action, &e.Author, &e.Reviewer, &e.Reason, &e.By); err != nil {
			return nil, fmt.Errorf("read allocation log: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Submissions are the activity's submissions, for staff.
func (s *Store) Submissions(ctx context.Context, v Viewer) ([]Submission, error) {
	if !v.Staff {
		return nil, errStaffOnly
	}
	rows, err := s.db.SQL.QueryContext(ctx, s.db.Rebind(`SELECT `+submissionColumns+`
		FROM pr_submissions WHERE org_id = ? AND link_id = ? ORDER BY submitted_at, id`), v.OrgID, v.LinkID)
	if err != nil {
		return nil, fmt.Errorf("read submissions: %w", err)
	}
	defer rows.Close()
	var out []Submission
	for rows.Next() {
		var sub Submission
		if err := rows.Scan(sub.dest()...); err != nil {
			return nil, fmt.Errorf("read submissions: %w", err)
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// Examples are the activity's calibration examples.
func (s *Store) Examples(ctx context.Context, v Viewer) ([]Example, error) {
	return s.examplesTx(s.db.DB.WithContext(ctx), v)
}

// SaveExample adds or changes a calibration example and the instructor's
// assessment of it (every scored criterion assessed).
func (s *Store) SaveExample(ctx context.Context, v Viewer, o Options, e Example) (Example, error) {
	if !v.Staff {
		return e, errStaffOnly
	}
	e.Title, e.Body = strings.TrimSpace(e.Title), strings.ReplaceAll(e.Body, "\r\n", "\n")
	if e.Title == "" || utf8.RuneCountInString(e.Title) > maxTitle {
		return e, fieldErr("title", "Give the example a title of at most %d characters.", maxTitle)
	}
	if strings.TrimSpace(e.Body) == "" || utf8.RuneCountInString(e.Body) > MaxBody {
		return e, fieldErr("body", "Write the example's text (at most %d characters).", MaxBody)
	}
	if e.Key.Criteria == nil {
		e.Key.Criteria = map[string]Answer{}
	}
	if err := CheckAssessment(o.Rubric, e.Key, true); err != nil {
		return e, err
	}
	doc, err := json.Marshal(e.Key)
	if err != nil {
		return e, err
	}
	err = s.db.Tx(ctx, func(tx *gorm.DB) error {
		if e.ID == "" {
			e.ID = store.NewID()
			if err := tx.Exec(`INSERT INTO pr_examples (org_id, id, link_id, title, body, doc, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				v.OrgID, e.ID, v.LinkID, e.Title, e.Body, string(doc), s.now()).Error; err != nil {
				return fmt.Errorf("keep example: %w", err)
			}
		} else {
			res := tx.Exec(`UPDATE pr_examples SET title = ?, body = ?, doc = ? WHERE org_id = ? AND id = ? AND link_id = ?`,
				e.Title, e.Body, string(doc), v.OrgID, e.ID, v.LinkID)
			if res.Error != nil {
				return fmt.Errorf("keep example: %w", res.Error)
			}
			if res.RowsAffected == 0 {
				return roundtable.Errorf(roundtable.ENOTFOUND, "That example is not in this activity.")
			}
		}
		return s.gradesMoved(ctx, tx, v, o, nil)
	})
	return e, err
}

// Calibrations are the viewer's assessments of the examples, by example.
func (s *Store) Calibrations(ctx context.Context, v Viewer) (map[string]Assessment, error) {
	rows, err := s.db.SQL.QueryContext(ctx, s.db.Rebind(`SELECT example_id, doc FROM pr_calibrations WHERE org_id = ? AND link_id = ? AND user_id = ?`),
		v.OrgID, v.LinkID, v.UserID)
	if err != nil {
		return nil, fmt.Errorf("read calibrations: %w", err)
	}
	defer rows.Close()
	out := map[string]Assessment{}
	for rows.Next() {
		var id, doc string
		var a Assessment
		if err := rows.Scan(&id, &doc); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(doc), &a); err != nil {
			return nil, err
		}
		out[id] = a
	}
	return out, rows.Err()
}

// Calibrate keeps the viewer's assessment of an example. It is final:
// the instructor's assessment is shown once it is in.
func (s *Store) Calibrate(ctx context.Context, v Viewer, o Options, exampleID string, a Assessment) error {
	if a.Criteria == nil {
		a.Criteria = map[string]Answer{}
	}
	if err := CheckAssessment(o.Rubric, a, true); err != nil {
		return err
	}
	doc, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		var n int
		if err := tx.Raw(`SELECT COUNT(*) FROM pr_examples WHERE org_id = ? AND id = ? AND link_id = ?`, v.OrgID, exampleID, v.LinkID).
			Row().Scan(&n); err != nil {
			return fmt.Errorf("read example: %w", err)
		}
		if n == 0 {
			return roundtable.Errorf(roundtable.ENOTFOUND, "That example is not in this activity.")
		}
		res := tx.Exec(`INSERT INTO pr_calibrations (org_id, link_id, example_id, user_id, doc, done_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (org_id, link_id, example_id, user_id) DO NOTHING`, v.OrgID, v.LinkID, exampleID, v.UserID, string(doc), s.now())
		if res.Error != nil {
			return fmt.Errorf("keep calibration: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return roundtable.Errorf(roundtable.ECONFLICT, "You have already assessed this example.")
		}
		return s.gradesMoved(ctx, tx, v, o, []string{v.UserID})
	})
}

// Remind notifies, in the app, each learner who is behind with what they
// owe: their work while submissions are taken, the reviews not yet
// submitted and when they are due. spaceID is the activity's space for
// the viewer's cohort, where notifications are listed. It returns how many
// were reminded.
func (s *Store) Remind(ctx context.Context, v Viewer, o Options, spaceID string, members []Member) (int, error) {
	if !v.Staff {
		return 0, errStaffOnly
	}
	now := s.now()
	released, err := s.Released(ctx, v.OrgID, v.LinkID)
	if err != nil {
		return 0, err
	}
	accepting, _ := o.AcceptsWork(now, released)
	// Counted, not read: the reviews' documents are not needed.
	var counts []struct {
		ReviewerID string
		Owed       int
	}
	if err := s.db.DB.WithContext(ctx).Raw(`SELECT reviewer_id, COUNT(*) AS owed FROM pr_reviews
		WHERE org_id = ? AND link_id = ? AND state NOT IN (?, ?) GROUP BY reviewer_id`,
		v.OrgID, v.LinkID, StateDone, StateRemoved).Scan(&counts).Error; err != nil {
		return 0, fmt.Errorf("count reviews owed: %w", err)
	}
	owed := make(map[string]int, len(counts))
	for _, c := range counts {
		owed[c.ReviewerID] = c.Owed
	}
	subs, err := s.Submissions(ctx, v)
	if err != nil {
		return 0, err
	}
	submitted, cohortOf := map[string]bool{}, map[string]string{}
	for _, sub := range subs {
		submitted[sub.AuthorID] = !sub.Withdrawn
		cohortOf[sub.AuthorID] = sub.CohortID
	}
	due := ""
	if !o.ReviewsDue.IsZero() {
		due = ", due " + o.ReviewsDue.In(o.Location()).Format("Mon 2 Jan 15:04")
	}
	n := 0
	err = s.db.Tx(ctx, func(tx *gorm.DB) error {
		for _, m := range members {
			var parts []string
			if !submitted[m.UserID] && accepting {
				work := "your work to submit"
				if !o.Due.IsZero() {
					work += ", due " + o.Due.In(o.Location()).Format("Mon 2 Jan 15:04")
				}
				parts = append(parts, work)
			}
			if k := owed[m.UserID]; k > 0 {
				word := "reviews"
				if k == 1 {
					word = "review"
				}
				parts = append(parts, fmt.Sprintf("%d %s to do%s", k, word, due))
			}
			if len(parts) == 0 {
				continue
			}
			cohort := cohortOf[m.UserID]
			if cohort == "" {
				cohort = v.CohortID
			}
			if err := notifyPerson(tx, v, m.UserID, cohort, spaceID, NotifyReminder, strings.Join(parts, "; "), now); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

type notified struct{ UserID string }
