package grade

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/internal/activity"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/tenant"
)

// Delivery states of a score owed.
const (
	StatePending   = "pending"
	StateDelivered = "delivered"
	// StateFailed is the dead letter: the LMS refused the score, or kept
	// failing past the last attempt. A person's retry queues it again.
	StateFailed = "failed"
	// StateUnavailable: the LMS gave this activity no gradebook service.
	StateUnavailable = "unavailable"
	// StateHeld: the LMS is disabled in Roundtable (or waits for an
	// administrator's approval). The score waits, and goes out on its own
	// once the LMS is active again (Release).
	StateHeld = "held"
)

// graded is what recomputing needs to know of an activity.
type graded struct {
	Settings  course.Settings
	CourseID  string
	HasAGS    bool
	LinkFound bool
	// PlatformActive is false while an administrator has the LMS disabled
	// (or not yet approved): its scores are held.
	PlatformActive bool
}

// scored reports whether the activity sends scores: a graded activity
// whose kind measures completion.
func (g graded) scored() bool {
	return g.LinkFound && g.Settings.Graded && g.Settings.Grading().Measured()
}

func (s *Service) readGraded(ctx context.Context, tx *gorm.DB, orgID, linkID string) (graded, error) {
	g := graded{Settings: course.DefaultSettings(orgID, linkID)}
	var lineItems, lineItem, status string
	var hasSettings bool
	err := tx.WithContext(ctx).Raw(`SELECT l.course_id, l.ags_lineitems, l.ags_lineitem, p.status, `+course.SettingsJoinColumns+`
		FROM resource_links l JOIN platforms p ON p.id = l.platform_id
		LEFT JOIN activity_settings st ON st.org_id = l.org_id AND st.link_id = l.id
		WHERE l.org_id = ? AND l.id = ?`, orgID, linkID).Row().
		Scan(append([]any{&g.CourseID, &lineItems, &lineItem, &status}, course.SettingsDest(&g.Settings, &hasSettings)...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return g, nil
	}
	if err != nil {
		return g, fmt.Errorf("read graded activity: %w", err)
	}
	g.LinkFound = true
	g.HasAGS = lineItems != "" || lineItem != ""
	g.PlatformActive = status == tenant.StatusActive
	return g, nil
}

// ProgressOf is a learner's standing against the completion measure of
// the activity whose settings the caller has already read, as its kind
// measures it.
func (s *Service) ProgressOf(ctx context.Context, st course.Settings, userID string) (activity.Progress, error) {
	if st.Options == nil {
		return activity.Progress{}, nil
	}
	return st.Options.Measure(ctx, s.db.DB, activity.Ref{OrgID: st.OrgID, LinkID: st.LinkID}, userID)
}

// Recompute brings the scores owed to the named learners of an activity up
// to date inside tx, the transaction of the change that may move them, and
// queues their delivery in the same transaction: the score and its
// delivery commit or roll back with the change. It does nothing for an
// ungraded activity, for staff, or when a learner's score did not change.
func (s *Service) Recompute(ctx context.Context, tx *gorm.DB, orgID, linkID string, userIDs ...string) error {
	if len(userIDs) == 0 {
		return nil
	}
	g, err := s.readGraded(ctx, tx, orgID, linkID)
	if err != nil || !g.scored() {
		return err
	}
	return s.recomputeAll(ctx, tx, g, orgID, linkID, userIDs)
}

// recomputeAll is Recompute for a scored activity g.
func (s *Service) recomputeAll(ctx context.Context, tx *gorm.DB, g graded, orgID, linkID string, userIDs []string) error {
	seen := map[string]bool{}
	for _, u := range userIDs {
		if u == "" || seen[u] {
			continue
		}
		seen[u] = true
		if err := s.recomputeOne(ctx, tx, g, orgID, linkID, u); err != nil {
			return err
		}
	}
	return nil
}

// RecomputeActivity re-scores every learner the activity's completion
// measure may concern — those its kind says did something it counts, and
// those who already have a score — after its settings changed, inside tx
// (the settings' transaction).
func (s *Service) RecomputeActivity(ctx context.Context, tx *gorm.DB, orgID, linkID string) error {
	g, err := s.readGraded(ctx, tx, orgID, linkID)
	if err != nil || !g.scored() {
		return err
	}
	users, err := g.Settings.Options.Learners(ctx, tx, activity.Ref{OrgID: orgID, LinkID: linkID})
	if err != nil {
		return err
	}
	var scored []string
	err = tx.WithContext(ctx).Raw(`SELECT user_id FROM grade_scores WHERE org_id = ? AND link_id = ?`, orgID, linkID).
		Scan(&scored).Error
	if err != nil {
		return fmt.Errorf("list learners to re-score: %w", err)
	}
	return s.recomputeAll(ctx, tx, g, orgID, linkID, append(users, scored...))
}

type owedRow struct {
	Given, Maximum          float64
	Activity, Grading, Note string
	ScoredAt                time.Time
	Version                 int
	State                   string
}

func (s *Service) recomputeOne(ctx context.Context, tx *gorm.DB, g graded, orgID, linkID, userID string) error {
	tx = tx.WithContext(ctx)
	var roles string
	err := tx.Raw(`SELECT roles FROM memberships WHERE org_id = ? AND course_id = ? AND user_id = ?`,
		orgID, g.CourseID, userID).Row().Scan(&roles)
	// Staff and observers (mentors) are never graded.
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !course.ParseRoles(roles).Participant()) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read member: %w", err)
	}
	if s.db.Dialect == store.Postgres {
		// Two changes for one learner at once must not interleave their
		// read of the old score with their write of the new one.
		if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`, "grade/"+orgID+"/"+linkID+"/"+userID).Error; err != nil {
			return fmt.Errorf("lock score: %w", err)
		}
	}
	p, err := g.Settings.Options.Measure(ctx, tx, activity.Ref{OrgID: orgID, LinkID: linkID}, userID)
	if err != nil {
		return err
	}
	owed := g.Settings.Options.Owe(g.Settings.Points, p)

	var old owedRow
	found := true
	err = tx.Raw(`SELECT score_given, score_maximum, activity_progress, grading_progress, comment, scored_at, version, state
		FROM grade_scores WHERE org_id = ? AND link_id = ? AND user_id = ?`, orgID, linkID, userID).Row().
		Scan(&old.Given, &old.Maximum, &old.Activity, &old.Grading, &old.Note, &old.ScoredAt, &old.Version, &old.State)
	if errors.Is(err, sql.ErrNoRows) {
		found = false
	} else if err != nil {
		return fmt.Errorf("read score: %w", err)
	}
	state := StatePending
	switch {
	case !g.HasAGS:
		state = StateUnavailable
	case !g.PlatformActive:
		state = StateHeld
	}
	if found && old.Given == owed.ScoreGiven && old.Maximum == owed.ScoreMaximum && old.Activity == owed.ActivityProgress &&
		old.Grading == owed.GradingProgress && old.Note == owed.Comment && (old.State == state || old.State == StateDelivered) {
		return nil
	}
	// AGS timestamps have milliseconds; each new score of a learner must be
	// strictly later than the last, even when the clock says otherwise.
	now := s.now().Truncate(time.Millisecond)
	scoredAt := now
	if found && !scoredAt.After(old.ScoredAt) {
		scoredAt = old.ScoredAt.Truncate(time.Millisecond).Add(time.Millisecond)
	}
	err = tx.Exec(`INSERT INTO grade_scores (org_id, link_id, user_id, course_id, score_given, score_maximum, activity_progress,
			grading_progress, comment, scored_at, version, state, attempts, last_error, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, 0, '', ?)
		ON CONFLICT (org_id, link_id, user_id) DO UPDATE SET score_given = excluded.score_given,
			score_maximum = excluded.score_maximum, activity_progress = excluded.activity_progress,
			grading_progress = excluded.grading_progress, comment = excluded.comment, scored_at = excluded.scored_at,
			version = grade_scores.version + 1, state = excluded.state, attempts = 0, last_error = '', retry_at = NULL,
			updated_at = excluded.updated_at`,
		orgID, linkID, userID, g.CourseID, owed.ScoreGiven, owed.ScoreMaximum, owed.ActivityProgress, owed.GradingProgress,
		owed.Comment, scoredAt, state, now).Error
	if err != nil {
		return fmt.Errorf("write score: %w", err)
	}
	if state != StatePending {
		return nil
	}
	return s.queue(ctx, tx, DeliverArgs{OrgID: orgID, LinkID: linkID, UserID: userID})
}
