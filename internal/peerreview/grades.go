package peerreview

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/internal/peerreview/score"
)

// Grading: every change that may move a grade recomputes the activity's
// grades in its transaction (score.Compute over the whole activity: the
// weights of reviewers depend on everyone), keeps each learner's in
// pr_grades, and names those whose grade changed, so the gradebook's
// completion measure (Options.Measure) reads one row.

// scoreRubric is the rubric as package score reads it.
func (r Rubric) scoreRubric() score.Rubric {
	var out score.Rubric
	for _, c := range r.Criteria {
		sc := score.Criterion{ID: c.ID, Title: c.Title}
		for _, l := range c.Levels {
			sc.Levels = append(sc.Levels, score.Level{Points: l.Points, Label: l.Label})
		}
		out.Criteria = append(out.Criteria, sc)
	}
	return out
}

// scoreConfig is the options' grading as package score reads it.
func (o Options) scoreConfig() score.Config {
	return score.Config{Aggregation: o.Aggregation, SubmissionWeight: float64(o.SubmissionWeight) / 100, ReviewingBasis: o.ReviewingBasis}
}

// Computation is the activity's grades and what explains them.
type Computation struct {
	score.Result
	Reviews []Review
}

// Compute reads everything the activity's grades depend on and computes
// them; name gives a learner's name as the page may show it.
func (s *Store) Compute(ctx context.Context, tx *gorm.DB, v Viewer, o Options, name func(string) string) (Computation, error) {
	if tx == nil {
		tx = s.db.DB
	}
	tx = tx.WithContext(ctx)
	var out Computation
	reviews, err := s.queryReviewsTx(ctx, tx, `WHERE r.org_id = ? AND r.link_id = ? AND r.state <> ? ORDER BY r.assigned_at, r.id`,
		v.OrgID, v.LinkID, StateRemoved)
	if err != nil {
		return out, err
	}
	out.Reviews = reviews
	in := score.Input{Rubric: o.Rubric.scoreRubric(), Config: o.scoreConfig(), Assigned: map[string]int{},
		Overrides: map[string]score.Override{}, Name: name}
	if err := tx.Raw(`SELECT author_id FROM pr_submissions WHERE org_id = ? AND link_id = ? AND withdrawn = FALSE ORDER BY author_id`,
		v.OrgID, v.LinkID).Scan(&in.Authors).Error; err != nil {
		return out, fmt.Errorf("read submitters: %w", err)
	}
	learners := map[string]bool{}
	for _, a := range in.Authors {
		learners[a] = true
	}
	rubrics := map[int]Rubric{o.Rubric.Version: o.Rubric}
	for _, r := range reviews {
		rubric, ok := rubrics[r.RubricVersion]
		if !ok {
			if rubric, err = rubricVersionIn(ctx, tx, v, o, r.RubricVersion); err != nil {
				return out, err
			}
			rubrics[r.RubricVersion] = rubric
		}
		if !r.Self() {
			in.Assigned[r.ReviewerID]++
			learners[r.ReviewerID] = true
		}
		in.Reviews = append(in.Reviews, score.Review{ID: r.ID, Author: r.AuthorID, Reviewer: r.ReviewerID, Points: r.Points(rubric),
			Done: r.State == StateDone, OnTime: r.OnTime, Helpfulness: r.Helpfulness})
	}
	for l := range learners {
		in.Learners = append(in.Learners, l)
	}
	if o.Calibration {
		examples, err := s.examplesTx(tx, v)
		if err != nil {
			return out, err
		}
		for _, e := range examples {
			in.Examples = append(in.Examples, score.Example{ID: e.ID, Points: Review{Assessment: e.Key}.Points(o.Rubric)})
		}
		rows, err := tx.Raw(`SELECT example_id, user_id, doc FROM pr_calibrations WHERE org_id = ? AND link_id = ?`, v.OrgID, v.LinkID).Rows()
		if err != nil {
			return out, fmt.Errorf("read calibrations: %w", err)
		}
		for rows.Next() {
			var c score.Calibration
			var doc string
			var a Assessment
			if err := rows.Scan(&c.Example, &c.Reviewer, &doc); err != nil {
				rows.Close()
				return out, fmt.Errorf("read calibrations: %w", err)
			}
			if err := json.Unmarshal([]byte(doc), &a); err != nil {
				rows.Close()
				return out, fmt.Errorf("read calibration: %w", err)
			}
			c.Points = Review{Assessment: a}.Points(o.Rubric)
			in.Calibrations = append(in.Calibrations, c)
		}
		rows.Close()
	}
	rows, err := tx.Raw(`SELECT user_id, fraction, note FROM pr_overrides WHERE org_id = ? AND link_id = ?`, v.OrgID, v.LinkID).Rows()
	if err != nil {
		return out, fmt.Errorf("read overrides: %w", err)
	}
	for rows.Next() {
		var user string
		var ov score.Override
		if err := rows.Scan(&user, &ov.Fraction, &ov.Note); err != nil {
			rows.Close()
			return out, fmt.Errorf("read overrides: %w", err)
		}
		in.Overrides[user] = ov
		if !learners[user] {
			learners[user] = true
			in.Learners = append(in.Learners, user)
		}
	}
	rows.Close()
	out.Result = score.Compute(in)
	return out, nil
}

