package peerreview

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/store"
)

// Viewer is the person a request acts as, in one activity and cohort.
type Viewer struct {
	OrgID, CourseID, LinkID, CohortID, UserID string
	// Staff may see and do everything in the activity.
	Staff bool
}

// Store reads and writes peer reviews.
type Store struct {
	db  *store.DB
	Now func() time.Time
	// OnGrades, when set, runs inside the transaction of every change that
	// may move the named learners' grades, so the gradebook follows in the
	// same commit (grade.Service.Recompute).
	OnGrades func(ctx context.Context, tx *gorm.DB, orgID, linkID string, userIDs []string) error
}

// NewStore returns the peer reviews on db.
func NewStore(db *store.DB) *Store { return &Store{db: db, Now: time.Now} }

func (s *Store) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

// Review states.
const (
	StateAssigned = "assigned"
	StateDraft    = "draft"
	StateDone     = "done"
	StateRemoved  = "removed"
)

// Limits of what a learner writes.
const (
	// MaxVersionsPerHour bounds the versions of one submission in an hour.
	MaxVersionsPerHour = 20
	// draftEvery and changeEvery are how often a review's draft, and a
	// submitted review (which re-grades the activity), may be saved.
	draftEvery  = time.Second
	changeEvery = 5 * time.Second
	MaxBody     = 100_000
	MaxLink     = 2000
	MaxComment  = 10_000
	MaxNotes    = 200
	MaxReason   = 2000
)

var (
	errNoSubmission = roundtable.Errorf(roundtable.ENOTFOUND, "That submission is not one you can see in this activity.")
	errNoReview     = roundtable.Errorf(roundtable.ENOTFOUND, "That review is not one you can see in this activity.")
)

// Submission is a learner's work in one activity.
type Submission struct {
	ID, AuthorID, CohortID string
	Version                int
	SubmittedAt, UpdatedAt time.Time
	Late, Withdrawn        bool
}

// submissionColumns are a submission's columns, read into dest's fields.
const submissionColumns = `id, author_id, cohort_id, version, submitted_at, updated_at, late, withdrawn`

func (sub *Submission) dest() []any {
	return []any{&sub.ID, &sub.AuthorID, &sub.CohortID, &sub.Version, &sub.SubmittedAt, &sub.UpdatedAt, &sub.Late, &sub.Withdrawn}
}

// Work is one version of a submission.
type Work struct {
	Version   int
	Body      string
	Link      string
	Files     []File
	CreatedAt time.Time
}

// File is a file of a submission's version, or uploaded for one.
type File struct {
	ID, Name, ContentType, BlobKey string
	Size                           int64
}

// Assessment is what a reviewer wrote: a level and a comment per
// criterion, comments anchored to paragraphs of a text submission, and an
// overall comment.
type Assessment struct {
	Criteria map[string]Answer `json:"criteria"`
	Notes    []Note            `json:"notes,omitempty"`
	Comment  string            `json:"comment,omitempty"`
}

// Answer is a reviewer's level (index into the criterion's levels; -1
// none chosen) and comment on one criterion.
type Answer struct {
	Level   int    `json:"level"`
	Comment string `json:"comment,omitempty"`
}

// Note is a comment on one paragraph (0-based) of the submission's text.
type Note struct {
	Paragraph int    `json:"p"`
	Text      string `json:"text"`
}

// Review is one assignment of a submission to a reviewer, and what they
// wrote.
type Review struct {
	ID, LinkID, CohortID, SubmissionID, AuthorID, ReviewerID string
	Version                                                  int
	Reason, AssignedBy                                       string
	AssignedAt, UpdatedAt                                    time.Time
	State                                                    string
	RubricVersion                                            int
	Assessment                                               Assessment
	DoneAt                                                   *time.Time
	OnTime                                                   bool
	Helpfulness                                              int
	HelpfulnessNote                                          string
	// Flagged is the author's reason for calling the review unfair ('':
	// not flagged); Resolution what staff decided.
	Flagged, Resolution string
}

// Self reports whether the review is a self-assessment.
func (r Review) Self() bool { return r.AuthorID == r.ReviewerID }

// Started reports whether the reviewer has begun.
func (r Review) Started() bool { return r.State == StateDraft || r.State == StateDone }

