// Package peerreview is the peer-review activity: learners submit work,
// review each other's with the instructor's rubric, and are graded on
// both. It holds the kind's settings (Options, with the rubric and the
// phases' dates), the submissions and their versions, the review queue of
// each cohort (dynamic allocation, package allocate), reviews, calibration,
// helpfulness ratings and flags, and the grade computation (package score)
// whose result the gradebook's completion measure reads.
package peerreview

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/internal/activity"
)

// KindName is the kind's stored name.
const KindName = "peer_review"

// Kind is the peer-review activity kind.
var Kind activity.Kind = kind{}

func init() { activity.Register(Kind) }

type kind struct{}

func (kind) Name() string { return KindName }
func (kind) Label() string {
	return "A peer review: learners submit work and review each other's with a rubric"
}
func (kind) DefaultTitle() string { return "Peer review" }
func (kind) Form() string         { return KindName }

func (kind) Options(prev activity.Options) activity.Options {
	if o, ok := prev.(Options); ok {
		return o
	}
	return Defaults()
}

func (kind) Decode(doc []byte) (activity.Options, error) { return activity.DecodeJSON(doc, Defaults()) }

// Anonymity choices.
const (
	// DoubleBlind: neither author nor reviewer learns the other's name.
	DoubleBlind = "double_blind"
	// ReviewersNamed: the author sees who reviewed them; reviewers do not
	// see the author's name.
	ReviewersNamed = "reviewers_named"
	// Open: both names are shown.
	Open = "open"
)

// Aggregations of a submission's reviews into its score.
const (
	Median   = "median"
	Mean     = "mean"
	Weighted = "weighted"
)

// Bases of the reviewing score.
const (
	BasisCompletion  = "completion"
	BasisHelpfulness = "helpfulness"
	BasisAccuracy    = "accuracy"
)

// Release modes.
const (
	ReleaseManual = "manual"
	ReleaseOnDate = "date"
)

// Limits of the settings.
const (
	MaxReviewers      = 10
	MaxCriteria       = 20
	MaxLevels         = 10
	MaxFileMB         = 200
	MaxFilesPerWork   = 10
	MaxCommentMinimum = 5000
	maxTitle          = 200
	maxDescription    = 2000
)

// Options are a peer review's settings.
type Options struct {
	// What learners submit: any combination of text, a link and files.
	SubmitText  bool `json:"submit_text"`
	SubmitLink  bool `json:"submit_link"`
	SubmitFiles bool `json:"submit_files"`
	// MaxFileMB bounds each file; MaxFiles how many one version carries.
	MaxFileMB int `json:"max_file_mb"`
	MaxFiles  int `json:"max_files"`
	// FileTypes narrows the files accepted: FilesAny, FilesDocuments,
	// FilesImages or FilesPDF.
	FileTypes string `json:"file_types"`

	Rubric Rubric `json:"rubric"`
	// Reviewers is k, how many peers review each submission.
	Reviewers int    `json:"reviewers"`
	Anonymity string `json:"anonymity"`

	// The phases. Zero times are unset: submissions open from placement,
	// and without a due date the submission phase ends when the instructor
	// says so (Fill); results are released by hand or at Release.
	Opens      time.Time `json:"opens,omitzero"`
	Due        time.Time `json:"due,omitzero"`
	ReviewsDue time.Time `json:"reviews_due,omitzero"`
	ReleaseAt  time.Time `json:"release_at,omitzero"`
	Release    string    `json:"release"`
	// LateUntil accepts late submissions (marked late) until then.
	LateUntil time.Time `json:"late_until,omitzero"`
	// TimeZone is where the instructor set the dates, to show them back.
	TimeZone string `json:"time_zone"`

	SelfAssessment bool `json:"self_assessment"`
	Calibration    bool `json:"calibration"`
	// AcrossCohorts allocates across the activity's cohorts; OthersReview
	// lets learners who did not submit review.
	AcrossCohorts bool `json:"across_cohorts"`
	OthersReview  bool `json:"others_review"`

	// SubmissionWeight is the submission's share of the grade, in percent;
	// the rest is reviewing.
	SubmissionWeight int    `json:"submission_weight"`
	Aggregation      string `json:"aggregation"`
	ReviewingBasis   string `json:"reviewing_basis"`
}

// File type choices.
const (
	FilesAny       = "any"
	FilesDocuments = "documents"
	FilesImages    = "images"
	FilesPDF       = "pdf"
)

