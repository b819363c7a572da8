// Package space holds the places where conversations live. A space has a
// kind (today an activity's cohort; later a community, an expert topic, a
// peer-review cohort), an owner in the course model where it has one, and
// rules for who may read, post and moderate in it: the roles a person holds
// in the course, and the roles held in the space itself.
package space

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/memo"
	"github.com/roundtable-lms/roundtable/internal/store"
)

// Kinds of space.
const (
	// ActivityCohort is the discussion of one cohort of one activity: its
	// owner is the course, the activity (resource link) and the cohort.
	ActivityCohort = "activity_cohort"
)

// Space is where threads live.
type Space struct {
	ID    string
	OrgID string
	Kind  string
	// The owner in the course model; '' where the kind has none.
	CourseID string
	LinkID   string
	CohortID string
}

// Role is a role held in a space, apart from those the course gives.
type Role string

// Roles held in a space.
const (
	Member    Role = "member"
	Moderator Role = "moderator"
	Expert    Role = "expert"
)

// Roles is the set of roles one person holds in one space.
type Roles []Role

// Has reports whether rs holds role.
func (rs Roles) Has(role Role) bool { return slices.Contains(rs, role) }

// Valid reports whether r is a role a space can hold.
func (r Role) Valid() bool { return r == Member || r == Moderator || r == Expert }

// Permissions is what a viewer may do in a space.
type Permissions struct {
	Read     bool
	Post     bool
	Moderate bool
}

// Rules answers what a person with the given course roles (none when the
// space has no course, or the person is not in it) and space roles may do
// in sp. In an activity's cohort, reaching the space at all means the
// course let the person see the cohort (see session.Access): every member
// of the course reads; everyone but observers posts; staff of the course
// and the space's moderators moderate.
func (sp Space) Rules(courseRoles course.Roles, held Roles) Permissions {
	moderate := courseRoles.IsStaff() || held.Has(Moderator)
	inCourse := sp.CourseID != "" && len(courseRoles) > 0
	read := moderate || inCourse || held.Has(Member) || held.Has(Expert)
	post := moderate || held.Has(Expert) || held.Has(Member) || (inCourse && !courseRoles.IsObserver())
	return Permissions{Read: read, Post: post, Moderate: moderate}
}

// Store finds, creates and keeps spaces and the roles held in them.
type Store struct {
	db  *store.DB
	Now func() time.Time
	// RolesFor is how long a person's roles in a space, once read, are
	// reused; a grant or revoke on this replica takes effect at once.
	RolesFor time.Duration

	// A space's id never changes once created, so spaces are kept for as
	// long as the map holds them.
	byCohort memo.Map[cohortKey, Space]
	roles    memo.Map[roleKey, Roles]
	// held keeps every grant of a space that has few (most have none),
	// so that one read answers for everyone in it; a space with more is
	// kept as nil, and read person by person.
	held memo.Map[string, map[string]Roles]
}

// maxHeldRead is how many grants a space may hold and still be read
// whole by RolesOf.
const maxHeldRead = 50

type cohortKey struct{ orgID, linkID, cohortID string }

type roleKey struct{ spaceID, userID string }

// DefaultRolesCache is how long RolesOf reuses what it read.
const DefaultRolesCache = 5 * time.Second

// NewStore returns the spaces on db.
func NewStore(db *store.DB) *Store {
	s := &Store{db: db, Now: time.Now, RolesFor: DefaultRolesCache}
	s.held.Size = 10000
	return s
}

var errNotFound = roundtable.Errorf(roundtable.ENOTFOUND, "That space does not exist.")

const columns = `id, org_id, kind, course_id, link_id, cohort_id`

func scan(row *sql.Row) (Space, error) {
	var sp Space
	err := row.Scan(&sp.ID, &sp.OrgID, &sp.Kind, &sp.CourseID, &sp.LinkID, &sp.CohortID)
	return sp, err
}

// ForCohort finds, or creates, the space of one cohort of one activity of
// a course. Once known it is answered from memory; otherwise it is one
// indexed read (and, the first time anyone reaches the space, one insert).
func (s *Store) ForCohort(ctx context.Context, orgID, courseID, linkID, cohortID string) (Space, error) {
	k := cohortKey{orgID, linkID, cohortID}
	if sp, ok := s.byCohort.Get(k, s.Now()); ok {
		return sp, nil
	}
	find := func(db *gorm.DB) (Space, error) {
		return scan(db.Raw(`SELECT `+columns+` FROM spaces WHERE org_id = ? AND kind = ? AND link_id = ? AND cohort_id = ?`,
			orgID, ActivityCohort, linkID, cohortID).Row())
	}
	db := s.db.WithContext(ctx)
	sp, err := find(db)
	if errors.Is(err, sql.ErrNoRows) {
		// Two requests may create it at once: the unique key keeps one.
		err = db.Exec(`INSERT INTO spaces (id, org_id, kind, course_id, link_id, cohort_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (org_id, kind, link_id, cohort_id) DO NOTHING`,
			store.NewID(), orgID, ActivityCohort, courseID, linkID, cohortID, s.Now().UTC()).Error
		if err == nil {
			sp, err = find(db)
		}
	}
	if err != nil {
		return Space{}, fmt.Errorf("find the space of cohort %s of activity %s: %w", cohortID, linkID, err)
	}
	s.byCohort.Put(k, sp, time.Time{})
	return sp, nil
}

