package grade

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/advantage"
)

// lineItemTag marks the gradebook columns Roundtable creates.
const lineItemTag = "roundtable"

type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	s *Service
}

// delivery is a score owed with what sending it needs.
type delivery struct {
	DeliverArgs
	owedRow
	Attempts                        int
	Subject                         string
	ResourceLinkID, Title, Custom   string
	LineItemsURL, LaunchLineItemURL string
	LineItemURL                     string
	// LineItemMaximum is the column's maximum as Roundtable last set or
	// saw it.
	LineItemMaximum float64
	// PlatformID is the registration that launched the activity last: the
	// score goes to its LMS, with its token. PlatformActive is false while
	// that LMS is disabled (or not yet approved) in Roundtable: the score
	// is held, not sent.
	PlatformID     string
	PlatformActive bool
	// Unchanged is true when the score is the one the LMS was last sent
	// with success: there is nothing to send.
	Unchanged bool
	// RetryAt, after a failed try, is when the score may be tried again.
	RetryAt sql.NullTime
}

func (s *Service) loadDelivery(ctx context.Context, a DeliverArgs) (delivery, error) {
	d := delivery{DeliverArgs: a}
	var status string
	err := s.db.WithContext(ctx).Raw(`SELECT g.score_given, g.score_maximum, g.activity_progress, g.grading_progress, g.comment, g.scored_at,
			g.version, g.state, g.attempts, u.subject, l.resource_link_id, l.title, l.custom, l.ags_lineitems, l.ags_lineitem,
			COALESCE(li.url, ''), COALESCE(li.score_maximum, 0), l.platform_id, COALESCE(p.status, ''), g.retry_at,
			CASE WHEN g.delivered_given = g.score_given AND g.delivered_maximum = g.score_maximum AND g.delivered_activity = g.activity_progress
				AND g.delivered_grading = g.grading_progress AND g.delivered_comment = g.comment THEN 1 ELSE 0 END
		FROM grade_scores g
		JOIN users u ON u.org_id = g.org_id AND u.id = g.user_id
		JOIN resource_links l ON l.org_id = g.org_id AND l.id = g.link_id
		LEFT JOIN platforms p ON p.id = l.platform_id
		LEFT JOIN grade_line_items li ON li.org_id = g.org_id AND li.link_id = g.link_id
		WHERE g.org_id = ? AND g.link_id = ? AND g.user_id = ?`, a.OrgID, a.LinkID, a.UserID).Row().
		Scan(&d.Given, &d.Maximum, &d.Activity, &d.Grading, &d.Note, &d.ScoredAt, &d.Version, &d.State, &d.Attempts,
			&d.Subject, &d.ResourceLinkID, &d.Title, &d.Custom, &d.LineItemsURL, &d.LaunchLineItemURL, &d.LineItemURL, &d.LineItemMaximum,
			&d.PlatformID, &status, &d.RetryAt, &d.Unchanged)
	d.PlatformActive = status == tenant.StatusActive
	return d, err
}

// Work delivers the newest score of one learner and activity. A score has
// at most one waiting job (see queue): the job takes the score when it
// starts, so a change made from then on queues the next one, and sends
// whatever the row holds. A burst of changes thus sends the newest score
// once or twice, never a stale one, and never one call per change.
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	err := w.s.deliver(ctx, job.Args)
	var snooze *river.JobSnoozeError
	var cancel *river.JobCancelError
	if err != nil && job.Attempt >= job.MaxAttempts && !errors.As(err, &snooze) && !errors.As(err, &cancel) {
		// River gives up on the job after days of errors (the database):
		// the score is dead-lettered, for a person to retry.
		w.s.giveUp(context.WithoutCancel(ctx), job.Args, err)
	}
	return err
}

func (s *Service) deliver(ctx context.Context, a DeliverArgs) error {
	if err := s.take(ctx, a); err != nil {
		return err
	}
	// Before taking the LMS's slot, which other learners' deliveries wait
	// for: is there anything to send?
	d, err := s.loadDelivery(ctx, a)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // the activity or learner is gone
	}
	if err != nil {
		return err
	}
	if done, err := s.settle(ctx, d); err != nil || done {
		return err
	}
	release, ok, err := s.gate.acquire(ctx, d.PlatformID, 20*time.Second)
	if err != nil {
		return err
	}
	if !ok {
		// Other deliveries to this LMS are running.
		return s.again(ctx, a, 200*time.Millisecond+rand.N(300*time.Millisecond))
	}
	defer release()
	// Read inside the gate: what an earlier delivery recorded (the line
	// item, the delivered score) is seen.
	for range 3 {
		d, err := s.loadDelivery(ctx, a)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if done, err := s.settle(ctx, d); err != nil || done {
			return err
		}
		if err := s.send(ctx, &d); err != nil {
			return s.failed(ctx, d, err)
		}
		// A score that changed while it was sent is sent again.
		if current, err := s.markDelivered(ctx, d); err != nil || current {
			return err
		}
	}
	return s.again(ctx, a, 0)
}