// Defaults are a new peer review's settings: text or files, three reviews
// each, double-blind, a two-criterion rubric to start from, 80/20 weights,
// median per criterion, released by hand.
func Defaults() Options {
	return Options{SubmitText: true, SubmitFiles: true, MaxFileMB: 20, MaxFiles: 5, FileTypes: FilesAny,
		Reviewers: 3, Anonymity: DoubleBlind, Release: ReleaseManual, TimeZone: "UTC",
		SubmissionWeight: 80, Aggregation: Median, ReviewingBasis: BasisCompletion,
		Rubric: Rubric{Version: 1, Criteria: []Criterion{
			{ID: "c1", Title: "Content", Description: "Is the work correct, complete and well argued?",
				Levels: []Level{{0, "Missing"}, {1, "Weak"}, {2, "Good"}, {3, "Excellent"}}, Comment: CommentOptional},
			{ID: "c2", Title: "Clarity", Description: "Is it clear and well organised?",
				Levels: []Level{{0, "Hard to follow"}, {1, "Mostly clear"}, {2, "Clear"}}, Comment: CommentOptional},
			{ID: "c3", Title: "Most useful advice", Description: "One thing the author should do next.",
				Comment: CommentRequired, MinComment: 20},
		}}}
}

// Location is where the instructor's dates are read and shown.
func (o Options) Location() *time.Location {
	if loc, err := time.LoadLocation(o.TimeZone); err == nil && o.TimeZone != "" {
		return loc
	}
	return time.UTC
}

// Phase is where an activity stands at a moment.
type Phase int

// The phases, in order.
const (
	PhaseNotOpen Phase = iota
	PhaseSubmission
	PhaseLate
	PhaseReview
	PhaseReleased
)

// String names the phase for pages.
func (p Phase) String() string {
	return [...]string{"Not open yet", "Submissions open", "Late submissions", "Reviewing", "Results released"}[p]
}

// PhaseAt is the activity's phase at now, given whether the instructor
// has released results by hand (released).
func (o Options) PhaseAt(now time.Time, released bool) Phase {
	switch {
	case released || (o.Release == ReleaseOnDate && !o.ReleaseAt.IsZero() && !now.Before(o.ReleaseAt)):
		return PhaseReleased
	case !o.Opens.IsZero() && now.Before(o.Opens):
		return PhaseNotOpen
	case o.Due.IsZero() || now.Before(o.Due):
		return PhaseSubmission
	case !o.LateUntil.IsZero() && now.Before(o.LateUntil):
		return PhaseLate
	}
	return PhaseReview
}

// AcceptsWork reports whether a submission is taken at now, and whether
// it is late.
func (o Options) AcceptsWork(now time.Time, released bool) (ok, late bool) {
	switch o.PhaseAt(now, released) {
	case PhaseSubmission:
		return true, false
	case PhaseLate:
		return true, true
	}
	return false, false
}

// ReviewOnTime reports whether a review finished at t is on time.
func (o Options) ReviewOnTime(t time.Time) bool {
	return o.ReviewsDue.IsZero() || !t.After(o.ReviewsDue)
}

// Rubric is what reviewers assess, criterion by criterion. Version goes
// up when staff change the rubric after reviews began; each review keeps
// the version it used (pr_rubrics holds every one).
type Rubric struct {
	Version  int         `json:"version"`
	Criteria []Criterion `json:"criteria"`
}

// Comment policies of a criterion.
const (
	CommentNone     = "none"
	CommentOptional = "optional"
	CommentRequired = "required"
)

// Criterion is one line of the rubric: levels with points (none: a
// comment-only criterion), and whether reviewers comment on it.
type Criterion struct {
	ID          string  `json:"id"`
	Title       string  `json:"title"`
	Description string  `json:"description"`
	Levels      []Level `json:"levels"`
	Comment     string  `json:"comment"`
	// MinComment is the shortest required comment, in characters.
	MinComment int `json:"min_comment"`
	// FormRow is the rubric builder's row the criterion was read from,
	// plus one (0: not read from the form): Validate names that row's
	// fields, as the builder numbers it. It is not kept.
	FormRow int `json:"-"`
}

// Level is one level of a scored criterion.
type Level struct {
	Points float64 `json:"points"`
	Label  string  `json:"label"`
}

// Scored reports whether the criterion gives points.
func (c Criterion) Scored() bool { return len(c.Levels) > 0 }