// regrade recomputes the activity's grades and keeps those that changed;
// it returns whose.
func (s *Store) regrade(ctx context.Context, tx *gorm.DB, v Viewer, o Options) ([]string, error) {
	c, err := s.Compute(ctx, tx, v, o, func(string) string { return "" })
	if err != nil {
		return nil, err
	}
	old := map[string]float64{}
	rows, err := tx.WithContext(ctx).Raw(`SELECT user_id, combined FROM pr_grades WHERE org_id = ? AND link_id = ?`, v.OrgID, v.LinkID).Rows()
	if err != nil {
		return nil, fmt.Errorf("read grades: %w", err)
	}
	for rows.Next() {
		var u string
		var f float64
		if err := rows.Scan(&u, &f); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read grades: %w", err)
		}
		old[u] = f
	}
	rows.Close()
	var changed []string
	now := s.now()
	for u, g := range c.Grades {
		if f, ok := old[u]; ok && math.Abs(f-g.Combined) < 1e-9 {
			continue
		}
		if err := tx.Exec(`INSERT INTO pr_grades (org_id, link_id, user_id, submission, reviewing, combined, scored, explanation, computed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (org_id, link_id, user_id) DO UPDATE SET submission = excluded.submission, reviewing = excluded.reviewing,
				combined = excluded.combined, scored = excluded.scored, explanation = excluded.explanation, computed_at = excluded.computed_at`,
			v.OrgID, v.LinkID, u, g.Submission, g.Reviewing, g.Combined, g.SubmissionScored, g.Explanation, now).Error; err != nil {
			return nil, fmt.Errorf("keep grade: %w", err)
		}
		changed = append(changed, u)
	}
	return changed, nil
}

// Example is a calibration example: work the instructor assessed, which
// learners assess before reviewing their peers.
type Example struct {
	ID, Title, Body string
	Key             Assessment
}

func (s *Store) examplesTx(tx *gorm.DB, v Viewer) ([]Example, error) {
	rows, err := tx.Raw(`SELECT id, title, body, doc FROM pr_examples WHERE org_id = ? AND link_id = ? ORDER BY created_at, id`,
		v.OrgID, v.LinkID).Rows()
	if err != nil {
		return nil, fmt.Errorf("read examples: %w", err)
	}
	defer rows.Close()
	var out []Example
	for rows.Next() {
		var e Example
		var doc string
		if err := rows.Scan(&e.ID, &e.Title, &e.Body, &doc); err != nil {
			return nil, fmt.Errorf("read examples: %w", err)
		}
		if err := json.Unmarshal([]byte(doc), &e.Key); err != nil {
			return nil, fmt.Errorf("read example: %w", errors.Join(err))
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// GradeRow is a learner's grade as last computed.
type GradeRow struct {
	Submission, Reviewing, Combined float64
	Scored                          bool
	Explanation                     string
}

// GradeOf is the grade last computed for userID: the viewer's own, or
// anyone's for staff.
func (s *Store) GradeOf(ctx context.Context, v Viewer, userID string) (GradeRow, bool, error) {
	var g GradeRow
	if !v.Staff && userID != v.UserID {
		return g, false, errStaffOnly
	}
	err := s.db.DB.WithContext(ctx).Raw(`SELECT submission, reviewing, combined, scored, explanation FROM pr_grades
		WHERE org_id = ? AND link_id = ? AND user_id = ?`, v.OrgID, v.LinkID, userID).Row().
		Scan(&g.Submission, &g.Reviewing, &g.Combined, &g.Scored, &g.Explanation)
	if errors.Is(err, sql.ErrNoRows) {
		return g, false, nil
	}
	if err != nil {
		return g, false, fmt.Errorf("read grade: %w", err)
	}
	return g, true, nil
}

// DropUploads forgets uploads of the viewer no version took (a refused
// form); the caller deletes their blobs.
func (s *Store) DropUploads(ctx context.Context, v Viewer, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.db.DB.WithContext(ctx).Exec(`DELETE FROM pr_files WHERE org_id = ? AND uploader_id = ? AND submission_id = '' AND id IN ?`,
		v.OrgID, v.UserID, ids).Error
	if err != nil {
		return fmt.Errorf("drop uploads: %w", err)
	}
	return nil
}
