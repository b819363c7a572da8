package peerreview

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

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
	// Done counts each reviewer's reviews of others' work done (Assigned,
	// those given, is the score input's).
	Assigned, Done map[string]int
}

// EncodePoints writes the points a review gave, as the points column
// keeps them: "c1:3,c2:2.5", by criterion id.
func EncodePoints(points map[string]float64) string {
	ids := make([]string, 0, len(points))
	for id := range points {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(id)
		b.WriteByte(':')
		b.WriteString(strconv.FormatFloat(points[id], 'f', -1, 64))
	}
	return b.String()
}

// DecodePoints reads the points column; what it cannot read is left out.
func DecodePoints(s string) map[string]float64 {
	out := map[string]float64{}
	for part := range strings.SplitSeq(s, ",") {
		id, num, ok := strings.Cut(part, ":")
		if !ok {
			continue
		}
		if p, err := strconv.ParseFloat(num, 64); err == nil && !math.IsNaN(p) && !math.IsInf(p, 0) {
			out[id] = p
		}
	}
	return out
}

// Compute reads what the activity's grades depend on (the reviews' points,
// not their comments) and computes them; name gives a learner's name as
// the explanations say it.
func (s *Store) Compute(ctx context.Context, tx *gorm.DB, v Viewer, o Options, name func(string) string) (Computation, error) {
	if tx == nil {
		tx = s.db.DB
	}
	tx = tx.WithContext(ctx)
	out := Computation{Done: map[string]int{}}
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
	rows, err := tx.Raw(`SELECT id, author_id, reviewer_id, state, on_time, helpfulness, points FROM pr_reviews
		WHERE org_id = ? AND link_id = ? AND state <> ? ORDER BY id`, v.OrgID, v.LinkID, StateRemoved).Rows()
	if err != nil {
		return out, fmt.Errorf("read reviews: %w", err)
	}
	for rows.Next() {
		var r score.Review
		var state, points string
		if err := rows.Scan(&r.ID, &r.Author, &r.Reviewer, &state, &r.OnTime, &r.Helpfulness, &points); err != nil {
			rows.Close()
			return out, fmt.Errorf("read reviews: %w", err)
		}
		r.Done, r.Points = state == StateDone, DecodePoints(points)
		if r.Author != r.Reviewer {
			in.Assigned[r.Reviewer]++
			if r.Done {
				out.Done[r.Reviewer]++
			}
			learners[r.Reviewer] = true
		}
		in.Reviews = append(in.Reviews, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, err
	}
	for l := range learners {
		in.Learners = append(in.Learners, l)
	}
	sort.Strings(in.Learners)
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
	rows, err = tx.Raw(`SELECT user_id, fraction, note FROM pr_overrides WHERE org_id = ? AND link_id = ?`, v.OrgID, v.LinkID).Rows()
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
	out.Result, out.Assigned = score.Compute(in), in.Assigned
	return out, nil
}

// regrade recomputes the activity's grades and keeps those that changed;
// it returns whose.
func (s *Store) regrade(ctx context.Context, tx *gorm.DB, v Viewer, o Options) ([]string, error) {
	// The explanations kept for staff name people as staff see them.
	var people []struct{ ID, Name string }
	if err := tx.WithContext(ctx).Raw(`SELECT id, name FROM users WHERE org_id = ? AND id IN (
			SELECT author_id FROM pr_submissions WHERE org_id = ? AND link_id = ?
			UNION SELECT reviewer_id FROM pr_reviews WHERE org_id = ? AND link_id = ?)`,
		v.OrgID, v.OrgID, v.LinkID, v.OrgID, v.LinkID).Scan(&people).Error; err != nil {
		return nil, fmt.Errorf("read names: %w", err)
	}
	names := make(map[string]string, len(people))
	for _, p := range people {
		names[p.ID] = p.Name
	}
	c, err := s.Compute(ctx, tx, v, o, func(id string) string {
		if n := names[id]; n != "" {
			return n
		}
		return "A classmate"
	})
	if err != nil {
		return nil, err
	}
	if err := s.keepInsights(ctx, tx, v, c); err != nil {
		return nil, err
	}
	type kept struct {
		combined, weight float64
		why, weightWhy   string
		assigned, done   int
	}
	old := map[string]kept{}
	rows, err := tx.WithContext(ctx).Raw(`SELECT user_id, combined, explanation, weight, weight_why, reviews_assigned, reviews_done
		FROM pr_grades WHERE org_id = ? AND link_id = ?`, v.OrgID, v.LinkID).Rows()
	if err != nil {
		return nil, fmt.Errorf("read grades: %w", err)
	}
	for rows.Next() {
		var u string
		var k kept
		if err := rows.Scan(&u, &k.combined, &k.why, &k.weight, &k.weightWhy, &k.assigned, &k.done); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read grades: %w", err)
		}
		old[u] = k
	}
	rows.Close()
	// Every row whose grade, weight or explanation moved is written; only
	// those whose grade moved are named, for the gradebook.
	var changed []string
	now := s.now()
	for u, g := range c.Grades {
		w, ok := c.Weights[u]
		if !ok {
			w.Value = 1
		}
		prev, found := old[u]
		moved := !found || math.Abs(prev.combined-g.Combined) >= 1e-9
		assigned, done := c.Assigned[u], c.Done[u]
		if !moved && prev.why == g.Explanation && math.Abs(prev.weight-w.Value) < 1e-9 && prev.weightWhy == w.Explanation &&
			prev.assigned == assigned && prev.done == done {
			continue
		}
		if err := tx.Exec(`INSERT INTO pr_grades (org_id, link_id, user_id, submission, reviewing, combined, scored, explanation, weight, weight_why,
				reviews_assigned, reviews_done, computed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (org_id, link_id, user_id) DO UPDATE SET submission = excluded.submission, reviewing = excluded.reviewing,
				combined = excluded.combined, scored = excluded.scored, explanation = excluded.explanation, weight = excluded.weight,
				weight_why = excluded.weight_why, reviews_assigned = excluded.reviews_assigned, reviews_done = excluded.reviews_done,
				computed_at = excluded.computed_at`,
			v.OrgID, v.LinkID, u, g.Submission, g.Reviewing, g.Combined, g.SubmissionScored, g.Explanation, w.Value, w.Explanation,
			assigned, done, now).Error; err != nil {
			return nil, fmt.Errorf("keep grade: %w", err)
		}
		if moved {
			changed = append(changed, u)
		}
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
	// Overridden is set by Standings when staff set the grade by hand;
	// Weight and WeightWhy, the learner's weight as a reviewer.
	Overridden bool
	Weight     float64
	WeightWhy  string
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

// Insights are what the last computation found that the dashboard
// explains, kept with the grades (pr_insights) so no page computes.
type Insights struct {
	// Outliers are the first MaxOutliersKept outlying reviews, explained;
	// OutlierIDs names every one.
	Outliers   []KeptNote `json:"outliers"`
	OutlierIDs []string   `json:"outlier_ids"`
	Pairs      []KeptNote `json:"pairs"`
}

// MaxOutliersKept is how many outlying reviews the insights explain.
const MaxOutliersKept = 20

// KeptNote is an outlying review, or a pair trading marks, explained;
// ReviewID names the review of an outlier.
type KeptNote struct {
	ReviewID string `json:"review,omitempty"`
	Why      string `json:"why"`
}

// keepInsights writes the computation's outliers and pairs (weights are
// kept with each grade).
// Their explanations name people: they are read only by staff.
func (s *Store) keepInsights(ctx context.Context, tx *gorm.DB, v Viewer, c Computation) error {
	var in Insights
	for i, o := range c.Outliers {
		if i < MaxOutliersKept {
			in.Outliers = append(in.Outliers, KeptNote{ReviewID: o.ReviewID, Why: o.Explanation})
		}
		in.OutlierIDs = append(in.OutlierIDs, o.ReviewID)
	}
	for _, p := range c.TitForTat {
		in.Pairs = append(in.Pairs, KeptNote{Why: p.Explanation})
	}
	doc, err := json.Marshal(in)
	if err != nil {
		return err
	}
	if err := tx.WithContext(ctx).Exec(`INSERT INTO pr_insights (org_id, link_id, doc, computed_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (org_id, link_id) DO UPDATE SET doc = excluded.doc, computed_at = excluded.computed_at`,
		v.OrgID, v.LinkID, string(doc), s.now()).Error; err != nil {
		return fmt.Errorf("keep insights: %w", err)
	}
	return nil
}

// KeptInsights are the insights of the last computation, for staff.
func (s *Store) KeptInsights(ctx context.Context, v Viewer) (Insights, error) {
	var in Insights
	if !v.Staff {
		return in, errStaffOnly
	}
	var doc string
	err := s.db.DB.WithContext(ctx).Raw(`SELECT doc FROM pr_insights WHERE org_id = ? AND link_id = ?`, v.OrgID, v.LinkID).Row().Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return in, nil
	}
	if err != nil {
		return in, fmt.Errorf("read insights: %w", err)
	}
	if err := json.Unmarshal([]byte(doc), &in); err != nil {
		return in, fmt.Errorf("read insights: %w", err)
	}
	return in, nil
}

// Flagged are the activity's flagged reviews, for staff.
func (s *Store) Flagged(ctx context.Context, v Viewer) ([]Review, error) {
	if !v.Staff {
		return nil, errStaffOnly
	}
	return s.queryReviews(ctx, `JOIN pr_flags ff ON ff.org_id = r.org_id AND ff.review_id = r.id
		WHERE r.org_id = ? AND r.link_id = ? AND r.state <> ? ORDER BY ff.created_at`, v.OrgID, v.LinkID, StateRemoved)
}

// Regrade recomputes and keeps the activity's grades and insights, as a
// change of the activity does (a bulk load, a repair).
func (s *Store) Regrade(ctx context.Context, v Viewer, o Options) error {
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		_, err := s.regrade(ctx, tx, v, o)
		return err
	})
}