// Max is the criterion's most points.
func (c Criterion) Max() float64 {
	var m float64
	for _, l := range c.Levels {
		m = math.Max(m, l.Points)
	}
	return m
}

// Max is the rubric's most points.
func (r Rubric) Max() float64 {
	var m float64
	for _, c := range r.Criteria {
		m += c.Max()
	}
	return m
}

// Scored reports whether any criterion gives points.
func (r Rubric) Scored() bool {
	for _, c := range r.Criteria {
		if c.Scored() {
			return true
		}
	}
	return false
}

// Criterion is the rubric's criterion of id.
func (r Rubric) Criterion(id string) (Criterion, bool) {
	for _, c := range r.Criteria {
		if c.ID == id {
			return c, true
		}
	}
	return Criterion{}, false
}

// SameAssessment reports whether a and b assess the same way: the same
// criteria, levels and comment rules (titles and descriptions may differ:
// rewording is not a new rubric).
func (r Rubric) SameAssessment(b Rubric) bool {
	if len(r.Criteria) != len(b.Criteria) {
		return false
	}
	for i, c := range r.Criteria {
		d := b.Criteria[i]
		if c.ID != d.ID || len(c.Levels) != len(d.Levels) || c.Comment != d.Comment || c.MinComment != d.MinComment {
			return false
		}
		for j := range c.Levels {
			if c.Levels[j].Points != d.Levels[j].Points {
				return false
			}
		}
	}
	return true
}

// Grading: a submission and the reviews assigned complete the activity;
// the score is the reviews' verdict, not a share of completion.
func (o Options) Grading() activity.Grading {
	return activity.Grading{Needs: "a submission and the reviews assigned"}
}

// Validate checks the settings as staff set them.
func (o Options) Validate(graded bool) error {
	if !o.SubmitText && !o.SubmitLink && !o.SubmitFiles {
		return activity.Invalid("submit_text", "Choose what learners submit: text, a link, files, or a combination.")
	}
	if o.SubmitFiles {
		if o.MaxFileMB < 1 || o.MaxFileMB > MaxFileMB {
			return activity.Invalid("max_file_mb", "The largest file must be between 1 and %d MB.", MaxFileMB)
		}
		if o.MaxFiles < 1 || o.MaxFiles > MaxFilesPerWork {
			return activity.Invalid("max_files", "Learners may attach between 1 and %d files.", MaxFilesPerWork)
		}
		switch o.FileTypes {
		case FilesAny, FilesDocuments, FilesImages, FilesPDF:
		default:
			return activity.Invalid("file_types", "Choose which kinds of file learners may submit.")
		}
	}
	if o.Reviewers < 1 || o.Reviewers > MaxReviewers {
		return activity.Invalid("reviewers", "Each submission needs between 1 and %d reviewers.", MaxReviewers)
	}
	switch o.Anonymity {
	case DoubleBlind, ReviewersNamed, Open:
	default:
		return activity.Invalid("anonymity", "Choose who sees whose name.")
	}
	if err := o.Rubric.validate(); err != nil {
		return err
	}
	if graded && !o.Rubric.Scored() {
		return activity.Invalid("crit_title_0", "A graded peer review needs at least one criterion with levels and points.")
	}
	if err := o.validateDates(); err != nil {
		return err
	}
	if o.SubmissionWeight < 10 || o.SubmissionWeight > 100 {
		return activity.Invalid("submission_weight", "The submission's share of the grade must be between 10 and 100%%; reviewing has the rest.")
	}
	switch o.Aggregation {
	case Median, Mean, Weighted:
	default:
		return activity.Invalid("aggregation", "Choose how reviews combine into a submission's score.")
	}
	switch o.ReviewingBasis {
	case BasisCompletion, BasisHelpfulness, BasisAccuracy:
	default:
		return activity.Invalid("reviewing_basis", "Choose how reviewing is scored.")
	}
	return nil
}

