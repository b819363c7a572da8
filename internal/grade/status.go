package grade

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/tenant"
)

// Delivery is a score owed as people see it: instructors for their course,
// administrators for every LMS.
type Delivery struct {
	OrgID string
	// PlatformID and PlatformName name the registration the score goes to.
	PlatformID    string
	PlatformName  string
	CourseID      string
	CourseTitle   string
	LinkID        string
	ActivityTitle string
	UserID        string
	LearnerName   string
	ScoreGiven    float64
	ScoreMaximum  float64
	Activity      string
	Grading       string
	State         string
	Attempts      int
	LastError     string
	ScoredAt      time.Time
	LastAttemptAt time.Time
	DeliveredAt   time.Time
}

// Filter scopes a list of deliveries. OrgID and CourseID empty: every
// LMS (administrators only). PlatformID narrows to the activities a
// registration serves, LinkID to one activity.
type Filter struct {
	OrgID      string
	PlatformID string
	CourseID   string
	LinkID     string
	// State narrows to one state (StateFailed for the dead letters).
	State string
	Limit int
}

// where is the condition on grade_scores (columns prefixed by prefix) that
// keeps the rows of f's registration, organisation, course and activity,
// and of the given state and learner; an empty value does not narrow.
func where(prefix string, f Filter, state, userID string) (string, []any) {
	var cond strings.Builder
	var args []any
	for _, c := range []struct{ col, v string }{{"org_id", f.OrgID}, {"course_id", f.CourseID}, {"link_id", f.LinkID},
		{"state", state}, {"user_id", userID}} {
		if c.v != "" {
			cond.WriteString(" AND " + prefix + c.col + " = ?")
			args = append(args, c.v)
		}
	}
	if f.PlatformID != "" {
		// The activities the registration serves (launched them last).
		cond.WriteString(" AND EXISTS (SELECT 1 FROM resource_links wl WHERE wl.org_id = " + prefix + "org_id AND wl.id = " + prefix +
			"link_id AND wl.platform_id = ?)")
		args = append(args, f.PlatformID)
	}
	return cond.String(), args
}

// Deliveries lists scores owed, newest change first.
func (s *Service) Deliveries(ctx context.Context, f Filter) ([]Delivery, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 200
	}
	q := `SELECT g.org_id, l.platform_id, p.name, g.course_id, c.title, g.link_id, l.title, g.user_id,
			CASE WHEN u.name <> '' THEN u.name ELSE u.pseudonym END,
			g.score_given, g.score_maximum, g.activity_progress, g.grading_progress, g.state, g.attempts, g.last_error,
			g.scored_at, g.last_attempt_at, g.delivered_at
		FROM grade_scores g
		JOIN courses c ON c.org_id = g.org_id AND c.id = g.course_id
		JOIN resource_links l ON l.org_id = g.org_id AND l.id = g.link_id
		JOIN platforms p ON p.id = l.platform_id
		JOIN users u ON u.org_id = g.org_id AND u.id = g.user_id
		WHERE 1 = 1`
	cond, args := where("g.", f, f.State, "")
	q += cond + " ORDER BY g.updated_at DESC, g.user_id LIMIT ?"
	args = append(args, f.Limit)
	rows, err := s.db.WithContext(ctx).Raw(q, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var d Delivery
		var attempted, delivered sql.NullTime
		if err := rows.Scan(&d.OrgID, &d.PlatformID, &d.PlatformName, &d.CourseID, &d.CourseTitle, &d.LinkID, &d.ActivityTitle, &d.UserID,
			&d.LearnerName, &d.ScoreGiven, &d.ScoreMaximum, &d.Activity, &d.Grading, &d.State, &d.Attempts, &d.LastError,
			&d.ScoredAt, &attempted, &delivered); err != nil {
			return nil, fmt.Errorf("list deliveries: %w", err)
		}
		d.LastAttemptAt, d.DeliveredAt = attempted.Time, delivered.Time
		out = append(out, d)
	}
	return out, rows.Err()
}

