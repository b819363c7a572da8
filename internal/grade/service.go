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
	"github.com/riverqueue/river/rivertype"
	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/advantage"
)

// Config tunes delivery. The zero value of a field takes its default.
type Config struct {
	// Workers is how many deliveries this process holds at once (default
	// 32). Deliveries to one LMS wait for its slot (PerLMS), so workers are
	// cheap: more of them keep each LMS's slot busy and let several LMSs be
	// served at the same time.
	Workers int
	// PerLMS is how many deliveries run at once against one LMS, across
	// every Roundtable process (default 1: Canvas penalises parallel calls).
	PerLMS int
	// MaxAttempts bounds the tries of one score before it is dead-lettered
	// (default 15: with the default backoff, about a day).
	MaxAttempts int
	// BackoffBase and BackoffMax shape the exponential wait between tries
	// (defaults 5 s and 2 h).
	BackoffBase, BackoffMax time.Duration
	// PollInterval is how often an idle worker looks for jobs when the
	// database cannot notify it (SQLite; default 200 ms).
	PollInterval time.Duration
	// SweepInterval is how often held scores of LMSs that are active again
	// are queued, and scores left to re-count are re-counted (default 1
	// minute).
	SweepInterval time.Duration
}

func (c *Config) defaults() {
	if c.Workers <= 0 {
		c.Workers = 32
	}
	if c.PerLMS <= 0 {
		c.PerLMS = 1
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 15
	}
	if c.BackoffBase <= 0 {
		c.BackoffBase = 5 * time.Second
	}
	if c.BackoffMax <= 0 {
		c.BackoffMax = 2 * time.Hour
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 200 * time.Millisecond
	}
	if c.SweepInterval <= 0 {
		c.SweepInterval = time.Minute
	}
}

// Publisher is the LMS side of a delivery: AGS through advantage.Client.
type Publisher interface {
	FindOrCreateLineItem(ctx context.Context, reg lti.Registration, lineItemsURL string, want advantage.LineItem) (advantage.LineItem, error)
	PublishScore(ctx context.Context, reg lti.Registration, lineItemURL string, s advantage.Score) error
	LineItem(ctx context.Context, reg lti.Registration, lineItemURL string) (advantage.LineItem, error)
	UpdateLineItem(ctx context.Context, reg lti.Registration, li advantage.LineItem) (advantage.LineItem, error)
}

// Registrations finds the LMS registration a score goes to.
type Registrations interface {
	Registration(ctx context.Context, orgID string) (lti.Registration, error)
}

// Service computes scores and runs their delivery.
type Service struct {
	db     *store.DB
	cfg    Config
	river  *river.Client[*sql.Tx]
	pub    Publisher
	regs   Registrations
	gate   *gate
	Logger *slog.Logger
	Now    func() time.Time
	// stopSweep ends the sweep Start runs.
	stopSweep context.CancelFunc
	swept     chan struct{}
}

func (s *Service) now() time.Time { return s.Now().UTC() }

const queueName = "grades"

// New returns a grade service on db. With pub and regs it can deliver
// (Start runs its workers); without them it only computes and queues.
func New(db *store.DB, pub Publisher, regs Registrations, cfg Config, logger *slog.Logger) (*Service, error) {
	cfg.defaults()
	if logger == nil {
		logger = slog.Default()
	}
	s := &Service{db: db, cfg: cfg, pub: pub, regs: regs, Logger: logger, Now: time.Now,
		gate: newGate(db, cfg.PerLMS)}
	rc := &river.Config{
		Logger:            logger.With(slog.String("component", "grade queue")),
		RetryPolicy:       &backoff{base: cfg.BackoffBase, max: cfg.BackoffMax},
		FetchPollInterval: cfg.PollInterval,
		// Fetch again soon after jobs finish: deliveries are short.
		FetchCooldown: 10 * time.Millisecond,
		// A delivery is two calls of at most 30 s; a job running for longer
		// belongs to a process that died, and is run again.
		JobTimeout:           90 * time.Second,
		RescueStuckJobsAfter: 2 * time.Minute,
		// A score's own attempts (grade_scores.attempts, MaxAttempts)
		// decide when it is dead-lettered; each try after a failure is a
		// job of its own (see again). River's count only grows on
		// unexpected errors (the database); a job it gives up on
		// dead-letters its score first (see Work).
		MaxAttempts: riverAttempts,
		Hooks:       []rivertype.Hook{river.HookInsertBeginFunc(soonIsAvailable)},
	}
	if pub != nil && regs != nil {
		workers := river.NewWorkers()
		river.AddWorker(workers, &deliverWorker{s: s})
		rc.Workers = workers
		rc.Queues = map[string]river.QueueConfig{queueName: {MaxWorkers: cfg.Workers}}
	}
	client, err := river.NewClient(db.QueueDriver(), rc)
	if err != nil {
		return nil, fmt.Errorf("grade queue: %w", err)
	}
	s.river = client
	return s, nil
}