// Points is what the review gave each scored criterion of rubric.
func (r Review) Points(rubric Rubric) map[string]float64 {
	out := map[string]float64{}
	for _, c := range rubric.Criteria {
		a, ok := r.Assessment.Criteria[c.ID]
		if ok && c.Scored() && a.Level >= 0 && a.Level < len(c.Levels) {
			out[c.ID] = c.Levels[a.Level].Points
		}
	}
	return out
}

// Total is the share of rubric's points the review gave.
func (r Review) Total(rubric Rubric) float64 {
	max := rubric.Max()
	if max == 0 {
		return 0
	}
	var sum float64
	for _, p := range r.Points(rubric) {
		sum += p
	}
	return sum / max
}

const reviewColumns = `r.id, r.link_id, r.cohort_id, r.submission_id, r.author_id, r.reviewer_id, r.version, r.reason, r.assigned_by,
	r.assigned_at, r.updated_at, r.state, r.rubric_version, r.doc, r.done_at, r.on_time, r.helpfulness, r.helpfulness_note,
	COALESCE(f.reason, ''), COALESCE(f.resolution, '')`

const reviewFrom = ` FROM pr_reviews r LEFT JOIN pr_flags f ON f.org_id = r.org_id AND f.review_id = r.id `

func scanReviews(rows *sql.Rows) ([]Review, error) {
	defer rows.Close()
	var out []Review
	for rows.Next() {
		var r Review
		var doc string
		var done sql.NullTime
		if err := rows.Scan(&r.ID, &r.LinkID, &r.CohortID, &r.SubmissionID, &r.AuthorID, &r.ReviewerID, &r.Version, &r.Reason,
			&r.AssignedBy, &r.AssignedAt, &r.UpdatedAt, &r.State, &r.RubricVersion, &doc, &done, &r.OnTime, &r.Helpfulness,
			&r.HelpfulnessNote, &r.Flagged, &r.Resolution); err != nil {
			return nil, fmt.Errorf("read reviews: %w", err)
		}
		if done.Valid {
			t := done.Time
			r.DoneAt = &t
		}
		if doc != "" {
			if err := json.Unmarshal([]byte(doc), &r.Assessment); err != nil {
				return nil, fmt.Errorf("read review %s: %w", r.ID, err)
			}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *Store) queryReviews(ctx context.Context, where string, args ...any) ([]Review, error) {
	return s.queryReviewsTx(ctx, s.db.DB, where, args...)
}

// WorkInput is what a learner sends as a new version: text, a link, the
// files of the last version to keep and new files uploaded for it.
type WorkInput struct {
	Body, Link string
	KeepFiles  []string
	NewFiles   []string
}

// CheckLink validates a submitted link: http or https, absolute, short.
func CheckLink(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(raw) > MaxLink {
		return "", &FieldError{Field: "link", Err: roundtable.Errorf(roundtable.EINVALID, "The link must be a web address starting with https:// (at most %d characters).", MaxLink)}
	}
	return u.String(), nil
}

// FieldError is an error about one field of a learner's form.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Err: roundtable.Errorf(roundtable.EINVALID, format, args...)}
}

// Submit keeps a new version of the viewer's submission. The first
// version enters the cohort's review queue: it is handed to reviewers at
// once, and its author is given work to review (dynamic allocation).
// Reviews not yet begun move to the new version; begun ones keep theirs.
func (s *Store) Submit(ctx context.Context, v Viewer, o Options, in WorkInput) (Submission, error) {
	var sub Submission
	now := s.now()
	released, err := s.Released(ctx, v.OrgID, v.LinkID)
	if err != nil {
		return sub, err
	}
	ok, late := o.AcceptsWork(now, released)
	if !ok {
		return sub, roundtable.Errorf(roundtable.ECONFLICT, "Submissions are closed for this activity (%s).", strings.ToLower(o.PhaseAt(now, released).String()))
	}
	in.Body = strings.ReplaceAll(in.Body, "\r\n", "\n")
	if !o.SubmitText {
		in.Body = ""
	}
	if utf8.RuneCountInString(in.Body) > MaxBody {
		return sub, fieldErr("body", "Your text is longer than %d characters.", MaxBody)
	}
	if o.SubmitLink {
		if in.Link, err = CheckLink(in.Link); err != nil {
			return sub, err
		}
	} else {
		in.Link = ""
	}
	if !o.SubmitFiles {
		in.KeepFiles, in.NewFiles = nil, nil
	}
	if len(in.KeepFiles)+len(in.NewFiles) > o.MaxFiles && o.SubmitFiles {
		return sub, fieldErr("files", "A submission carries at most %d files.", o.MaxFiles)
	}
	if strings.TrimSpace(in.Body) == "" && in.Link == "" && len(in.KeepFiles)+len(in.NewFiles) == 0 {
		return sub, fieldErr("body", "Your submission is empty: write your work, give a link or attach a file.")
	}
	err = s.db.Tx(ctx, func(tx *gorm.DB) error {
		if err := s.lockPool(tx, v, o); err != nil {
			return err
		}
		err := tx.Raw(`SELECT `+submissionColumns+` FROM pr_submissions WHERE org_id = ? AND link_id = ? AND author_id = ?`,
			v.OrgID, v.LinkID, v.UserID).Row().Scan(sub.dest()...)
		first := errors.Is(err, sql.ErrNoRows)
		switch {
		case first:
			sub = Submission{ID: store.NewID(), AuthorID: v.UserID, CohortID: v.CohortID, Version: 1, SubmittedAt: now, UpdatedAt: now, Late: late}
			if err := tx.Exec(`INSERT INTO pr_submissions (org_id, id, link_id, course_id, cohort_id, author_id, version, submitted_at, updated_at, late)
				VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)`, v.OrgID, sub.ID, v.LinkID, v.CourseID, v.CohortID, v.UserID, now, now, late).Error; err != nil {
				return fmt.Errorf("keep submission: %w", err)
			}
		case err != nil:
			return fmt.Errorf("read submission: %w", err)
		default:
			var recent int
			if err := tx.Raw(`SELECT COUNT(*) FROM pr_versions WHERE org_id = ? AND submission_id = ? AND created_at > ?`,
				v.OrgID, sub.ID, now.Add(-time.Hour)).Row().Scan(&recent); err != nil {
				return fmt.Errorf("count versions: %w", err)
			}
			if recent >= MaxVersionsPerHour {
				return roundtable.Errorf(roundtable.ELIMITED, "You submitted %d versions in the last hour. Keep working on your copy and submit again later.", recent)
			}
			sub.Version++
			sub.UpdatedAt = now
			sub.Late = sub.Late || late
			// A withdrawn submission submitted again re-enters the queue
			// as a new arrival.
			first = sub.Withdrawn
			sub.Withdrawn = false
			if err := tx.Exec(`UPDATE pr_submissions SET version = ?, updated_at = ?, late = ?, withdrawn = FALSE WHERE org_id = ? AND id = ?`,
				sub.Version, now, sub.Late, v.OrgID, sub.ID).Error; err != nil {
				return fmt.Errorf("keep submission: %w", err)
			}
		}
		if err := tx.Exec(`INSERT INTO pr_versions (org_id, submission_id, version, body, link_url, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			v.OrgID, sub.ID, sub.Version, in.Body, in.Link, now).Error; err != nil {
			return fmt.Errorf("keep version: %w", err)
		}
		if err := s.attachFiles(tx, v, sub, in); err != nil {
			return err
		}
		// Reviewers who have not begun read the newest version.
		if err := tx.Exec(`UPDATE pr_reviews SET version = ? WHERE org_id = ? AND submission_id = ? AND state = ?`,
			sub.Version, v.OrgID, sub.ID, StateAssigned).Error; err != nil {
			return fmt.Errorf("move reviews to the new version: %w", err)
		}
		touched := []string{v.UserID}
		if first {
			more, err := s.allocateNew(ctx, tx, v, o, sub, now)
			if err != nil {
				return err
			}
			touched = append(touched, more...)
		}
		return s.gradesMoved(ctx, tx, v, o, touched)
	})
	return sub, err
}

// attachFiles names the files of the new version: kept ones of the last
// version (the same blobs), and new uploads of the author not yet used.
func (s *Store) attachFiles(tx *gorm.DB, v Viewer, sub Submission, in WorkInput) error {
	pos := 0
	for _, id := range in.KeepFiles {
		var f File
		err := tx.Raw(`SELECT name, content_type, blob_key, size FROM pr_files WHERE org_id = ? AND id = ? AND submission_id = ? AND version = ?`,
			v.OrgID, id, sub.ID, sub.Version-1).Row().Scan(&f.Name, &f.ContentType, &f.BlobKey, &f.Size)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("keep file: %w", err)
		}
		if err := tx.Exec(`INSERT INTO pr_files (org_id, id, link_id, uploader_id, submission_id, version, seq, blob_key, content_type, size, name, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, v.OrgID, store.NewID(), v.LinkID, v.UserID, sub.ID, sub.Version, pos,
			f.BlobKey, f.ContentType, f.Size, f.Name, sub.UpdatedAt).Error; err != nil {
			return fmt.Errorf("keep file: %w", err)
		}
		pos++
	}
	for _, id := range in.NewFiles {
		res := tx.Exec(`UPDATE pr_files SET submission_id = ?, version = ?, seq = ? WHERE org_id = ? AND id = ? AND link_id = ?
			AND uploader_id = ? AND submission_id = ''`, sub.ID, sub.Version, pos, v.OrgID, id, v.LinkID, v.UserID)
		if res.Error != nil {
			return fmt.Errorf("attach file: %w", res.Error)
		}
		if res.RowsAffected == 1 {
			pos++
		}
	}
	return nil
}

// AddUpload records a file the viewer uploaded for their next version;
// its bytes are already in the blob store.
func (s *Store) AddUpload(ctx context.Context, v Viewer, f File) error {
	err := s.db.DB.WithContext(ctx).Exec(`INSERT INTO pr_files (org_id, id, link_id, uploader_id, blob_key, content_type, size, name, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, v.OrgID, f.ID, v.LinkID, v.UserID, f.BlobKey, f.ContentType, f.Size, f.Name, s.now()).Error
	if err != nil {
		return fmt.Errorf("record upload: %w", err)
	}
	return nil
}

// UploadsToday is how many bytes the viewer uploaded in the last day.
func (s *Store) UploadsToday(ctx context.Context, v Viewer) (int64, error) {
	var n int64
	err := s.db.DB.WithContext(ctx).Raw(`SELECT COALESCE(SUM(size), 0) FROM pr_files WHERE org_id = ? AND uploader_id = ? AND created_at > ?`,
		v.OrgID, v.UserID, s.now().Add(-24*time.Hour)).Row().Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count uploads: %w", err)
	}
	return n, nil
}

// Mine is the viewer's submission, if any.
func (s *Store) Mine(ctx context.Context, v Viewer) (Submission, bool, error) {
	return s.submissionBy(ctx, v.OrgID, v.LinkID, v.UserID)
}

func (s *Store) submissionBy(ctx context.Context, orgID, linkID, authorID string) (Submission, bool, error) {
	var sub Submission
	err := s.db.DB.WithContext(ctx).Raw(`SELECT `+submissionColumns+` FROM pr_submissions WHERE org_id = ? AND link_id = ? AND author_id = ?`,
		orgID, linkID, authorID).Row().Scan(sub.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return sub, false, nil
	}
	if err != nil {
		return sub, false, fmt.Errorf("read submission: %w", err)
	}
	return sub, true, nil
}

// SubmissionOf is the submission of author, for staff.
func (s *Store) SubmissionOf(ctx context.Context, v Viewer, authorID string) (Submission, bool, error) {
	if !v.Staff && authorID != v.UserID {
		return Submission{}, false, errNoSubmission
	}
	return s.submissionBy(ctx, v.OrgID, v.LinkID, authorID)
}

// WorkOf is one version of a submission the caller has been allowed to
// read (see CanRead).
func (s *Store) WorkOf(ctx context.Context, orgID, submissionID string, version int) (Work, error) {
	w := Work{Version: version}
	err := s.db.DB.WithContext(ctx).Raw(`SELECT body, link_url, created_at FROM pr_versions WHERE org_id = ? AND submission_id = ? AND version = ?`,
		orgID, submissionID, version).Row().Scan(&w.Body, &w.Link, &w.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return w, errNoSubmission
	}
	if err != nil {
		return w, fmt.Errorf("read version: %w", err)
	}
	rows, err := s.db.SQL.QueryContext(ctx, s.db.Rebind(`SELECT id, name, content_type, blob_key, size FROM pr_files
		WHERE org_id = ? AND submission_id = ? AND version = ? ORDER BY seq`), orgID, submissionID, version)
	if err != nil {
		return w, fmt.Errorf("read files: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f File
		if err := rows.Scan(&f.ID, &f.Name, &f.ContentType, &f.BlobKey, &f.Size); err != nil {
			return w, fmt.Errorf("read files: %w", err)
		}
		w.Files = append(w.Files, f)
	}
	return w, rows.Err()
}

// Versions lists the version numbers and times of a submission.
func (s *Store) Versions(ctx context.Context, orgID, submissionID string) ([]Work, error) {
	var out []Work
	rows, err := s.db.SQL.QueryContext(ctx, s.db.Rebind(`SELECT version, created_at FROM pr_versions WHERE org_id = ? AND submission_id = ? ORDER BY version`),
		orgID, submissionID)
	if err != nil {
		return nil, fmt.Errorf("read versions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var w Work
		if err := rows.Scan(&w.Version, &w.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// FileFor is a file the viewer may download: of their own submission, of
// one assigned to them (the version they were given), or any for staff;
// released feedback does not widen it.
func (s *Store) FileFor(ctx context.Context, v Viewer, fileID string) (File, error) {
	var f File
	var subID, author string
	var version int
	err := s.db.DB.WithContext(ctx).Raw(`SELECT f.id, f.name, f.content_type, f.blob_key, f.size, f.submission_id, f.version, f.uploader_id
		FROM pr_files f WHERE f.org_id = ? AND f.id = ? AND f.link_id = ?`, v.OrgID, fileID, v.LinkID).Row().
		Scan(&f.ID, &f.Name, &f.ContentType, &f.BlobKey, &f.Size, &subID, &version, &author)
	if errors.Is(err, sql.ErrNoRows) {
		return f, errNoSubmission
	}
	if err != nil {
		return f, fmt.Errorf("read file: %w", err)
	}
	if v.Staff || author == v.UserID {
		return f, nil
	}
	var n int
	if err := s.db.DB.WithContext(ctx).Raw(`SELECT COUNT(*) FROM pr_reviews WHERE org_id = ? AND submission_id = ? AND reviewer_id = ?
		AND version = ? AND state <> ?`, v.OrgID, subID, v.UserID, version, StateRemoved).Row().Scan(&n); err != nil {
		return f, fmt.Errorf("read file: %w", err)
	}
	if n == 0 {
		return f, errNoSubmission
	}
	return f, nil
}

// Released reports whether the instructor has released the results.
func (s *Store) Released(ctx context.Context, orgID, linkID string) (bool, error) {
	var n int
	err := s.db.DB.WithContext(ctx).Raw(`SELECT COUNT(*) FROM pr_activity_state WHERE org_id = ? AND link_id = ? AND released_at IS NOT NULL`,
		orgID, linkID).Row().Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read release: %w", err)
	}
	return n > 0, nil
}

// IsReleased reports whether results are out at now: released by hand,
// or the release date passed.
func (s *Store) IsReleased(ctx context.Context, v Viewer, o Options) (bool, error) {
	released, err := s.Released(ctx, v.OrgID, v.LinkID)
	return o.PhaseAt(s.now(), released) == PhaseReleased, err
}

// ReviewsBy are the reviews given to the viewer, oldest first.
func (s *Store) ReviewsBy(ctx context.Context, v Viewer) ([]Review, error) {
	return s.queryReviews(ctx, `WHERE r.org_id = ? AND r.link_id = ? AND r.reviewer_id = ? AND r.state <> ? ORDER BY r.assigned_at, r.id`,
		v.OrgID, v.LinkID, v.UserID, StateRemoved)
}

// ReviewsOfSubmission are a submission's reviews (done or not).
func (s *Store) ReviewsOfSubmission(ctx context.Context, orgID, submissionID string) ([]Review, error) {
	return s.queryReviews(ctx, `WHERE r.org_id = ? AND r.submission_id = ? AND r.state <> ? ORDER BY r.assigned_at, r.id`,
		orgID, submissionID, StateRemoved)
}

// ReviewsInvolving are the live reviews of userID's work and by them,
// for staff.
func (s *Store) ReviewsInvolving(ctx context.Context, v Viewer, userID string) ([]Review, error) {
	if !v.Staff {
		return nil, errStaffOnly
	}
	return s.queryReviews(ctx, `WHERE r.org_id = ? AND r.link_id = ? AND (r.author_id = ? OR r.reviewer_id = ?) AND r.state <> ?
		ORDER BY r.assigned_at, r.id`, v.OrgID, v.LinkID, userID, userID, StateRemoved)
}

// ReviewsOfActivity are every live review of the activity.
func (s *Store) ReviewsOfActivity(ctx context.Context, orgID, linkID string) ([]Review, error) {
	return s.queryReviews(ctx, `WHERE r.org_id = ? AND r.link_id = ? AND r.state <> ? ORDER BY r.assigned_at, r.id`,
		orgID, linkID, StateRemoved)
}

// ReviewFor is a review the viewer may read: as its reviewer, as the
// author once results are released (done reviews only), or as staff.
func (s *Store) ReviewFor(ctx context.Context, v Viewer, o Options, reviewID string) (Review, error) {
	rs, err := s.queryReviews(ctx, `WHERE r.org_id = ? AND r.id = ? AND r.link_id = ? AND r.state <> ?`, v.OrgID, reviewID, v.LinkID, StateRemoved)
	if err != nil {
		return Review{}, err
	}
	if len(rs) == 0 {
		return Review{}, errNoReview
	}
	r := rs[0]
	switch {
	case v.Staff, r.ReviewerID == v.UserID:
		return r, nil
	case r.AuthorID == v.UserID && r.State == StateDone:
		released, err := s.IsReleased(ctx, v, o)
		if err != nil {
			return r, err
		}
		if released {
			return r, nil
		}
	}
	return Review{}, errNoReview
}

// RubricVersion is the rubric a review used: the current one, or an
// earlier one kept in pr_rubrics.
func (s *Store) RubricVersion(ctx context.Context, v Viewer, o Options, version int) (Rubric, error) {
	return rubricVersionIn(ctx, s.db.DB, v, o, version)
}

// rubricVersionIn is RubricVersion read on db, the database or a
// transaction.
func rubricVersionIn(ctx context.Context, db *gorm.DB, v Viewer, o Options, version int) (Rubric, error) {
	if version == 0 || version == o.Rubric.Version {
		return o.Rubric, nil
	}
	var doc string
	err := db.WithContext(ctx).Raw(`SELECT doc FROM pr_rubrics WHERE org_id = ? AND link_id = ? AND version = ?`,
		v.OrgID, v.LinkID, version).Row().Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return o.Rubric, nil
	}
	if err != nil {
		return o.Rubric, fmt.Errorf("read rubric: %w", err)
	}
	var r Rubric
	if err := json.Unmarshal([]byte(doc), &r); err != nil {
		return o.Rubric, fmt.Errorf("read rubric: %w", err)
	}
	return r, nil
}

// CheckAssessment validates a review against the rubric: levels that
// exist, comments within bounds and, when submitted, every scored
// criterion assessed and every required comment long enough.
func CheckAssessment(r Rubric, a Assessment, final bool) error {
	for id, ans := range a.Criteria {
		c, ok := r.Criterion(id)
		if !ok {
			delete(a.Criteria, id)
			continue
		}
		if ans.Level < -1 || ans.Level >= len(c.Levels) {
			return fieldErr("crit_"+id, "Choose one of the levels of %q.", c.Title)
		}
		if utf8.RuneCountInString(ans.Comment) > MaxComment {
			return fieldErr("crit_"+id, "Your comment on %q is longer than %d characters.", c.Title, MaxComment)
		}
	}
	if len(a.Notes) > MaxNotes {
		return fieldErr("notes", "A review carries at most %d comments on paragraphs.", MaxNotes)
	}
	for _, n := range a.Notes {
		if n.Paragraph < 0 || utf8.RuneCountInString(n.Text) > MaxComment {
			return fieldErr("notes", "A comment on a paragraph is at most %d characters.", MaxComment)
		}
	}
	if utf8.RuneCountInString(a.Comment) > MaxComment {
		return fieldErr("comment", "Your overall comment is longer than %d characters.", MaxComment)
	}
	if !final {
		return nil
	}
	for _, c := range r.Criteria {
		ans, ok := a.Criteria[c.ID]
		if c.Scored() && (!ok || ans.Level < 0) {
			return fieldErr("crit_"+c.ID, "Choose a level for %q.", c.Title)
		}
		if c.Comment == CommentRequired {
			if n := utf8.RuneCountInString(strings.TrimSpace(ans.Comment)); n < max(c.MinComment, 1) {
				return fieldErr("crit_"+c.ID, "%q needs a comment of at least %d characters (you wrote %d).", c.Title, max(c.MinComment, 1), n)
			}
		}
	}
	return nil
}

// SaveReview keeps the viewer's review as a draft, or submits it (final).
// A submitted review may be changed until reviews are due or results are
// released.
func (s *Store) SaveReview(ctx context.Context, v Viewer, o Options, reviewID string, a Assessment, final bool) (Review, error) {
	now := s.now()
	var out Review
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		rs, err := s.queryReviewsTx(ctx, tx, `WHERE r.org_id = ? AND r.id = ? AND r.link_id = ? AND r.reviewer_id = ? AND r.state <> ?`,
			v.OrgID, reviewID, v.LinkID, v.UserID, StateRemoved)
		if err != nil {
			return err
		}
		if len(rs) == 0 {
			return errNoReview
		}
		r := rs[0]
		released, err := s.Released(ctx, v.OrgID, v.LinkID)
		if err != nil {
			return err
		}
		if o.PhaseAt(now, released) == PhaseReleased {
			return roundtable.Errorf(roundtable.ECONFLICT, "Results are released: reviews can no longer change.")
		}
		if r.State == StateDone && !o.ReviewsDue.IsZero() && now.After(o.ReviewsDue) {
			return roundtable.Errorf(roundtable.ECONFLICT, "Reviews were due %s: your submitted review can no longer change.", o.ReviewsDue.In(o.Location()).Format("Mon 2 Jan 15:04"))
		}
		switch since := now.Sub(r.UpdatedAt); {
		case r.State == StateDone && since < changeEvery:
			return roundtable.Errorf(roundtable.ELIMITED, "Your review was just saved. Wait a few seconds before changing it again.")
		case r.State == StateDraft && !final && since < draftEvery:
			return roundtable.Errorf(roundtable.ELIMITED, "Your draft was just saved.")
		}
		rubric, err := s.RubricVersion(ctx, v, o, r.RubricVersion)
		if err != nil {
			return err
		}
		if r.State == StateAssigned {
			rubric, r.RubricVersion = o.Rubric, o.Rubric.Version
			if err := s.keepRubric(tx, v, o.Rubric, now); err != nil {
				return err
			}
		}
		if a.Criteria == nil {
			a.Criteria = map[string]Answer{}
		}
		// A submitted review stays submitted whatever the button: its
		// changes are checked as a submission's.
		if err := CheckAssessment(rubric, a, final || r.State == StateDone); err != nil {
			return err
		}
		doc, err := json.Marshal(a)
		if err != nil {
			return err
		}
		state, doneAt, onTime := StateDraft, any(nil), false
		if final || r.State == StateDone {
			state, doneAt, onTime = StateDone, now, o.ReviewOnTime(now)
			if r.DoneAt != nil {
				doneAt, onTime = *r.DoneAt, r.OnTime
			}
		}
		points := EncodePoints(Review{Assessment: a}.Points(rubric))
		if err := tx.Exec(`UPDATE pr_reviews SET state = ?, doc = ?, points = ?, rubric_version = ?, updated_at = ?, done_at = ?, on_time = ?
			WHERE org_id = ? AND id = ?`, state, string(doc), points, r.RubricVersion, now, doneAt, onTime, v.OrgID, r.ID).Error; err != nil {
			return fmt.Errorf("keep review: %w", err)
		}
		r.State, r.Assessment, r.UpdatedAt, r.OnTime = state, a, now, onTime
		out = r
		if state == StateDone {
			return s.gradesMoved(ctx, tx, v, o, []string{r.ReviewerID, r.AuthorID})
		}
		return nil
	})
	return out, err
}

func (s *Store) queryReviewsTx(ctx context.Context, tx *gorm.DB, where string, args ...any) ([]Review, error) {
	rows, err := tx.WithContext(ctx).Raw(`SELECT `+reviewColumns+reviewFrom+where, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("read reviews: %w", err)
	}
	return scanReviews(rows)
}

// keepRubric records the rubric a review begins with, once per version.
func (s *Store) keepRubric(tx *gorm.DB, v Viewer, r Rubric, now time.Time) error {
	doc, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := tx.Exec(`INSERT INTO pr_rubrics (org_id, link_id, version, doc, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (org_id, link_id, version) DO NOTHING`, v.OrgID, v.LinkID, r.Version, string(doc), now).Error; err != nil {
		return fmt.Errorf("keep rubric: %w", err)
	}
	return nil
}

// Rate keeps the author's rating of a review of their work (1 to 5, with
// an optional comment), once results are released.
func (s *Store) Rate(ctx context.Context, v Viewer, o Options, reviewID string, rating int, note string) error {
	if rating < 1 || rating > 5 {
		return fieldErr("rating", "Choose how helpful the review was, from 1 to 5.")
	}
	if utf8.RuneCountInString(note) > MaxReason {
		return fieldErr("rating_note", "Your comment is longer than %d characters.", MaxReason)
	}
	r, err := s.ReviewFor(ctx, v, o, reviewID)
	if err != nil {
		return err
	}
	if r.AuthorID != v.UserID || r.Self() {
		return errNoReview
	}
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec(`UPDATE pr_reviews SET helpfulness = ?, helpfulness_note = ? WHERE org_id = ? AND id = ?`,
			rating, strings.TrimSpace(note), v.OrgID, r.ID).Error; err != nil {
			return fmt.Errorf("keep rating: %w", err)
		}
		// Only the rating counts toward a grade, and only where reviewing
		// is scored on helpfulness: a comment re-grades nothing.
		if rating == r.Helpfulness || o.ReviewingBasis != BasisHelpfulness {
			return nil
		}
		return s.gradesMoved(ctx, tx, v, o, []string{r.ReviewerID})
	})
}

// Flag sends a review the author finds unfair to the instructor, with
// the reason.
func (s *Store) Flag(ctx context.Context, v Viewer, o Options, reviewID, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return fieldErr("reason", "Say why the review is unfair, so your instructor can look into it.")
	}
	if utf8.RuneCountInString(reason) > MaxReason {
		return fieldErr("reason", "Your reason is longer than %d characters.", MaxReason)
	}
	r, err := s.ReviewFor(ctx, v, o, reviewID)
	if err != nil {
		return err
	}
	if r.AuthorID != v.UserID || r.Self() {
		return errNoReview
	}
	err = s.db.DB.WithContext(ctx).Exec(`INSERT INTO pr_flags (org_id, review_id, link_id, reason, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (org_id, review_id) DO UPDATE SET reason = excluded.reason, created_at = excluded.created_at, resolution = '', resolved_by = '', resolved_at = NULL`,
		v.OrgID, r.ID, v.LinkID, reason, s.now()).Error
	if err != nil {
		return fmt.Errorf("flag review: %w", err)
	}
	return nil
}

// gradesMoved recomputes the activity's grades and tells OnGrades whose
// changed (and who was named).
func (s *Store) gradesMoved(ctx context.Context, tx *gorm.DB, v Viewer, o Options, named []string) error {
	changed, err := s.regrade(ctx, tx, v, o)
	if err != nil {
		return err
	}
	if s.OnGrades == nil {
		return nil
	}
	seen := map[string]bool{}
	var users []string
	for _, u := range append(named, changed...) {
		if !seen[u] {
			seen[u] = true
			users = append(users, u)
		}
	}
	return s.OnGrades(ctx, tx, v.OrgID, v.LinkID, users)
}
