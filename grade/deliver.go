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
}

func (s *Service) loadDelivery(ctx context.Context, a DeliverArgs) (delivery, error) {
	d := delivery{DeliverArgs: a}
	err := s.db.QueryRow(ctx, `SELECT g.score_given, g.score_maximum, g.activity_progress, g.grading_progress, g.comment, g.scored_at,
			g.version, g.state, g.attempts, u.subject, l.resource_link_id, l.title, l.custom, l.ags_lineitems, l.ags_lineitem,
			COALESCE(li.url, ''), COALESCE(li.score_maximum, 0)
		FROM grade_scores g
		JOIN users u ON u.platform_id = g.platform_id AND u.id = g.user_id
		JOIN resource_links l ON l.platform_id = g.platform_id AND l.id = g.link_id
		LEFT JOIN grade_line_items li ON li.platform_id = g.platform_id AND li.link_id = g.link_id
		WHERE g.platform_id = ? AND g.link_id = ? AND g.user_id = ?`, a.PlatformID, a.LinkID, a.UserID).
		Scan(&d.Given, &d.Maximum, &d.Activity, &d.Grading, &d.Note, &d.ScoredAt, &d.Version, &d.State, &d.Attempts,
			&d.Subject, &d.ResourceLinkID, &d.Title, &d.Custom, &d.LineItemsURL, &d.LaunchLineItemURL, &d.LineItemURL, &d.LineItemMaximum)
	return d, err
}

// Work delivers the newest score of one learner and activity. Every
// change queues a job; a job that finds its score already delivered does
// nothing, so a burst of changes sends the newest score once or twice,
// never a stale one.
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	s := w.s
	release, ok, err := s.gate.acquire(ctx, job.Args.PlatformID, 20*time.Second)
	if err != nil {
		return err
	}
	if !ok {
		// Other deliveries to this LMS are running.
		return river.JobSnooze(200*time.Millisecond + rand.N(300*time.Millisecond))
	}
	defer release()
	// Read inside the gate: what an earlier delivery recorded (the line
	// item, the delivered version) is seen.
	for range 3 {
		d, err := s.loadDelivery(ctx, job.Args)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // the activity or learner is gone
		}
		if err != nil {
			return err
		}
		if d.State != StatePending {
			return nil
		}
		if err := s.send(ctx, &d); err != nil {
			return s.failed(ctx, d, err)
		}
		// A score that changed while it was sent is sent again.
		if current, err := s.markDelivered(ctx, d); err != nil || current {
			return err
		}
	}
	return river.JobSnooze(0)
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
	_, err := s.db.SQL.ExecContext(ctx, s.db.Rebind(`INSERT INTO grade_line_items (platform_id, link_id, url, score_maximum, created_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (platform_id, link_id) DO UPDATE SET url = excluded.url`), d.PlatformID, d.LinkID, url, d.Maximum, s.now())
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
		_, err = s.db.SQL.ExecContext(ctx, s.db.Rebind(`UPDATE grade_line_items SET score_maximum = ? WHERE platform_id = ? AND link_id = ?`),
			d.Maximum, d.PlatformID, d.LinkID)
	}
	if err != nil {
		s.Logger.WarnContext(ctx, "cannot change the gradebook column's maximum to the activity's points", slog.String("platform", d.PlatformID),
			slog.String("activity", d.LinkID), slog.Float64("points", d.Maximum), slog.Any("error", err))
	}
}

// markDelivered records the sent version; current is false when a newer
// score arrived meanwhile (it is still pending and must be sent too).
func (s *Service) markDelivered(ctx context.Context, d delivery) (current bool, err error) {
	now := s.now()
	// Without waiting for the disk: a record lost in a crash only sends
	// the same score again, which the LMS takes as already known.
	res, err := s.db.ExecRelaxed(ctx, `UPDATE grade_scores SET delivered_version = ?, state = ?, attempts = 0,
			last_error = '', last_attempt_at = ?, delivered_at = ?
		WHERE platform_id = ? AND link_id = ? AND user_id = ? AND version = ?`,
		d.Version, StateDelivered, now, now, d.PlatformID, d.LinkID, d.UserID, d.Version)
	if err != nil {
		return false, fmt.Errorf("record delivery: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
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
	res, err := s.db.SQL.ExecContext(ctx, s.db.Rebind(`UPDATE grade_scores SET attempts = ?, last_error = ?, last_attempt_at = ?, state = ?
		WHERE platform_id = ? AND link_id = ? AND user_id = ? AND version = ?`),
		attempts, reason, now, state, d.PlatformID, d.LinkID, d.UserID, d.Version)
	if err != nil {
		return fmt.Errorf("record failed delivery: %w (after %v)", err, cause)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// A newer score replaced this one while it was sent: it starts
		// its own attempts.
		return river.JobSnooze(0)
	}
	log := s.Logger.With(slog.String("platform", d.PlatformID), slog.String("activity", d.LinkID),
		slog.String("learner", d.UserID), slog.Int("attempt", attempts), slog.Any("error", cause))
	switch {
	case dead:
		log.WarnContext(ctx, "grade delivery failed; kept for a person to retry")
		return river.JobCancel(cause)
	case retryAfter > 0:
		log.InfoContext(ctx, "grade delivery deferred as the LMS asked", slog.Duration("retry_after", retryAfter))
		return river.JobSnooze(retryAfter)
	default:
		log.InfoContext(ctx, "grade delivery will be retried")
		return cause
	}
}