// take writes to the score's row as the delivery starts: a change being
// made holds the row until it commits, and is then seen by this delivery;
// a change made after sees this job running (not waiting) and queues the
// next one.
func (s *Service) take(ctx context.Context, a DeliverArgs) error {
	err := s.db.Relaxed().WithContext(ctx).Exec(`UPDATE grade_scores SET taken_at = ? WHERE org_id = ? AND link_id = ? AND user_id = ?`,
		s.now(), a.OrgID, a.LinkID, a.UserID).Error
	if err != nil {
		return fmt.Errorf("take delivery: %w", err)
	}
	return nil
}

// again queues the score's delivery to run after wait, as a job of its
// own, and ends this one: one transaction writes the new job and
// records it as the score's waiting job, so a change made meanwhile finds
// it waiting and queues none. When another job already waits (a change
// queued it), that one goes on alone.
func (s *Service) again(ctx context.Context, a DeliverArgs, wait time.Duration) error {
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		// The write takes the score's row: a change being made commits first.
		res := tx.Exec(`UPDATE grade_scores SET job_id = job_id WHERE org_id = ? AND link_id = ? AND user_id = ?`, a.OrgID, a.LinkID, a.UserID)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error // gone
		}
		return s.queueAt(ctx, tx, a, wait)
	})
	if err != nil {
		return fmt.Errorf("queue delivery again: %w", err)
	}
	return nil
}

// giveUp dead-letters a score whose job River gives up on.
func (s *Service) giveUp(ctx context.Context, a DeliverArgs, cause error) {
	reason := "Roundtable could not deliver this score: " + cause.Error()
	if len(reason) > 1000 {
		reason = reason[:1000]
	}
	err := s.db.WithContext(ctx).Exec(`UPDATE grade_scores SET state = ?, last_error = ?, updated_at = ?
		WHERE org_id = ? AND link_id = ? AND user_id = ? AND state = ?`, StateFailed, reason, s.now(), a.OrgID, a.LinkID, a.UserID, StatePending).Error
	s.Logger.ErrorContext(ctx, "grade delivery abandoned after repeated errors; kept for a person to retry", slog.String("organisation", a.OrgID),
		slog.String("activity", a.LinkID), slog.String("learner", a.UserID), slog.Any("error", cause), slog.Any("record_error", err))
}

