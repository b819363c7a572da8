package peerreview

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/roundtable-lms/roundtable/internal/course"
)

// Member is a learner of the activity's course, for staff pages.
type Member struct {
	UserID, Name string
}

// Members are the course's learners (not staff, not observers), by name,
// and every other person the activity names (a learner who left the
// course keeps their submission), for staff.
func (s *Store) Members(ctx context.Context, v Viewer) ([]Member, error) {
	if !v.Staff {
		return nil, errStaffOnly
	}
	rows, err := s.db.SQL.QueryContext(ctx, s.db.Rebind(`SELECT u.id, u.name, m.roles FROM memberships m
		JOIN users u ON u.org_id = m.org_id AND u.id = m.user_id
		WHERE m.org_id = ? AND m.course_id = ? AND m.status = 'active'`), v.OrgID, v.CourseID)
	if err != nil {
		return nil, fmt.Errorf("read learners: %w", err)
	}
	defer rows.Close()
	var out []Member
	for rows.Next() {
		var m Member
		var roles string
		if err := rows.Scan(&m.UserID, &m.Name, &roles); err != nil {
			return nil, fmt.Errorf("read learners: %w", err)
		}
		if course.ParseRoles(roles).Participant() {
			out = append(out, m)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Name < out[j].Name || (out[i].Name == out[j].Name && out[i].UserID < out[j].UserID)
	})
	return out, nil
}

// Names are the names of the people of ids in the organisation ("" for
// one without a name).
func (s *Store) Names(ctx context.Context, orgID string, ids []string) (map[string]string, error) {
	out := map[string]string{}
	seen := make(map[string]bool, len(ids))
	unique := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			unique = append(unique, id)
		}
	}
	// In batches, well under SQLite's bound on a statement's parameters.
	for len(unique) > 0 {
		batch := unique[:min(len(unique), 5000)]
		unique = unique[len(batch):]
		var rows []struct{ ID, Name string }
		if err := s.db.DB.WithContext(ctx).Raw(`SELECT id, name FROM users WHERE org_id = ? AND id IN ?`, orgID, batch).Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("read names: %w", err)
		}
		for _, r := range rows {
			out[r.ID] = r.Name
		}
	}
	return out, nil
}

// participantRoles keeps the memberships of learners (course.Roles
// Participant): neither staff nor observers.
const participantRoles = `NOT (',' || m.roles || ',' LIKE '%,instructor,%' OR ',' || m.roles || ',' LIKE '%,teaching_assistant,%'
	OR ',' || m.roles || ',' LIKE '%,administrator,%')
	AND NOT (',' || m.roles || ',' LIKE '%,mentor,%' AND ',' || m.roles || ',' NOT LIKE '%,learner,%')`

// Standing is a learner's line on the dashboard: their work, reviews and
// grade as last computed.
type Standing struct {
	UserID, Name    string
	Submitted, Late bool
	SubmittedAt     time.Time
	Assigned, Done  int
	Graded          bool
	Grade           GradeRow
}

// Summary counts the course's learners for the dashboard.
type Summary struct {
	Learners, OnTime, Late, Missing int
	ReviewsAssigned, ReviewsDone    int
	// OweReviews is how many learners have reviews not done.
	OweReviews int
}

// standingFrom is the learners of the course joined with their work and
// what the last computation kept of them: their grade, weight and
// reviews given and done (see regrade), so no review is read.
const standingFrom = ` FROM memberships m JOIN users u ON u.org_id = m.org_id AND u.id = m.user_id
	LEFT JOIN pr_submissions s ON s.org_id = m.org_id AND s.link_id = ? AND s.author_id = m.user_id AND s.withdrawn = FALSE
	LEFT JOIN pr_grades g ON g.org_id = m.org_id AND g.link_id = ? AND g.user_id = m.user_id `

// standingWhere keeps the course's active learners.
const standingWhere = ` WHERE m.org_id = ? AND m.course_id = ? AND m.status = 'active' AND ` + participantRoles

// Standings are a page of the course's learners, by name, and the counts
// over all of them, for staff: what the dashboard reads, in two
// statements whatever the size of the course.
func (s *Store) Standings(ctx context.Context, v Viewer, offset, limit int) ([]Standing, Summary, error) {
	var sum Summary
	if !v.Staff {
		return nil, sum, errStaffOnly
	}
	args := []any{v.LinkID, v.LinkID, v.OrgID, v.CourseID}
	err := s.db.DB.WithContext(ctx).Raw(`SELECT COUNT(*),
			COALESCE(SUM(CASE WHEN s.id IS NOT NULL AND s.late = FALSE THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN s.id IS NOT NULL AND s.late = TRUE THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN s.id IS NULL THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(g.reviews_assigned), 0), COALESCE(SUM(g.reviews_done), 0),
			COALESCE(SUM(CASE WHEN g.reviews_done < g.reviews_assigned THEN 1 ELSE 0 END), 0)`+standingFrom+standingWhere, args...).Row().
		Scan(&sum.Learners, &sum.OnTime, &sum.Late, &sum.Missing, &sum.ReviewsAssigned, &sum.ReviewsDone, &sum.OweReviews)
	if err != nil {
		return nil, sum, fmt.Errorf("count learners: %w", err)
	}
	rows, err := s.db.DB.WithContext(ctx).Raw(`SELECT u.id, u.name, s.id IS NOT NULL, COALESCE(s.late, FALSE), s.submitted_at,
			COALESCE(g.reviews_assigned, 0), COALESCE(g.reviews_done, 0),
			g.user_id IS NOT NULL, COALESCE(g.submission, 0), COALESCE(g.reviewing, 0), COALESCE(g.combined, 0),
			COALESCE(g.explanation, ''), COALESCE(g.weight, 1), COALESCE(g.weight_why, ''), o.user_id IS NOT NULL`+
		standingFrom+`LEFT JOIN pr_overrides o ON o.org_id = m.org_id AND o.link_id = ? AND o.user_id = m.user_id`+standingWhere+
		` ORDER BY u.name, u.id LIMIT ? OFFSET ?`,
		v.LinkID, v.LinkID, v.LinkID, v.OrgID, v.CourseID, limit, offset).Rows()
	if err != nil {
		return nil, sum, fmt.Errorf("read learners: %w", err)
	}
	defer rows.Close()
	var out []Standing
	for rows.Next() {
		var st Standing
		var at sql.NullTime
		if err := rows.Scan(&st.UserID, &st.Name, &st.Submitted, &st.Late, &at, &st.Assigned, &st.Done, &st.Graded,
			&st.Grade.Submission, &st.Grade.Reviewing, &st.Grade.Combined, &st.Grade.Explanation, &st.Grade.Weight,
			&st.Grade.WeightWhy, &st.Grade.Overridden); err != nil {
			return nil, sum, fmt.Errorf("read learners: %w", err)
		}
		st.SubmittedAt = at.Time
		out = append(out, st)
	}
	return out, sum, rows.Err()
}