// schedulerInterval is how often River moves jobs scheduled for later to
// the queue (its maintenance JobScheduler; River 0.51 does not let a client
// set it).
const schedulerInterval = 5 * time.Second

// soonIsAvailable inserts a job due within schedulerInterval as available
// with its later scheduled_at, instead of scheduled: workers fetch only
// available jobs whose time has come (every PollInterval), so it runs when
// it is due instead of when River's scheduler next runs, up to 5 s late. A
// delivery waiting for its LMS's slot (a fraction of a second), a short
// back-off or a short Retry-After then keeps its own wait. River does the
// same for a retry of its own due that soon (JobSetStateErrorAvailable).
// Longer waits stay scheduled: a few seconds more do not matter there.
func soonIsAvailable(_ context.Context, p *rivertype.JobInsertParams) error {
	if p.State == rivertype.JobStateScheduled && p.ScheduledAt != nil && time.Until(*p.ScheduledAt) <= schedulerInterval {
		p.State = rivertype.JobStateAvailable
	}
	return nil
}

// riverAttempts bounds River's own tries of a delivery job.
const riverAttempts = 100

// Start runs the delivery workers, and the sweep that releases held
// scores, until Stop.
func (s *Service) Start(ctx context.Context) error {
	if s.pub == nil {
		return errors.New("grade service has no publisher: it cannot deliver")
	}
	if err := s.river.Start(ctx); err != nil {
		return err
	}
	sweepCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stopSweep, s.swept = stop, make(chan struct{})
	go s.sweep(sweepCtx)
	return nil
}

// Stop lets running deliveries finish (within ctx) and stops the workers.
// A delivery cut short is retried by the next process that starts.
func (s *Service) Stop(ctx context.Context) error {
	if s.pub == nil {
		return nil
	}
	if s.stopSweep != nil {
		s.stopSweep()
		<-s.swept
	}
	return s.river.Stop(ctx)
}

