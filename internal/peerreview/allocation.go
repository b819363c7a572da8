package peerreview

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/peerreview/allocate"
	"github.com/roundtable-lms/roundtable/internal/store"
)

// Why a review was given, beyond allocate's reasons.
const (
	ReasonSelf = "self_assessment"
)

// poolKey names the allocation pool of the viewer: their cohort, or the
// whole activity when reviews go across cohorts.
func poolKey(v Viewer, o Options) string {
	if o.AcrossCohorts {
		return ""
	}
	return v.CohortID
}

// lockPool serialises changes to one pool's allocation. SQLite's write
// transactions are already one at a time; Postgres takes a lock for the
// pool until the transaction ends.
func (s *Store) lockPool(tx *gorm.DB, v Viewer, o Options) error {
	if s.db.Dialect != store.Postgres {
		return nil
	}
	if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`, "peerreview/"+v.OrgID+"/"+v.LinkID+"/"+poolKey(v, o)).Error; err != nil {
		return fmt.Errorf("lock the review queue: %w", err)
	}
	return nil
}

// pooled is a submission of the pool as allocation needs it.
type pooled struct {
	ID, Author, Cohort string
	Version            int
}

// pool reads the pool's submissions (in order of arrival) and its live
// peer reviews (self-assessments are outside allocation); newcomer's
// submission, just written, is left for the caller to Add.
func (s *Store) pool(ctx context.Context, tx *gorm.DB, v Viewer, o Options, newcomer string) (*allocate.Pool, map[string]pooled, error) {
	q := `SELECT id, author_id, cohort_id, version FROM pr_submissions WHERE org_id = ? AND link_id = ? AND withdrawn = FALSE`
	args := []any{v.OrgID, v.LinkID}
	if !o.AcrossCohorts {
		q += ` AND cohort_id = ?`
		args = append(args, v.CohortID)
	}
	rows, err := tx.WithContext(ctx).Raw(q+` ORDER BY submitted_at, id`, args...).Rows()
	if err != nil {
		return nil, nil, fmt.Errorf("read the review queue: %w", err)
	}
	subs := map[string]pooled{}
	var authors []string
	for rows.Next() {
		var p pooled
		if err := rows.Scan(&p.ID, &p.Author, &p.Cohort, &p.Version); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("read the review queue: %w", err)
		}
		subs[p.Author] = p
		if p.Author != newcomer {
			authors = append(authors, p.Author)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	q = `SELECT author_id, reviewer_id, reason, state FROM pr_reviews WHERE org_id = ? AND link_id = ? AND state <> ? AND author_id <> reviewer_id`
	args = []any{v.OrgID, v.LinkID, StateRemoved}
	if !o.AcrossCohorts {
		q += ` AND cohort_id = ?`
		args = append(args, v.CohortID)
	}
	rows, err = tx.WithContext(ctx).Raw(q+` ORDER BY assigned_at, id`, args...).Rows()
	if err != nil {
		return nil, nil, fmt.Errorf("read the review queue: %w", err)
	}
	var existing []allocate.Assignment
	extra := map[string]bool{}
	for rows.Next() {
		var a allocate.Assignment
		var state string
		if err := rows.Scan(&a.Author, &a.Reviewer, &a.Reason, &state); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("read the review queue: %w", err)
		}
		a.Started = state != StateAssigned
		if _, ok := subs[a.Author]; !ok {
			continue // a withdrawn submission's reviews are outside the pool
		}
		if _, ok := subs[a.Reviewer]; !ok {
			extra[a.Reviewer] = true
		}
		existing = append(existing, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	var extras []string
	for _, a := range existing {
		if extra[a.Reviewer] {
			extras = append(extras, a.Reviewer)
			extra[a.Reviewer] = false
		}
	}
	p, err := allocate.Restore(o.Reviewers, v.OrgID+"/"+v.LinkID+"/"+poolKey(v, o), authors, extras, existing)
	if err != nil {
		return nil, nil, fmt.Errorf("restore the review queue: %w", err)
	}
	return p, subs, nil
}

// apply writes what an allocation did: the assignments it took back
// (never begun, or removed by staff) first, then those it made.
func (s *Store) apply(tx *gorm.DB, v Viewer, o Options, subs map[string]pooled, ch allocate.Change, actor string, now time.Time) ([]string, error) {
	var touched []string
	for _, a := range ch.Removed {
		sub, ok := subs[a.Author]
		if !ok {
			continue
		}
		var id string
		if err := tx.Raw(`SELECT id FROM pr_reviews WHERE org_id = ? AND submission_id = ? AND reviewer_id = ? AND state <> ?`,
			v.OrgID, sub.ID, a.Reviewer, StateRemoved).Row().Scan(&id); err != nil {
			return nil, fmt.Errorf("find the review allocation took back: %w", err)
		}
		if err := tx.Exec(`UPDATE pr_reviews SET state = ?, updated_at = ? WHERE org_id = ? AND id = ?`, StateRemoved, now, v.OrgID, id).Error; err != nil {
			return nil, fmt.Errorf("take back review: %w", err)
		}
		if err := s.log(tx, v, "remove", id, a.Author, a.Reviewer, a.Reason, actor, now); err != nil {
			return nil, err
		}
		touched = append(touched, a.Reviewer)
	}
	more, err := s.assign(tx, v, o, subs, ch.Added, actor, now)
	return append(touched, more...), err
}

// assign writes the assignments allocation made, and logs each with its
// reason; actor is the staff member who asked (” for Roundtable).
func (s *Store) assign(tx *gorm.DB, v Viewer, o Options, subs map[string]pooled, as []allocate.Assignment, actor string, now time.Time) ([]string, error) {
	var touched []string
	for _, a := range as {
		sub, ok := subs[a.Author]
		if !ok {
			return nil, fmt.Errorf("allocation named %s, who has no submission in the pool", a.Author)
		}
		id := store.NewID()
		if err := tx.Exec(`INSERT INTO pr_reviews (org_id, id, link_id, cohort_id, submission_id, author_id, reviewer_id, version, reason,
				assigned_by, assigned_at, state, rubric_version, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, v.OrgID, id, v.LinkID, sub.Cohort, sub.ID, a.Author, a.Reviewer, sub.Version,
			a.Reason, actor, now, StateAssigned, o.Rubric.Version, now).Error; err != nil {
			return nil, fmt.Errorf("assign review: %w", err)
		}
		if err := s.log(tx, v, "assign", id, a.Author, a.Reviewer, a.Reason, actor, now); err != nil {
			return nil, err
		}
		touched = append(touched, a.Reviewer)
	}
	return touched, nil
}