func (o Options) validateDates() error {
	if o.Release != ReleaseManual && o.Release != ReleaseOnDate {
		return activity.Invalid("release", "Choose when results are released.")
	}
	if o.Release == ReleaseOnDate && o.ReleaseAt.IsZero() {
		return activity.Invalid("release_at", "Give the date results are released, or release them by hand.")
	}
	type dated struct {
		field, label string
		t            time.Time
	}
	order := []dated{{"opens", "Submissions open", o.Opens}, {"due", "Submissions due", o.Due},
		{"late_until", "Late submissions accepted until", o.LateUntil}, {"reviews_due", "Reviews due", o.ReviewsDue}}
	if o.Release == ReleaseOnDate {
		order = append(order, dated{"release_at", "Results released", o.ReleaseAt})
	}
	if !o.LateUntil.IsZero() && o.Due.IsZero() {
		return activity.Invalid("late_until", "Late submissions need a due date to be late after.")
	}
	var prev *dated
	for i := range order {
		d := &order[i]
		if d.t.IsZero() {
			continue
		}
		if prev != nil && !d.t.After(prev.t) {
			return activity.Invalid(d.field, "%s must come after %s.", d.label, strings.ToLower(prev.label))
		}
		prev = d
	}
	return nil
}

func (r Rubric) validate() error {
	if len(r.Criteria) == 0 {
		return activity.Invalid("crit_title_0", "The rubric needs at least one criterion.")
	}
	if len(r.Criteria) > MaxCriteria {
		return activity.Invalid("crit_title_0", "A rubric holds at most %d criteria.", MaxCriteria)
	}
	for i, c := range r.Criteria {
		if c.FormRow > 0 {
			i = c.FormRow - 1
		}
		n := fmt.Sprint(i)
		if strings.TrimSpace(c.Title) == "" || len([]rune(c.Title)) > maxTitle {
			return activity.Invalid("crit_title_"+n, "Criterion %d needs a title of at most %d characters.", i+1, maxTitle)
		}
		if len([]rune(c.Description)) > maxDescription {
			return activity.Invalid("crit_desc_"+n, "Criterion %d's description is longer than %d characters.", i+1, maxDescription)
		}
		if len(c.Levels) == 1 || len(c.Levels) > MaxLevels {
			return activity.Invalid("crit_levels_"+n, "Criterion %d needs between 2 and %d levels, or none for a comment-only criterion.", i+1, MaxLevels)
		}
		seen := map[float64]bool{}
		for _, l := range c.Levels {
			if l.Points < 0 || l.Points > 1000 || seen[l.Points] {
				return activity.Invalid("crit_levels_"+n, "Criterion %d's levels need different points between 0 and 1000.", i+1)
			}
			seen[l.Points] = true
		}
		switch c.Comment {
		case CommentNone, CommentOptional, CommentRequired:
		default:
			return activity.Invalid("crit_comment_"+n, "Choose whether reviewers comment on criterion %d.", i+1)
		}
		if !c.Scored() && c.Comment == CommentNone {
			return activity.Invalid("crit_comment_"+n, "Criterion %d has no levels, so reviewers must be able to comment on it.", i+1)
		}
		if c.MinComment < 0 || c.MinComment > MaxCommentMinimum {
			return activity.Invalid("crit_min_"+n, "Criterion %d's shortest comment must be between 0 and %d characters.", i+1, MaxCommentMinimum)
		}
	}
	return nil
}

// Learners are those who submitted or were given a review.
func (o Options) Learners(ctx context.Context, db *gorm.DB, a activity.Ref) ([]string, error) {
	var users []string
	err := db.WithContext(ctx).Raw(`SELECT author_id FROM pr_submissions WHERE org_id = ? AND link_id = ?
		UNION SELECT reviewer_id FROM pr_reviews WHERE org_id = ? AND link_id = ? AND state <> 'removed'`,
		a.OrgID, a.LinkID, a.OrgID, a.LinkID).Scan(&users).Error
	if err != nil {
		return nil, fmt.Errorf("list the peer review's learners: %w", err)
	}
	return users, nil
}

