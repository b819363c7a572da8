package peerreview

import (
	"context"
	"fmt"
	"sort"

	"github.com/roundtable-lms/roundtable/internal/course"
)

// Member is a learner of the activity's course, for staff pages.
type Member struct {
	UserID, Name, Email string
}

// Members are the course's learners (not staff, not observers), by name,
// and every other person the activity names (a learner who left the
// course keeps their submission), for staff.
func (s *Store) Members(ctx context.Context, v Viewer) ([]Member, error) {
	if !v.Staff {
		return nil, errStaffOnly
	}
	rows, err := s.db.SQL.QueryContext(ctx, s.db.Rebind(`SELECT u.id, u.name, u.email, m.roles FROM memberships m
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
		if err := rows.Scan(&m.UserID, &m.Name, &m.Email, &roles); err != nil {
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