func (s *Store) log(tx *gorm.DB, v Viewer, action, reviewID, author, reviewer, reason, actor string, now time.Time) error {
	if err := tx.Exec(`INSERT INTO pr_allocation_log (org_id, id, link_id, at, action, review_id, author_id, reviewer_id, reason, actor_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, v.OrgID, store.NewID(), v.LinkID, now, action, reviewID, author, reviewer, reason, actor).Error; err != nil {
		return fmt.Errorf("log allocation: %w", err)
	}
	return nil
}

// allocateNew enters a first submission into its pool: handed to the
// reviewers with the fewest reviews, its author given work to review, and
// a self-assessment when the activity asks for one.
func (s *Store) allocateNew(ctx context.Context, tx *gorm.DB, v Viewer, o Options, sub Submission, now time.Time) ([]string, error) {
	p, subs, err := s.pool(ctx, tx, v, o, sub.AuthorID)
	if err != nil {
		return nil, err
	}
	ch, err := p.Add(sub.AuthorID)
	if err != nil {
		return nil, fmt.Errorf("allocate: %w", err)
	}
	touched, err := s.apply(tx, v, o, subs, ch, "", now)
	if err != nil {
		return nil, err
	}
	if o.SelfAssessment {
		self := []allocate.Assignment{{Author: sub.AuthorID, Reviewer: sub.AuthorID, Reason: ReasonSelf}}
		if _, err := s.assign(tx, v, o, subs, self, "", now); err != nil {
			return nil, err
		}
	}
	return touched, nil
}

// Fill ends the submission phase's allocation for the viewer's pool (or
// every pool, for staff with cohorts): each submission gets its k
// reviewers wherever there are enough submitters, loads balanced.
func (s *Store) Fill(ctx context.Context, v Viewer, o Options) (int, error) {
	if !v.Staff {
		return 0, errStaffOnly
	}
	now := s.now()
	var made int
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		cohorts := []string{v.CohortID}
		if !o.AcrossCohorts {
			if err := tx.Raw(`SELECT DISTINCT cohort_id FROM pr_submissions WHERE org_id = ? AND link_id = ?`, v.OrgID, v.LinkID).
				Scan(&cohorts).Error; err != nil {
				return fmt.Errorf("read cohorts: %w", err)
			}
		}
		var touched []string
		for _, cohort := range cohorts {
			in := v
			in.CohortID = cohort
			if err := s.lockPool(tx, in, o); err != nil {
				return err
			}
			p, subs, err := s.pool(ctx, tx, in, o, "")
			if err != nil {
				return err
			}
			ch := p.Fill()
			t, err := s.apply(tx, in, o, subs, ch, v.UserID, now)
			if err != nil {
				return err
			}
			made += len(ch.Added) - len(ch.Removed)
			touched = append(touched, t...)
		}
		if err := tx.Exec(`INSERT INTO pr_activity_state (org_id, link_id, filled_at) VALUES (?, ?, ?)
			ON CONFLICT (org_id, link_id) DO UPDATE SET filled_at = excluded.filled_at`, v.OrgID, v.LinkID, now).Error; err != nil {
			return fmt.Errorf("note allocation: %w", err)
		}
		return s.gradesMoved(ctx, tx, v, o, touched)
	})
	return made, err
}

var errStaffOnly = roundtable.Errorf(roundtable.EFORBIDDEN, "Only the course's instructors and teaching assistants can do that.")

// OneMoreWindow is how long before reviews are due a review nobody began
// is offered to reviewers who finished theirs.
const OneMoreWindow = 24 * time.Hour

// oneMoreCandidate is the submission of the viewer's pool whose oldest
// review nobody began, that the viewer neither wrote nor reviews, when
// the viewer may take one more: reviews are due within OneMoreWindow and
// they have done every review given to them.
func (s *Store) oneMoreCandidate(ctx context.Context, tx *gorm.DB, v Viewer, o Options, now time.Time) (string, bool, error) {
	if o.ReviewsDue.IsZero() || now.Before(o.ReviewsDue.Add(-OneMoreWindow)) || !now.Before(o.ReviewsDue) {
		return "", false, nil
	}
	var mine, owed int
	if err := tx.WithContext(ctx).Raw(`SELECT COUNT(*), COALESCE(SUM(CASE WHEN state <> ? THEN 1 ELSE 0 END), 0) FROM pr_reviews
		WHERE org_id = ? AND link_id = ? AND reviewer_id = ? AND state <> ? AND author_id <> reviewer_id`,
		StateDone, v.OrgID, v.LinkID, v.UserID, StateRemoved).Row().Scan(&mine, &owed); err != nil {
		return "", false, fmt.Errorf("read the reviewer's reviews: %w", err)
	}
	if mine == 0 || owed > 0 {
		return "", false, nil
	}
	q := `SELECT r.author_id FROM pr_reviews r WHERE r.org_id = ? AND r.link_id = ? AND r.state = ? AND r.author_id <> ?
		AND r.author_id <> r.reviewer_id
		AND NOT EXISTS (SELECT 1 FROM pr_reviews m WHERE m.org_id = r.org_id AND m.submission_id = r.submission_id AND m.reviewer_id = ? AND m.state <> ?)`
	args := []any{v.OrgID, v.LinkID, StateAssigned, v.UserID, v.UserID, StateRemoved}
	if !o.AcrossCohorts {
		q += ` AND r.cohort_id = ?`
		args = append(args, v.CohortID)
	}
	var authors []string
	if err := tx.WithContext(ctx).Raw(q+` ORDER BY r.assigned_at, r.id LIMIT 1`, args...).Scan(&authors).Error; err != nil {
		return "", false, fmt.Errorf("find a review to offer: %w", err)
	}
	if len(authors) == 0 {
		return "", false, nil
	}
	return authors[0], true, nil
}

// CanTakeOneMore reports whether the viewer is offered one more review.
func (s *Store) CanTakeOneMore(ctx context.Context, v Viewer, o Options) (bool, error) {
	_, ok, err := s.oneMoreCandidate(ctx, s.db.DB, v, o, s.now())
	return ok, err
}

// TakeOneMore gives the viewer, who finished their reviews, a submission
// whose review nobody has begun a day before reviews are due: its author
// gets a review even if the first reviewer never writes theirs (who still
// owes it). It returns the new review's id.
func (s *Store) TakeOneMore(ctx context.Context, v Viewer, o Options) (string, error) {
	now := s.now()
	var id string
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		if err := s.lockPool(tx, v, o); err != nil {
			return err
		}
		author, ok, err := s.oneMoreCandidate(ctx, tx, v, o, now)
		if err != nil {
			return err
		}
		if !ok {
			return roundtable.Errorf(roundtable.ECONFLICT, "There is no review to take on just now: every classmate’s work is being reviewed.")
		}
		p, subs, err := s.pool(ctx, tx, v, o, "")
		if err != nil {
			return err
		}
		a, err := p.Assign(author, v.UserID, allocate.ReasonReviewOneMore)
		if err != nil {
			return roundtable.Errorf(roundtable.ECONFLICT, "That review cannot be yours: %s", err.Error())
		}
		if _, err := s.assign(tx, v, o, subs, []allocate.Assignment{a}, v.UserID, now); err != nil {
			return err
		}
		if err := tx.Raw(`SELECT id FROM pr_reviews WHERE org_id = ? AND submission_id = ? AND reviewer_id = ? AND state = ?`,
			v.OrgID, subs[author].ID, v.UserID, StateAssigned).Row().Scan(&id); err != nil {
			return fmt.Errorf("read the new review: %w", err)
		}
		return s.gradesMoved(ctx, tx, v, o, []string{v.UserID})
	})
	return id, err
}

// JoinAsReviewer lets a learner who did not submit review classmates,
// where staff allowed it: they take reviews over from the busiest
// reviewers, none begun.
func (s *Store) JoinAsReviewer(ctx context.Context, v Viewer, o Options) (int, error) {
	if !o.OthersReview || v.Staff {
		return 0, roundtable.Errorf(roundtable.EFORBIDDEN, "In this activity, only learners who submitted review.")
	}
	now := s.now()
	var n int
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		if err := s.lockPool(tx, v, o); err != nil {
			return err
		}
		var mine int
		if err := tx.Raw(`SELECT COUNT(*) FROM pr_submissions WHERE org_id = ? AND link_id = ? AND author_id = ?`, v.OrgID, v.LinkID, v.UserID).
			Row().Scan(&mine); err != nil {
			return fmt.Errorf("read submission: %w", err)
		}
		if mine > 0 {
			return roundtable.Errorf(roundtable.ECONFLICT, "You submitted work: you are given reviews as a submitter.")
		}
		p, subs, err := s.pool(ctx, tx, v, o, "")
		if err != nil {
			return err
		}
		ch, err := p.AddReviewer(v.UserID)
		if errors.Is(err, allocate.ErrDuplicate) {
			return roundtable.Errorf(roundtable.ECONFLICT, "You are already a reviewer in this activity.")
		}
		if err != nil {
			return fmt.Errorf("allocate: %w", err)
		}
		if len(ch.Added) == 0 {
			return roundtable.Errorf(roundtable.ECONFLICT, "There is no classmate’s work to review yet. Come back once some has been submitted.")
		}
		touched, err := s.apply(tx, v, o, subs, ch, "", now)
		if err != nil {
			return err
		}
		n = len(ch.Added)
		return s.gradesMoved(ctx, tx, v, o, append(touched, v.UserID))
	})
	return n, err
}

// Withdraw takes a learner's submission out of the review queue (they
// left the course, or staff withdrew it): its reviews and the learner's
// reviews not begun are taken back, and what they owed is given to
// others; reviews already begun are kept.
func (s *Store) Withdraw(ctx context.Context, v Viewer, o Options, authorID string) error {
	if !v.Staff {
		return errStaffOnly
	}
	now := s.now()
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
		if _, ok := subs[authorID]; !ok {
			return roundtable.Errorf(roundtable.ECONFLICT, "That submission is already withdrawn.")
		}
		ch, err := p.Withdraw(authorID)
		if err != nil {
			return fmt.Errorf("allocate: %w", err)
		}
		touched, err := s.apply(tx, in, o, subs, ch, v.UserID, now)
		if err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE pr_submissions SET withdrawn = TRUE, updated_at = ? WHERE org_id = ? AND link_id = ? AND author_id = ?`,
			now, v.OrgID, v.LinkID, authorID).Error; err != nil {
			return fmt.Errorf("withdraw submission: %w", err)
		}
		return s.gradesMoved(ctx, tx, v, o, append(touched, authorID))
	})
}
