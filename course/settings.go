package course

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
)

// Activity kinds an instructor can place.
const (
	KindDiscussion    = "discussion"
	KindQuestionBoard = "question_board"
)

// Cohort policies: how an activity splits its course's learners.
const (
	// CohortCourse: one cohort for the whole course.
	CohortCourse = "course"
	// CohortSection: one cohort per LMS section or group the launch names
	// (a `cohort` custom parameter, substituted section ids, or the lis
	// claim's course section).
	CohortSection = "section"
	// CohortGroups: automatic groups of about GroupSize learners.
	CohortGroups = "groups"
)

// Credit says how a graded activity's score follows its completion rule.
const (
	CreditFull         = "full"
	CreditProportional = "proportional"
)

// Bounds of what instructors may set.
const (
	MinGroupSize    = 2
	MaxGroupSize    = 200
	MaxPoints       = 1000
	MaxRuleMinimum  = 100
	MaxInstructions = 4000
)

// CompletionRule is what a learner must do to complete an activity; every
// non-zero minimum must be met. A rule of all zeros means the activity has
// no completion rule.
type CompletionRule struct {
	MinThreads  int
	MinReplies  int
	MinAccepted int
	MinUpvotes  int
}

// Empty reports whether the rule asks for nothing.
func (r CompletionRule) Empty() bool {
	return r.MinThreads == 0 && r.MinReplies == 0 && r.MinAccepted == 0 && r.MinUpvotes == 0
}

// Describe says what the rule asks in words, for instance "1 thread
// started, 2 replies and 1 accepted answer"; empty for an empty rule.
func (r CompletionRule) Describe() string {
	var parts []string
	add := func(n int, one, many string) {
		switch {
		case n == 1:
			parts = append(parts, "1 "+one)
		case n > 1:
			parts = append(parts, strconv.Itoa(n)+" "+many)
		}
	}
	add(r.MinThreads, "thread started", "threads started")
	add(r.MinReplies, "reply", "replies")
	add(r.MinAccepted, "accepted answer", "accepted answers")
	add(r.MinUpvotes, "upvote received", "upvotes received")
	if len(parts) < 2 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// Settings are an activity's instructor-chosen options.
type Settings struct {
	PlatformID     string
	LinkID         string
	Kind           string
	Instructions   string
	CohortPolicy   string
	GroupSize      int
	AllowAnonymous bool
	// PostFirst hides others' threads from a learner until they have
	// posted one of their own (reflection prompts).
	PostFirst bool
	Graded    bool
	Points    int
	Rule      CompletionRule
	Credit    string
	// Configured is false until staff save the settings or a deep-linking
	// placement fills them.
	Configured bool
	UpdatedBy  string
	UpdatedAt  time.Time
}

// DefaultSettings are the settings of an activity nobody configured: a
// whole-course discussion, anonymity allowed, ungraded.
func DefaultSettings(platformID, linkID string) Settings {
	return Settings{PlatformID: platformID, LinkID: linkID, Kind: KindDiscussion, CohortPolicy: CohortCourse,
		GroupSize: 12, AllowAnonymous: true, Points: 10, Credit: CreditFull}
}

// InvalidSetting is a setting staff must correct: the message, and the
// form field it is about.
type InvalidSetting struct {
	Field string
	Err   *roundtable.Error
}

func (e *InvalidSetting) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *InvalidSetting) Unwrap() error { return e.Err }

func invalidSetting(field, format string, args ...any) error {
	return &InvalidSetting{Field: field, Err: roundtable.Errorf(roundtable.EINVALID, format, args...)}
}

