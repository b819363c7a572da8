package course

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/internal/activity"
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

// Bounds of what instructors may set.
const (
	MinGroupSize    = 2
	MaxGroupSize    = 200
	MaxPoints       = 1000
	MaxInstructions = 4000
)

// Settings are an activity's instructor-chosen options: those every kind
// of activity has, and the kind's own (Options).
type Settings struct {
	OrgID  string
	LinkID string
	// Kind names the activity's kind (activity.Lookup).
	Kind         string
	Instructions string
	CohortPolicy string
	GroupSize    int
	Graded       bool
	Points       int
	// Options are the kind's own settings, stored as a JSON document
	// beside these; nil reads as the kind's defaults.
	Options activity.Options
	// Configured is false until staff save the settings or a deep-linking
	// placement fills them.
	Configured bool
	UpdatedBy  string
	UpdatedAt  time.Time
}

// DefaultSettings are the settings of an activity nobody configured: a
// whole-course discussion, anonymity allowed, ungraded.
func DefaultSettings(orgID, linkID string) Settings {
	return Settings{OrgID: orgID, LinkID: linkID, Kind: activity.KindDiscussion, CohortPolicy: CohortCourse,
		GroupSize: 12, Points: 10, Options: activity.Discussion.Options(nil)}
}

// Grading says what completes the activity and how it scores, as its kind
// says; an unknown kind has no completion measure.
func (st Settings) Grading() activity.Grading {
	if st.Options == nil {
		return activity.Grading{}
	}
	return st.Options.Grading()
}

// Validate checks settings as an instructor's form sends them, with a
// message that instructor understands; the error is an
// *activity.InvalidSetting. The kind's options are validated by the kind,
// after the settings every kind has; options of another kind's type (or
// nil, after a change of kind) become this kind's defaults.
func (st *Settings) Validate() error {
	st.Instructions = strings.TrimSpace(st.Instructions)
	k, ok := activity.Lookup(st.Kind)
	switch {
	case !ok:
		return activity.Invalid("kind", "Choose what kind of activity this is.")
	case st.CohortPolicy != CohortCourse && st.CohortPolicy != CohortSection && st.CohortPolicy != CohortGroups:
		return activity.Invalid("cohort_policy", "Choose how learners are grouped: the whole course, LMS sections, or automatic groups.")
	case st.GroupSize < MinGroupSize || st.GroupSize > MaxGroupSize:
		return activity.Invalid("group_size", "Group size must be between %d and %d learners.", MinGroupSize, MaxGroupSize)
	case len(st.Instructions) > MaxInstructions:
		return activity.Invalid("instructions", "Instructions can be at most %d characters.", MaxInstructions)
	case st.Points < 0 || st.Points > MaxPoints || (st.Graded && st.Points == 0):
		return activity.Invalid("points", "Points must be between 1 and %d for a graded activity.", MaxPoints)
	}
	st.Options = k.Options(st.Options)
	return st.Options.Validate(st.Graded)
}

// encodeOptions is the stored document of st's options.
func (st Settings) encodeOptions() (string, error) {
	if st.Options == nil {
		return "{}", nil
	}
	doc, err := json.Marshal(st.Options)
	if err != nil {
		return "", fmt.Errorf("encode activity options: %w", err)
	}
	return string(doc), nil
}

// optionsDest scans a stored options document into st.Options, decoded
// by st.Kind: the kind's column must come before it in the statement
// (database/sql scans columns in order).
type optionsDest struct{ st *Settings }

func (d optionsDest) Scan(src any) error {
	var doc []byte
	switch v := src.(type) {
	case nil:
	case string:
		doc = []byte(v)
	case []byte:
		doc = v
	default:
		return fmt.Errorf("activity options: unexpected %T", src)
	}
	k, ok := activity.Lookup(d.st.Kind)
	if !ok {
		return fmt.Errorf("activity kind %q is not known to this Roundtable", d.st.Kind)
	}
	opts, err := k.Decode(doc)
	if err != nil {
		return err
	}
	d.st.Options = opts
	return nil
}

const settingsColumns = `kind, instructions, cohort_policy, group_size, graded, points, options, configured, updated_by, updated_at`

// SettingsJoinColumns reads an activity_settings row joined as st, with
// DefaultSettings for a link without one; SettingsDest scans them. Other
// packages' queries that need a link's settings join them the same way.
var SettingsJoinColumns = func() string {
	d := DefaultSettings("", "")
	return fmt.Sprintf(`CASE WHEN st.link_id IS NULL THEN 0 ELSE 1 END AS has_settings,
		COALESCE(st.kind, '%s') AS st_kind, COALESCE(st.instructions, '') AS st_instructions,
		COALESCE(st.cohort_policy, '%s') AS st_cohort_policy, COALESCE(st.group_size, %d) AS st_group_size,
		COALESCE(st.graded, FALSE) AS st_graded, COALESCE(st.points, %d) AS st_points,
		COALESCE(st.options, '{}') AS st_options, COALESCE(st.configured, FALSE) AS st_configured`,
		d.Kind, d.CohortPolicy, d.GroupSize, d.Points)
}()

// SettingsDest are the scan destinations of SettingsJoinColumns: whether
// the link has a settings row, then the settings.
func SettingsDest(st *Settings, has *bool) []any {
	return []any{has, &st.Kind, &st.Instructions, &st.CohortPolicy, &st.GroupSize, &st.Graded, &st.Points,
		optionsDest{st}, &st.Configured}
}

// Settings reads an activity's settings; DefaultSettings when nobody has
// configured it yet.
func (s *Store) Settings(ctx context.Context, orgID, linkID string) (Settings, error) {
	return s.settingsIn(ctx, s.db.DB, orgID, linkID)
}

// settingsIn reads an activity's settings on db, the database or a
// transaction.
func (s *Store) settingsIn(ctx context.Context, db *gorm.DB, orgID, linkID string) (Settings, error) {
	st := DefaultSettings(orgID, linkID)
	err := db.WithContext(ctx).Raw(`SELECT `+settingsColumns+` FROM activity_settings WHERE org_id = ? AND link_id = ?`,
		orgID, linkID).Row().Scan(&st.Kind, &st.Instructions, &st.CohortPolicy, &st.GroupSize, &st.Graded, &st.Points,
		optionsDest{&st}, &st.Configured, &st.UpdatedBy, &st.UpdatedAt)
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
	_, err := insertSettings(tx.WithContext(ctx), st, `ON CONFLICT (org_id, link_id) DO UPDATE SET kind = excluded.kind,
		instructions = excluded.instructions, cohort_policy = excluded.cohort_policy, group_size = excluded.group_size,
		graded = excluded.graded, points = excluded.points, options = excluded.options, configured = excluded.configured,
		updated_by = excluded.updated_by, updated_at = excluded.updated_at`)
	if err != nil {
		return fmt.Errorf("save activity settings: %w", err)
	}
	return nil
}

// insertSettings writes st as its link's settings row, with onConflict
// saying what a row already there becomes; it reports whether it wrote.
func insertSettings(tx *gorm.DB, st Settings, onConflict string) (bool, error) {
	doc, err := st.encodeOptions()
	if err != nil {
		return false, err
	}
	res := tx.Exec(`INSERT INTO activity_settings (org_id, link_id, `+settingsColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) `+onConflict,
		st.OrgID, st.LinkID, st.Kind, st.Instructions, st.CohortPolicy, st.GroupSize, st.Graded, st.Points, doc,
		st.Configured, st.UpdatedBy, st.UpdatedAt)
	return res.RowsAffected == 1, res.Error
}