// Get reads a space by its id.
func (s *Store) Get(ctx context.Context, id string) (Space, error) {
	sp, err := scan(s.db.WithContext(ctx).Raw(`SELECT `+columns+` FROM spaces WHERE id = ?`, id).Row())
	if errors.Is(err, sql.ErrNoRows) {
		return Space{}, errNotFound
	}
	return sp, err
}

// RolesOf returns the roles userID holds in the space, reused for RolesFor.
// A space with few grants (most hold none) is read whole, once for
// everyone in it; a space with many, person by person.
func (s *Store) RolesOf(ctx context.Context, spaceID, userID string) (Roles, error) {
	k := roleKey{spaceID, userID}
	now := s.Now()
	if rs, ok := s.roles.Get(k, now); ok {
		return rs, nil
	}
	held, known := s.held.Get(spaceID, now)
	if !known {
		// Read on every page of a launch: straight through database/sql.
		var n int
		var err error
		held, n, err = s.readRoles(ctx, `SELECT user_id, role FROM space_roles WHERE space_id = ? ORDER BY user_id, role LIMIT ?`,
			spaceID, maxHeldRead+1)
		if err != nil {
			return nil, fmt.Errorf("read roles in space %s: %w", spaceID, err)
		}
		if n > maxHeldRead {
			held = nil // kept as such: the space's next people are read alone
		}
		s.held.Put(spaceID, held, now.Add(s.RolesFor))
	}
	if held != nil {
		return held[userID], nil
	}
	held, _, err := s.readRoles(ctx, `SELECT user_id, role FROM space_roles WHERE space_id = ? AND user_id = ? ORDER BY role`, spaceID, userID)
	if err != nil {
		return nil, fmt.Errorf("read roles in space %s: %w", spaceID, err)
	}
	s.roles.Put(k, held[userID], now.Add(s.RolesFor))
	return held[userID], nil
}

// readRoles runs q, which selects user_id and role, and groups the roles
// by person. n counts the grants read.
func (s *Store) readRoles(ctx context.Context, q string, args ...any) (byUser map[string]Roles, n int, err error) {
	rows, err := s.db.SQL.QueryContext(ctx, s.db.Rebind(q), args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	byUser = map[string]Roles{}
	for rows.Next() {
		var u, r string
		if err := rows.Scan(&u, &r); err != nil {
			return nil, 0, err
		}
		byUser[u] = append(byUser[u], Role(r))
		n++
	}
	return byUser, n, rows.Err()
}

// NewPerson records that userID, a person the launch this process just
// recorded created, holds no role in the space (nobody could grant one to
// an id that did not exist), so that their first pages need not ask. A
// grant since is seen as any grant is.
func (s *Store) NewPerson(spaceID, userID string) {
	s.roles.Put(roleKey{spaceID, userID}, nil, s.Now().Add(s.RolesFor))
}

// Grant gives userID a role in the space; granting it again changes nothing.
func (s *Store) Grant(ctx context.Context, spaceID, userID string, role Role, grantedBy string) error {
	if !role.Valid() {
		return roundtable.Errorf(roundtable.EINVALID, "%q is not a role in a space.", role)
	}
	err := s.db.WithContext(ctx).Exec(`INSERT INTO space_roles (space_id, user_id, role, granted_by, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (space_id, user_id, role) DO NOTHING`, spaceID, userID, string(role), grantedBy, s.Now().UTC()).Error
	if err != nil {
		return fmt.Errorf("grant %s in space %s: %w", role, spaceID, err)
	}
	s.forget(spaceID, userID)
	return nil
}

// Revoke takes a role in the space from userID.
func (s *Store) Revoke(ctx context.Context, spaceID, userID string, role Role) error {
	if err := s.db.WithContext(ctx).Exec(`DELETE FROM space_roles WHERE space_id = ? AND user_id = ? AND role = ?`,
		spaceID, userID, string(role)).Error; err != nil {
		return fmt.Errorf("revoke %s in space %s: %w", role, spaceID, err)
	}
	s.forget(spaceID, userID)
	return nil
}

func (s *Store) forget(spaceID, userID string) {
	s.roles.Delete(roleKey{spaceID, userID})
	s.held.Delete(spaceID)
}
