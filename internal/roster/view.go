package roster

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/roundtable-lms/roundtable/internal/course"
)

// Sync is the recorded outcome of the last sync of a course or activity.
type Sync struct {
	AttemptedAt time.Time
	// SyncedAt is the end of the last sync that succeeded; zero before one.
	SyncedAt    time.Time
	Scoped      bool
	Members     int
	Added       int
	Updated     int
	Deactivated int
	// Error is why the last attempt failed, for staff; "" when it
	// succeeded.
	Error string
}

// Member is a person of an activity's roster, as staff see it.
type Member struct {
	course.User
	Roles course.Roles
	// Status is the course membership's (StatusActive...).
	Status string
	// LastLaunch is the person's last launch in the course; zero when they
	// never launched.
	LastLaunch time.Time
	// FirstOpened and LastOpened are this activity's; zero when never
	// opened.
	FirstOpened, LastOpened time.Time
}

// Opened reports whether the member ever opened the activity.
func (m Member) Opened() bool { return !m.LastOpened.IsZero() }

// Inactive reports whether the LMS marked the member inactive or dropped
// them from the roster.
func (m Member) Inactive() bool { return m.Status == StatusInactive }

// LinkRoster is an activity's roster for its staff.
type LinkRoster struct {
	// Members is everyone, by name: the activity's audience when the last
	// sync was scoped to it (plus anyone who opened it), else the course.
	Members []Member
	// NeverOpened is the active learners who have never opened the
	// activity.
	NeverOpened []Member
	// Course is the last whole-course sync, Link the last sync made from
	// this activity; HasCourse and HasLink are false before any.
	Course, Link       Sync
	HasCourse, HasLink bool
	// Service is false when no launch in the course carried an NRPS URL.
	Service bool
}

// maxRoster bounds the people one page lists.
const maxRoster = 10000

// Roster reads an activity's roster: who can see it, who opened it, the
// last sync's outcome.
func (s *Service) Roster(ctx context.Context, orgID, linkID string) (LinkRoster, error) {
	var out LinkRoster
	l, err := s.link(ctx, orgID, linkID)
	if err != nil {
		return out, err
	}
	cs, err := s.courseService(ctx, orgID, l.courseID)
	if err != nil {
		return out, err
	}
	out.Service = cs.nrpsURL != "" || l.nrpsURL != ""
	if out.Course, out.HasCourse, err = s.lastSync(ctx, orgID, l.courseID, ""); err != nil {
		return out, err
	}
	if out.Link, out.HasLink, err = s.lastSync(ctx, orgID, l.courseID, linkID); err != nil {
		return out, err
	}
	// The audience counts once a scoped sync succeeded, and only when no
	// whole-course sync is newer (it may have added people the audience
	// has not seen yet, and they are better listed than hidden).
	useAudience := out.HasLink && out.Link.Scoped && !out.Link.SyncedAt.IsZero() &&
		(out.Course.SyncedAt.IsZero() || !out.Course.SyncedAt.After(out.Link.SyncedAt))
	rows, err := s.db.WithContext(ctx).Raw(`SELECT u.id, u.subject, u.name, u.given_name, u.family_name, u.email, u.pseudonym,
			m.roles, m.status, m.last_launch_at, o.first_opened_at, o.last_opened_at, a.user_id IS NOT NULL
		FROM memberships m
		JOIN users u ON u.org_id = m.org_id AND u.id = m.user_id
		LEFT JOIN link_openings o ON o.org_id = m.org_id AND o.link_id = ? AND o.user_id = m.user_id
		LEFT JOIN roster_link_members a ON a.org_id = m.org_id AND a.link_id = ? AND a.user_id = m.user_id
		WHERE m.org_id = ? AND m.course_id = ?
		LIMIT ?`, linkID, linkID, orgID, l.courseID, maxRoster).Rows()
	if err != nil {
		return out, fmt.Errorf("roster: read roster: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m Member
		var roles string
		var lastLaunch, first, last sql.NullTime
		var inAudience bool
		if err := rows.Scan(&m.ID, &m.Subject, &m.Name, &m.GivenName, &m.FamilyName, &m.Email, &m.Pseudonym,
			&roles, &m.Status, &lastLaunch, &first, &last, &inAudience); err != nil {
			return out, fmt.Errorf("roster: read roster: %w", err)
		}
		m.OrgID, m.Roles = orgID, course.ParseRoles(roles)
		m.LastLaunch, m.FirstOpened, m.LastOpened = lastLaunch.Time, first.Time, last.Time
		if useAudience && !inAudience && !m.Opened() {
			continue
		}
		out.Members = append(out.Members, m)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("roster: read roster: %w", err)
	}
	slices.SortFunc(out.Members, func(a, b Member) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.DisplayName()), strings.ToLower(b.DisplayName())), strings.Compare(a.ID, b.ID))
	})
	for _, m := range out.Members {
		if !m.Opened() && !m.Inactive() && m.Roles.Participant() {
			out.NeverOpened = append(out.NeverOpened, m)
		}
	}
	return out, nil
}

// lastSync reads the roster_syncs row of a course (linkID "") or activity.
func (s *Service) lastSync(ctx context.Context, orgID, courseID, linkID string) (Sync, bool, error) {
	var out Sync
	var synced sql.NullTime
	err := s.db.WithContext(ctx).Raw(`SELECT attempted_at, synced_at, scoped, members, added, updated, deactivated, error
		FROM roster_syncs WHERE org_id = ? AND course_id = ? AND link_id = ?`, orgID, courseID, linkID).Row().
		Scan(&out.AttemptedAt, &synced, &out.Scoped, &out.Members, &out.Added, &out.Updated, &out.Deactivated, &out.Error)
	if errors.Is(err, sql.ErrNoRows) {
		return out, false, nil
	}
	if err != nil {
		return out, false, fmt.Errorf("roster: read last sync: %w", err)
	}
	out.SyncedAt = synced.Time
	return out, true, nil
}
