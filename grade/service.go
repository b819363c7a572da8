package grade

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/lti/advantage"
	"github.com/roundtable-lms/roundtable/store"
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
	Registration(ctx context.Context, platformID string) (lti.Registration, error)
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
		MaxAttempts:          cfg.MaxAttempts,
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

// Start runs the delivery workers until Stop.
func (s *Service) Start(ctx context.Context) error {
	if s.pub == nil {
		return errors.New("grade service has no publisher: it cannot deliver")
	}
	return s.river.Start(ctx)
}

// Stop lets running deliveries finish (within ctx) and stops the workers.
// A delivery cut short is retried by the next process that starts.
func (s *Service) Stop(ctx context.Context) error {
	if s.pub == nil {
		return nil
	}
	return s.river.Stop(ctx)
}

// DeliverArgs names the score to deliver; the job reads the score itself
// when it runs, so it always sends the newest.
type DeliverArgs struct {
	PlatformID string `json:"platform_id"`
	LinkID     string `json:"link_id"`
	UserID     string `json:"user_id"`
}

// Kind names the job in River's table.
func (DeliverArgs) Kind() string { return "grade.deliver" }

// InsertOpts puts deliveries on their own queue. They are not unique: a
// change made while its learner's delivery runs must queue another, which
// River's uniqueness (it counts running jobs) would refuse.
func (DeliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueName}
}

// enqueue queues a delivery inside tx.
func (s *Service) enqueue(ctx context.Context, tx *gorm.DB, args DeliverArgs) error {
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return fmt.Errorf("queue delivery: not inside a database transaction (%T)", tx.Statement.ConnPool)
	}
	if _, err := s.river.InsertTx(ctx, sqlTx, args, nil); err != nil {
		return fmt.Errorf("queue delivery: %w", err)
	}
	return nil
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