// StateCounts counts deliveries by state, for a summary line.
func (s *Service) StateCounts(ctx context.Context, f Filter) (map[string]int, error) {
	cond, args := where("grade_scores.", f, "", "")
	rows, err := s.db.WithContext(ctx).Raw(`SELECT state, COUNT(*) FROM grade_scores WHERE 1 = 1`+cond+` GROUP BY state`, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("count deliveries: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}

// Retry queues again the dead-lettered scores f selects (a course's, an
// activity's, one learner's with userID, or every LMS's for
// administrators), and reports how many. Each gets fresh attempts.
func (s *Service) Retry(ctx context.Context, f Filter, userID string) (int, error) {
	if f.OrgID == "" && f.CourseID != "" {
		return 0, roundtable.Errorf(roundtable.EINVALID, "a course's retry needs its platform")
	}
	n := 0
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		cond, args := where("grade_scores.", f, StateFailed, userID)
		var keys []DeliverArgs
		rows, err := tx.WithContext(ctx).Raw(`SELECT org_id, link_id, user_id FROM grade_scores WHERE 1 = 1`+cond+` LIMIT 10000`, args...).Rows()
		if err != nil {
			return err
		}
		for rows.Next() {
			var k DeliverArgs
			if err := rows.Scan(&k.OrgID, &k.LinkID, &k.UserID); err != nil {
				rows.Close()
				return err
			}
			keys = append(keys, k)
		}
		rows.Close()
		for _, k := range keys {
			if err := tx.Exec(`UPDATE grade_scores SET state = ?, attempts = 0, retry_at = NULL, updated_at = ? WHERE org_id = ? AND link_id = ? AND user_id = ? AND state = ?`,
				StatePending, s.now(), k.OrgID, k.LinkID, k.UserID, StateFailed).Error; err != nil {
				return err
			}
			if err := s.queue(ctx, tx, k); err != nil {
				return err
			}
		}
		n = len(keys)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("retry deliveries: %w", err)
	}
	return n, nil
}

// releaseBatch is how many scores one transaction of Release or
// RescoreWaiting handles.
const releaseBatch = 500

// Release queues the scores held while their LMS was disabled, once it is
// active again (every LMS's, or those of registration platformID); it
// reports how many. Enabling an LMS in the console calls it; the sweep calls it every
// SweepInterval, whatever changed the LMS's status.
func (s *Service) Release(ctx context.Context, platformID string) (int, error) {
	return s.inBatches(ctx, "release held scores", func(tx *gorm.DB) (int, error) {
		q := `SELECT g.org_id, g.link_id, g.user_id FROM grade_scores g
			JOIN resource_links l ON l.org_id = g.org_id AND l.id = g.link_id
			JOIN platforms p ON p.id = l.platform_id AND p.status = ?
			WHERE g.state = ?`
		args := []any{tenant.StatusActive, StateHeld}
		if platformID != "" {
			q += ` AND l.platform_id = ?`
			args = append(args, platformID)
		}
		keys, err := scanKeys(tx.WithContext(ctx).Raw(q+` LIMIT ?`, append(args, releaseBatch)...))
		if err != nil {
			return 0, err
		}
		for _, k := range keys {
			if err := tx.Exec(`UPDATE grade_scores SET state = ?, updated_at = ? WHERE org_id = ? AND link_id = ? AND user_id = ? AND state = ?`,
				StatePending, s.now(), k.OrgID, k.LinkID, k.UserID, StateHeld).Error; err != nil {
				return 0, err
			}
			if err := s.queue(ctx, tx, k); err != nil {
				return 0, err
			}
		}
		return len(keys), nil
	})
}

// RescoreWaiting re-counts, under the current rules, the scores a
// migration left to re-count (grade_rescores: scores that may have counted
// what no longer counts), and queues those that changed; it reports how
// many it re-counted.
func (s *Service) RescoreWaiting(ctx context.Context) (int, error) {
	return s.inBatches(ctx, "re-count scores", func(tx *gorm.DB) (int, error) {
		keys, err := scanKeys(tx.WithContext(ctx).Raw(`SELECT org_id, link_id, user_id FROM grade_rescores
			ORDER BY org_id, link_id LIMIT ?`, releaseBatch))
		if err != nil {
			return 0, err
		}
		for _, k := range keys {
			if err := s.Recompute(ctx, tx, k.OrgID, k.LinkID, k.UserID); err != nil {
				return 0, err
			}
			if err := tx.Exec(`DELETE FROM grade_rescores WHERE org_id = ? AND link_id = ? AND user_id = ?`,
				k.OrgID, k.LinkID, k.UserID).Error; err != nil {
				return 0, err
			}
		}
		return len(keys), nil
	})
}

// inBatches runs batch in one transaction after another, each handling at
// most releaseBatch scores, until one handles fewer (or after 1,000); it
// reports how many were handled in all.
func (s *Service) inBatches(ctx context.Context, what string, batch func(tx *gorm.DB) (int, error)) (int, error) {
	total := 0
	for range 1000 {
		n := 0
		err := s.db.Tx(ctx, func(tx *gorm.DB) error {
			var err error
			n, err = batch(tx)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("%s: %w", what, err)
		}
		total += n
		if n < releaseBatch {
			break
		}
	}
	return total, nil
}

// scanKeys reads (org_id, link_id, user_id) rows.
func scanKeys(q *gorm.DB) ([]DeliverArgs, error) {
	rows, err := q.Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []DeliverArgs
	for rows.Next() {
		var k DeliverArgs
		if err := rows.Scan(&k.OrgID, &k.LinkID, &k.UserID); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}