// sweep, at start and then every SweepInterval, re-counts the scores left
// to re-count and queues the held scores of LMSs that are active again.
func (s *Service) sweep(ctx context.Context) {
	defer close(s.swept)
	t := time.NewTicker(s.cfg.SweepInterval)
	defer t.Stop()
	for {
		if n, err := s.RescoreWaiting(ctx); err != nil && ctx.Err() == nil {
			s.Logger.WarnContext(ctx, "cannot re-count scores", slog.Any("error", err))
		} else if n > 0 {
			s.Logger.InfoContext(ctx, "scores re-counted under the current rules", slog.Int("count", n))
		}
		if n, err := s.Release(ctx, ""); err != nil && ctx.Err() == nil {
			s.Logger.WarnContext(ctx, "cannot queue held scores", slog.Any("error", err))
		} else if n > 0 {
			s.Logger.InfoContext(ctx, "held scores queued: their LMS is active", slog.Int("count", n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// DeliverArgs names the score to deliver; the job reads the score itself
// when it runs, so it always sends the newest.
type DeliverArgs struct {
	OrgID  string `json:"org_id"`
	LinkID string `json:"link_id"`
	UserID string `json:"user_id"`
}

// UnmarshalJSON also reads a job queued before organisations, which named
// the registration (platform_id): migration 00027 gave each registration's
// organisation the registration's id.
func (a *DeliverArgs) UnmarshalJSON(b []byte) error {
	type plain DeliverArgs
	var v struct {
		plain
		PlatformID string `json:"platform_id"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*a = DeliverArgs(v.plain)
	if a.OrgID == "" {
		a.OrgID = v.PlatformID
	}
	return nil
}

// Kind names the job in River's table.
func (DeliverArgs) Kind() string { return "grade.deliver" }

// InsertOpts puts deliveries on their own queue. River's unique jobs are
// not used: they count a running job as a duplicate, and a change made
// just after a delivery checked for newer scores would then be lost.
// grade_scores.job_id keeps one waiting job per score instead (see queue).
func (DeliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueName}
}

// queue makes sure a delivery job waits for a score, inside tx (the
// transaction that wrote the score, which holds the score's row): it
// inserts a job only when the score's job (job_id) no longer waits — it
// runs, or is done. A job that starts first writes to the score's row
// (take), so it either sees this change or has already started, and then
// a new job is inserted here. A burst of changes thus leaves one waiting
// job, which sends the newest score.
func (s *Service) queue(ctx context.Context, tx *gorm.DB, args DeliverArgs) error {
	return s.queueAt(ctx, tx, args, 0)
}

// queueAt is queue with the job to run after wait.
func (s *Service) queueAt(ctx context.Context, tx *gorm.DB, args DeliverArgs, wait time.Duration) error {
	sqlTx, err := sqlTxOf(tx)
	if err != nil {
		return fmt.Errorf("queue delivery: %w", err)
	}
	var jobID int64
	if err := tx.WithContext(ctx).Raw(`SELECT job_id FROM grade_scores WHERE org_id = ? AND link_id = ? AND user_id = ?`,
		args.OrgID, args.LinkID, args.UserID).Row().Scan(&jobID); err != nil {
		return fmt.Errorf("queue delivery: %w", err)
	}
	if jobID != 0 {
		waits, err := s.jobWaits(s.river.JobGetTx(ctx, sqlTx, jobID))
		if err != nil || waits {
			return err
		}
	}
	opts := &river.InsertOpts{Queue: queueName}
	if wait > 0 {
		// Only a delivery queued again waits (a busy LMS slot, a back-off,
		// a Retry-After); its metadata says so to whoever reads the queue.
		opts.ScheduledAt = time.Now().Add(wait)
		opts.Metadata = requeuedMetadata
	}
	res, err := s.river.InsertTx(ctx, sqlTx, args, opts)
	if err != nil {
		return fmt.Errorf("queue delivery: %w", err)
	}
	return tx.Exec(`UPDATE grade_scores SET job_id = ? WHERE org_id = ? AND link_id = ? AND user_id = ?`,
		res.Job.ID, args.OrgID, args.LinkID, args.UserID).Error
}

// requeuedMetadata marks the job of a delivery queued again, to tell it
// from the one a change of score queued.
var requeuedMetadata = []byte(`{"requeued":true}`)

// jobWaits reports whether a job is waiting to run: not running, not done.
func (s *Service) jobWaits(job *rivertype.JobRow, err error) (bool, error) {
	if errors.Is(err, river.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read delivery job: %w", err)
	}
	switch job.State {
	case rivertype.JobStateAvailable, rivertype.JobStateScheduled, rivertype.JobStateRetryable, rivertype.JobStatePending:
		return true, nil
	}
	return false, nil
}

// sqlTxOf is the *sql.Tx under a gorm transaction: River's InsertTx takes
// it, so a job is written in the transaction that owes the score.
func sqlTxOf(tx *gorm.DB) (*sql.Tx, error) {
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return nil, fmt.Errorf("not inside a database transaction (%T)", tx.Statement.ConnPool)
	}
	return sqlTx, nil
}

// backoff waits exponentially longer after each failed try, with jitter so
// a recovering LMS is not hit by every waiting score at once.
type backoff struct{ base, max time.Duration }

func (b *backoff) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(b.wait(job.Attempt))
}

func (b *backoff) wait(attempt int) time.Duration {
	d := b.base
	for i := 1; i < attempt && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	// ±20 %.
	return d + time.Duration((rand.Float64()*0.4-0.2)*float64(d))
}