// Validate checks settings as an instructor's form sends them, with a
// message that instructor understands; the error is an *InvalidSetting.
func (st *Settings) Validate() error {
	st.Instructions = strings.TrimSpace(st.Instructions)
	switch {
	case st.Kind != KindDiscussion && st.Kind != KindQuestionBoard:
		return invalidSetting("kind", "Choose a discussion or a question board.")
	case st.CohortPolicy != CohortCourse && st.CohortPolicy != CohortSection && st.CohortPolicy != CohortGroups:
		return invalidSetting("cohort_policy", "Choose how learners are grouped: the whole course, LMS sections, or automatic groups.")
	case st.GroupSize < MinGroupSize || st.GroupSize > MaxGroupSize:
		return invalidSetting("group_size", "Group size must be between %d and %d learners.", MinGroupSize, MaxGroupSize)
	case len(st.Instructions) > MaxInstructions:
		return invalidSetting("instructions", "Instructions can be at most %d characters.", MaxInstructions)
	case st.Points < 0 || st.Points > MaxPoints || (st.Graded && st.Points == 0):
		return invalidSetting("points", "Points must be between 1 and %d for a graded activity.", MaxPoints)
	case st.Credit != CreditFull && st.Credit != CreditProportional:
		return invalidSetting("credit", "Choose full points on completion or proportional credit.")
	}
	for _, m := range []struct {
		field string
		n     int
	}{{"min_threads", st.Rule.MinThreads}, {"min_replies", st.Rule.MinReplies}, {"min_accepted", st.Rule.MinAccepted}, {"min_upvotes", st.Rule.MinUpvotes}} {
		if m.n < 0 || m.n > MaxRuleMinimum {
			return invalidSetting(m.field, "Each completion minimum must be between 0 and %d.", MaxRuleMinimum)
		}
	}
	if st.Graded && st.Rule.Empty() {
		return invalidSetting("min_threads", "A graded activity needs a completion rule: ask for at least one thread, reply, accepted answer or upvote.")
	}
	return nil
}

const settingsColumns = `kind, instructions, cohort_policy, group_size, allow_anonymous, post_first, graded, points,
	min_threads, min_replies, min_accepted, min_upvotes, credit, configured, updated_by, updated_at`

// Settings reads an activity's settings; DefaultSettings when nobody has
// configured it yet.
func (s *Store) Settings(ctx context.Context, platformID, linkID string) (Settings, error) {
	return s.settingsIn(ctx, s.db.DB, platformID, linkID)
}

// settingsIn reads an activity's settings on db, the database or a
// transaction.
func (s *Store) settingsIn(ctx context.Context, db *gorm.DB, platformID, linkID string) (Settings, error) {
	st := DefaultSettings(platformID, linkID)
	err := db.WithContext(ctx).Raw(`SELECT `+settingsColumns+` FROM activity_settings WHERE platform_id = ? AND link_id = ?`,
		platformID, linkID).Row().Scan(&st.Kind, &st.Instructions, &st.CohortPolicy, &st.GroupSize, &st.AllowAnonymous, &st.PostFirst,
		&st.Graded, &st.Points, &st.Rule.MinThreads, &st.Rule.MinReplies, &st.Rule.MinAccepted, &st.Rule.MinUpvotes,
		&st.Credit, &st.Configured, &st.UpdatedBy, &st.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return Settings{}, fmt.Errorf("read activity settings: %w", err)
	}
	return st, nil
}

// SaveSettings validates and writes an activity's settings inside tx, the
// caller's transaction (so what depends on them, such as re-sent scores,
// commits with them). They are marked configured.
func (s *Store) SaveSettings(ctx context.Context, tx *gorm.DB, st Settings) error {
	if err := st.Validate(); err != nil {
		return err
	}
	st.Configured = true
	st.UpdatedAt = s.Now().UTC()
	err := tx.WithContext(ctx).Exec(`INSERT INTO activity_settings (platform_id, link_id, `+settingsColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (platform_id, link_id) DO UPDATE SET kind = excluded.kind, instructions = excluded.instructions,
			cohort_policy = excluded.cohort_policy, group_size = excluded.group_size, allow_anonymous = excluded.allow_anonymous,
			post_first = excluded.post_first, graded = excluded.graded, points = excluded.points,
			min_threads = excluded.min_threads, min_replies = excluded.min_replies, min_accepted = excluded.min_accepted,
			min_upvotes = excluded.min_upvotes, credit = excluded.credit, configured = excluded.configured,
			updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
		st.PlatformID, st.LinkID, st.Kind, st.Instructions, st.CohortPolicy, st.GroupSize, st.AllowAnonymous, st.PostFirst,
		st.Graded, st.Points, st.Rule.MinThreads, st.Rule.MinReplies, st.Rule.MinAccepted, st.Rule.MinUpvotes,
		st.Credit, st.Configured, st.UpdatedBy, st.UpdatedAt).Error
	if err != nil {
		return fmt.Errorf("save activity settings: %w", err)
	}
	return nil
}