// settle ends, without calling the LMS, a delivery that has nothing to
// send: a score no longer pending, one held while its LMS is disabled, or
// one the LMS already holds (a vote given and taken back). done is false
// when the score must be sent.
func (s *Service) settle(ctx context.Context, d delivery) (done bool, err error) {
	switch {
	case d.State != StatePending:
		return true, nil
	case !d.PlatformActive:
		return true, s.hold(ctx, d)
	case d.RetryAt.Valid && d.RetryAt.Time.After(s.now()):
		// Another job tried this score and failed: its next try waits
		// its backoff, whichever job makes it.
		return true, s.again(ctx, d.DeliverArgs, d.RetryAt.Time.Sub(s.now()))
	case d.Unchanged:
		res := s.db.Relaxed().WithContext(ctx).Exec(`UPDATE grade_scores SET delivered_version = version, state = ?, attempts = 0, last_error = ''
			WHERE org_id = ? AND link_id = ? AND user_id = ? AND version = ? AND state = ?`,
			StateDelivered, d.OrgID, d.LinkID, d.UserID, d.Version, StatePending)
		if res.Error != nil {
			return true, fmt.Errorf("record an unchanged score: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return true, s.again(ctx, d.DeliverArgs, 0) // it changed meanwhile
		}
		return true, nil
	}
	return false, nil
}

// hold keeps a pending score of a disabled LMS as held: Release queues it
// once the LMS is active again. The LMS's status is checked again in the
// statement, so a score is not held after its LMS was enabled.
func (s *Service) hold(ctx context.Context, d delivery) error {
	res := s.db.WithContext(ctx).Exec(`UPDATE grade_scores SET state = ?, updated_at = ?
		WHERE org_id = ? AND link_id = ? AND user_id = ? AND version = ? AND state = ?
			AND NOT EXISTS (SELECT 1 FROM resource_links l JOIN platforms p ON p.id = l.platform_id
				WHERE l.org_id = grade_scores.org_id AND l.id = grade_scores.link_id AND p.status = ?)`,
		StateHeld, s.now(), d.OrgID, d.LinkID, d.UserID, d.Version, StatePending, tenant.StatusActive)
	if res.Error != nil {
		return fmt.Errorf("hold a score: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return s.again(ctx, d.DeliverArgs, 0) // it changed, or the LMS is active again
	}
	s.Logger.InfoContext(ctx, "grade delivery held: the LMS is disabled in Roundtable", slog.String("platform", d.PlatformID),
		slog.String("activity", d.LinkID), slog.String("learner", d.UserID))
	return nil
}

// send resolves the activity's line item (once) and publishes the score.
func (s *Service) send(ctx context.Context, d *delivery) error {
	reg, err := s.regs.Registration(ctx, d.PlatformID)
	if err != nil {
		return fmt.Errorf("find the LMS registration: %w", err)
	}
	url := d.LineItemURL
	if url == "" {
		url, err = s.lineItem(ctx, d, reg)
		if err != nil {
			return err
		}
	} else if d.LineItemMaximum != d.Maximum {
		s.resizeLineItem(ctx, d, reg, url)
	}
	given := d.Given
	return s.pub.PublishScore(ctx, reg, url, advantage.Score{
		UserID: d.Subject, ScoreGiven: &given, ScoreMaximum: d.Maximum, Comment: d.Note,
		ActivityProgress: d.Activity, GradingProgress: d.Grading, Timestamp: d.ScoredAt,
	})
}

// lineItem is the line item the launch named, else the one found or
// created in the course's container: matched by resource link and
// resourceId, so a copied course or a second process does not add a
// second column.
func (s *Service) lineItem(ctx context.Context, d *delivery, reg lti.Registration) (string, error) {
	url := d.LaunchLineItemURL
	if url == "" {
		if d.LineItemsURL == "" {
			return "", &advantage.Error{Op: "find line item", Err: errors.New("the LMS gave this activity no gradebook service")}
		}
		resourceID := d.LinkID
		var custom map[string]string
		if json.Unmarshal([]byte(d.Custom), &custom) == nil && custom["rt_placement"] != "" {
			resourceID = custom["rt_placement"]
		}
		title := d.Title
		if title == "" {
			title = "Roundtable discussion"
		}
		li, err := s.pub.FindOrCreateLineItem(ctx, reg, d.LineItemsURL, advantage.LineItem{
			Label: title, ScoreMaximum: d.Maximum, ResourceLinkID: d.ResourceLinkID, ResourceID: resourceID, Tag: lineItemTag})
		if err != nil {
			return "", err
		}
		url = li.ID
	}
	err := s.db.WithContext(ctx).Exec(`INSERT INTO grade_line_items (org_id, link_id, url, score_maximum, created_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (org_id, link_id) DO UPDATE SET url = excluded.url`, d.OrgID, d.LinkID, url, d.Maximum, s.now()).Error
	if err != nil {
		return "", fmt.Errorf("record line item: %w", err)
	}
	return url, nil
}

// resizeLineItem sets the column's maximum to the activity's points after
// an instructor changed them. A failure is logged, not fatal: the score
// carries its own maximum, and the next delivery tries again.
func (s *Service) resizeLineItem(ctx context.Context, d *delivery, reg lti.Registration, url string) {
	li, err := s.pub.LineItem(ctx, reg, url)
	if err == nil && li.ScoreMaximum != d.Maximum {
		li.ID, li.ScoreMaximum = url, d.Maximum
		_, err = s.pub.UpdateLineItem(ctx, reg, li)
	}
	if err == nil {
		err = s.db.WithContext(ctx).Exec(`UPDATE grade_line_items SET score_maximum = ? WHERE org_id = ? AND link_id = ?`,
			d.Maximum, d.OrgID, d.LinkID).Error
	}
	if err != nil {
		s.Logger.WarnContext(ctx, "cannot change the gradebook column's maximum to the activity's points", slog.String("platform", d.PlatformID),
			slog.String("activity", d.LinkID), slog.Float64("points", d.Maximum), slog.Any("error", err))
	}
}

// markDelivered records the score the LMS now holds, and the sent
// version as delivered; current is false when a newer score arrived
// meanwhile (it must be sent too).
func (s *Service) markDelivered(ctx context.Context, d delivery) (current bool, err error) {
	now := s.now()
	// Without waiting for the disk: a record lost in a crash only sends
	// the same score again, which the LMS takes as already known.
	res := s.db.Relaxed().WithContext(ctx).Exec(`UPDATE grade_scores SET delivered_version = ?, state = ?, attempts = 0,
			last_error = '', retry_at = NULL, last_attempt_at = ?, delivered_at = ?, delivered_scored_at = ?, delivered_given = ?, delivered_maximum = ?,
			delivered_activity = ?, delivered_grading = ?, delivered_comment = ?
		WHERE org_id = ? AND link_id = ? AND user_id = ? AND version = ?`,
		d.Version, StateDelivered, now, now, d.ScoredAt, d.Given, d.Maximum, d.Activity, d.Grading, d.Note,
		d.OrgID, d.LinkID, d.UserID, d.Version)
	if res.Error != nil {
		return false, fmt.Errorf("record delivery: %w", res.Error)
	}
	if res.RowsAffected == 1 {
		return true, nil
	}
	// A newer score replaced it while it was sent. The LMS holds this one
	// now, unless it already held a newer (AGS timestamps order them): a
	// newer score taken as delivered because it equalled what the LMS held
	// before is pending again when it differs from this one.
	err = s.db.Relaxed().WithContext(ctx).Exec(`UPDATE grade_scores SET last_attempt_at = ?, delivered_at = ?, delivered_scored_at = ?,
			delivered_given = ?, delivered_maximum = ?, delivered_activity = ?, delivered_grading = ?, delivered_comment = ?,
			state = CASE WHEN state = ? AND NOT (score_given = ? AND score_maximum = ? AND activity_progress = ? AND grading_progress = ? AND comment = ?)
				THEN ? ELSE state END
		WHERE org_id = ? AND link_id = ? AND user_id = ? AND (delivered_scored_at IS NULL OR delivered_scored_at < ?)`,
		now, now, d.ScoredAt, d.Given, d.Maximum, d.Activity, d.Grading, d.Note,
		StateDelivered, d.Given, d.Maximum, d.Activity, d.Grading, d.Note, StatePending,
		d.OrgID, d.LinkID, d.UserID, d.ScoredAt).Error
	if err != nil {
		return false, fmt.Errorf("record delivery: %w", err)
	}
	return false, nil
}

// failed records a failed try and decides what happens next: wait as the
// LMS asked (429), back off and retry (5xx, network), or stop and keep the
// score as a dead letter with the reason (other refusals, or the last try).
func (s *Service) failed(ctx context.Context, d delivery, cause error) error {
	attempts := d.Attempts + 1
	retryable := advantage.IsRetryable(cause)
	var ae *advantage.Error
	var retryAfter time.Duration
	if errors.As(cause, &ae) {
		retryAfter = ae.RetryAfter
	}
	dead := !retryable || attempts >= s.cfg.MaxAttempts
	state := StatePending
	if dead {
		state = StateFailed
	}
	reason := cause.Error()
	if len(reason) > 1000 {
		reason = reason[:1000]
	}
	now := s.now()
	wait := retryAfter
	if wait <= 0 {
		wait = (&backoff{base: s.cfg.BackoffBase, max: s.cfg.BackoffMax}).wait(attempts)
	}
	// An attempt counts only against the version it sent: a score that
	// changed meanwhile (another learner's vote) starts its own attempts.
	res := s.db.WithContext(ctx).Exec(`UPDATE grade_scores SET attempts = ?, last_error = ?, last_attempt_at = ?, state = ?, retry_at = ?
		WHERE org_id = ? AND link_id = ? AND user_id = ? AND version = ?`,
		attempts, reason, now, state, now.Add(wait), d.OrgID, d.LinkID, d.UserID, d.Version)
	if res.Error != nil {
		return fmt.Errorf("record failed delivery: %w (after %v)", res.Error, cause)
	}
	if res.RowsAffected == 0 {
		// A newer score replaced this one while it was sent: it starts
		// its own attempts.
		return s.again(ctx, d.DeliverArgs, 0)
	}
	log := s.Logger.With(slog.String("platform", d.PlatformID), slog.String("activity", d.LinkID),
		slog.String("learner", d.UserID), slog.Int("attempt", attempts), slog.Any("error", cause))
	switch {
	case dead:
		log.WarnContext(ctx, "grade delivery failed; kept for a person to retry")
		return river.JobCancel(cause)
	case retryAfter > 0:
		log.InfoContext(ctx, "grade delivery deferred as the LMS asked", slog.Duration("retry_after", retryAfter))
		return s.again(ctx, d.DeliverArgs, retryAfter)
	default:
		log.InfoContext(ctx, "grade delivery will be retried", slog.Duration("in", wait))
		return s.again(ctx, d.DeliverArgs, wait)
	}
}