// Measure is a learner's submission and reviews, and the grade computed
// for them when the reviews last changed (pr_grades, see Store.regrade).
func (o Options) Measure(ctx context.Context, db *gorm.DB, a activity.Ref, userID string) (activity.Progress, error) {
	var submitted, assigned, done int
	var score float64
	var released bool
	err := db.WithContext(ctx).Raw(`SELECT
			(SELECT COUNT(*) FROM pr_submissions WHERE org_id = ? AND link_id = ? AND author_id = ? AND withdrawn = FALSE),
			(SELECT COUNT(*) FROM pr_reviews WHERE org_id = ? AND link_id = ? AND reviewer_id = ? AND state <> 'removed' AND reviewer_id <> author_id),
			(SELECT COUNT(*) FROM pr_reviews WHERE org_id = ? AND link_id = ? AND reviewer_id = ? AND state = 'done' AND reviewer_id <> author_id),
			COALESCE((SELECT combined FROM pr_grades WHERE org_id = ? AND link_id = ? AND user_id = ?), 0),
			COALESCE((SELECT released_at IS NOT NULL FROM pr_activity_state WHERE org_id = ? AND link_id = ?), FALSE)`,
		a.OrgID, a.LinkID, userID, a.OrgID, a.LinkID, userID, a.OrgID, a.LinkID, userID, a.OrgID, a.LinkID, userID,
		a.OrgID, a.LinkID).Row().Scan(&submitted, &assigned, &done, &score, &released)
	if err != nil {
		return activity.Progress{}, fmt.Errorf("measure peer review: %w", err)
	}
	items := []activity.Item{{Label: "submission", Have: submitted, Need: 1}}
	if assigned > 0 {
		items = append(items, activity.Item{Label: "reviews", Have: done, Need: assigned})
	}
	p := activity.MeasureItems(items)
	p.Score = score
	p.Final = released || (o.Release == ReleaseOnDate && !o.ReleaseAt.IsZero() && !time.Now().Before(o.ReleaseAt))
	return p, nil
}

// Owe: before results are released the gradebook shows progress only,
// grading Pending, so no provisional score reaches learners; after, the
// computed grade, FullyGraded.
func (o Options) Owe(points int, p activity.Progress) activity.Owed {
	owed := activity.Owed{ScoreMaximum: float64(points), ActivityProgress: activity.ActivityInProgress,
		GradingProgress: activity.GradingPending}
	switch {
	case p.Completed:
		owed.ActivityProgress = activity.ActivityCompleted
	case len(p.Items) > 0 && p.Items[0].Done():
		owed.ActivityProgress = "Submitted"
	}
	if !p.Final {
		owed.Comment = "Roundtable peer review: results are not released yet."
		return owed
	}
	owed.GradingProgress = activity.GradingFullyGraded
	owed.ScoreGiven = math.Round(float64(points)*p.Score*100) / 100
	owed.Comment = fmt.Sprintf("Roundtable peer review: %.0f%% overall.", p.Score*100)
	return owed
}

// Change keeps the rubric's version while reviewers assess the same way;
// once reviews have begun with the rubric, changing how it assesses needs
// staff to confirm, and makes a new version: the reviews begun keep theirs
// (pr_rubrics), so they stay readable and scored as they were made.
//
// The grades kept for the gradebook (pr_grades, read by Measure) are
// computed again with the changed options in the same transaction: a
// changed weight, aggregation or rubric moves them now, not at the next
// review.
func (o Options) Change(ctx context.Context, db *gorm.DB, a activity.Ref, prev activity.Options, confirmed bool) (activity.Options, error) {
	o, err := o.change(ctx, db, a, prev, confirmed)
	if err != nil {
		return o, err
	}
	s := &Store{Now: time.Now}
	if _, err := s.regrade(ctx, db, Viewer{OrgID: a.OrgID, LinkID: a.LinkID}, o); err != nil {
		return o, err
	}
	return o, nil
}

func (o Options) change(ctx context.Context, db *gorm.DB, a activity.Ref, prev activity.Options, confirmed bool) (Options, error) {
	p, ok := prev.(Options)
	if !ok {
		o.Rubric.Version = max(o.Rubric.Version, 1)
		return o, nil
	}
	o.Rubric.Version = max(p.Rubric.Version, 1)
	if o.Rubric.SameAssessment(p.Rubric) {
		return o, nil
	}
	var begun int
	if err := db.WithContext(ctx).Raw(`SELECT COUNT(*) FROM pr_reviews WHERE org_id = ? AND link_id = ? AND state IN (?, ?) AND rubric_version = ?`,
		a.OrgID, a.LinkID, StateDraft, StateDone, o.Rubric.Version).Row().Scan(&begun); err != nil {
		return o, fmt.Errorf("count reviews begun: %w", err)
	}
	if begun == 0 {
		return o, nil
	}
	if !confirmed {
		return o, activity.Invalid("confirm_change", "%d reviews have begun with the current rubric. They keep it, stay readable and count as they were made; reviews begun from now on use the changed one. Tick the box below to confirm.", begun)
	}
	o.Rubric.Version++
	return o, nil
}
