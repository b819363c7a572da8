package roster

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/lti/advantage"
)

// linkRef is the activity a sync is for.
type linkRef struct {
	id             string
	courseID       string
	resourceLinkID string
	nrpsURL        string
	// platformID is the registration that launched the link last.
	platformID string
}

func (s *Service) link(ctx context.Context, orgID, linkID string) (linkRef, error) {
	l := linkRef{id: linkID}
	err := s.db.WithContext(ctx).Raw(`SELECT course_id, resource_link_id, nrps_url, platform_id FROM resource_links WHERE org_id = ? AND id = ?`,
		orgID, linkID).Row().Scan(&l.courseID, &l.resourceLinkID, &l.nrpsURL, &l.platformID)
	if errors.Is(err, sql.ErrNoRows) {
		return l, notFound("activity")
	}
	if err != nil {
		return l, fmt.Errorf("roster: read link: %w", err)
	}
	return l, nil
}

// courseService is what serves a course's roster: its NRPS URL (the
// latest any of its activities was launched with), the registration that
// launched it last (whose token reads the roster), the issuer its people
// are known by, and whether the LMS refused rlid for it before.
type courseService struct {
	nrpsURL, platformID, issuer string
	rlidRefused                 bool
}

func (s *Service) courseService(ctx context.Context, orgID, courseID string) (courseService, error) {
	var cs courseService
	var found int
	err := s.db.WithContext(ctx).Raw(`SELECT
			(SELECT COUNT(*) FROM courses WHERE org_id = ? AND id = ?),
			COALESCE((SELECT platform_id FROM courses WHERE org_id = ? AND id = ?), ''),
			COALESCE((SELECT issuer FROM courses WHERE org_id = ? AND id = ?), ''),
			COALESCE((SELECT nrps_url FROM resource_links WHERE org_id = ? AND course_id = ? AND nrps_url <> ''
				ORDER BY updated_at DESC LIMIT 1), ''),
			COALESCE((SELECT rlid_refused FROM roster_syncs WHERE org_id = ? AND course_id = ? AND link_id = ''), FALSE)`,
		orgID, courseID, orgID, courseID, orgID, courseID, orgID, courseID, orgID, courseID).Row().Scan(&found, &cs.platformID, &cs.issuer, &cs.nrpsURL, &cs.rlidRefused)
	if err != nil {
		return cs, fmt.Errorf("roster: read course service: %w", err)
	}
	if found == 0 {
		return cs, notFound("course")
	}
	return cs, nil
}

// rememberRlidRefused notes on the course's row that its LMS refuses rlid.
func (s *Service) rememberRlidRefused(ctx context.Context, orgID, courseID string, at time.Time) error {
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO roster_syncs (org_id, course_id, link_id, attempted_at, rlid_refused) VALUES (?, ?, '', ?, TRUE)
			ON CONFLICT (org_id, course_id, link_id) DO UPDATE SET rlid_refused = TRUE`, orgID, courseID, at).Error
	})
}

// recordFailure keeps a failed attempt's reason on the rows it was for:
// the activity's, and the course's for a whole-course sync (an activity's
// sync may have been one). Counts of the last success stay.
func (s *Service) recordFailure(ctx context.Context, orgID, courseID string, l *linkRef, at time.Time, se *SyncError) error {
	msg := se.Message
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		for _, linkID := range rowsFor(l) {
			err := tx.Exec(`INSERT INTO roster_syncs (org_id, course_id, link_id, attempted_at, error) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (org_id, course_id, link_id) DO UPDATE SET attempted_at = excluded.attempted_at, error = excluded.error`,
				orgID, courseID, linkID, at, msg).Error
			if err != nil {
				return fmt.Errorf("roster: record failure: %w", err)
			}
		}
		return nil
	})
}

// rowsFor lists the roster_syncs rows an attempt updates: the course's
// (the empty link_id) and, for an activity's sync, the activity's.
func rowsFor(l *linkRef) []string {
	if l == nil {
		return []string{""}
	}
	return []string{"", l.id}
}

// existing is a person already known on the platform.
type existing struct {
	userID, name, givenName, familyName, email, picture string
	member                                              bool
	roles, ltiRoles, status                             string
}

// apply writes a roster read from the LMS in one transaction.
func (s *Service) apply(ctx context.Context, orgID, issuer, courseID string, l *linkRef, scoped bool, list []advantage.Member, started time.Time) (Result, error) {
	res := Result{Scoped: scoped, Members: len(list)}
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		now := s.Now().UTC()
		res.At = now
		known, err := courseMembers(tx, orgID, issuer, courseID)
		if err != nil {
			return err
		}
		var others []string
		for _, m := range list {
			if _, ok := known[m.UserID]; !ok {
				others = append(others, m.UserID)
			}
		}
		if err := orgUsers(tx, orgID, issuer, others, known); err != nil {
			return err
		}
		listed := make(map[string]bool, len(list))
		var audience []string
		for _, m := range list {
			listed[m.UserID] = true
			ex := known[m.UserID]
			added, changed, deactivated, userID, err := applyMember(tx, orgID, issuer, courseID, m, ex, now)
			if err != nil {
				return err
			}
			audience = append(audience, userID)
			switch {
			case added:
				res.Added++
			case deactivated:
				res.Deactivated++
			case changed:
				res.Updated++
			}
		}
		if !scoped {
			// The whole roster: whoever it leaves out has left the course.
			for subject, ex := range known {
				if !ex.member || listed[subject] || ex.status == StatusInactive {
					continue
				}
				if err := tx.Exec(`UPDATE memberships SET status = ?, updated_at = ? WHERE org_id = ? AND course_id = ? AND user_id = ?`,
					StatusInactive, now, orgID, courseID, ex.userID).Error; err != nil {
					return fmt.Errorf("roster: deactivate member: %w", err)
				}
				res.Deactivated++
			}
		}
		if l != nil && scoped {
			if err := replaceAudience(tx, orgID, l.id, audience); err != nil {
				return err
			}
		}
		for _, linkID := range rowsFor(l) {
			if linkID == "" && scoped {
				// An activity's audience says nothing of the whole course.
				continue
			}
			err := tx.Exec(`INSERT INTO roster_syncs (org_id, course_id, link_id, attempted_at, synced_at, scoped, members, added, updated, deactivated, error)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '')
				ON CONFLICT (org_id, course_id, link_id) DO UPDATE SET attempted_at = excluded.attempted_at, synced_at = excluded.synced_at,
					scoped = excluded.scoped, members = excluded.members, added = excluded.added, updated = excluded.updated,
					deactivated = excluded.deactivated, error = ''`,
				orgID, courseID, linkID, started, now, scoped, res.Members, res.Added, res.Updated, res.Deactivated).Error
			if err != nil {
				return fmt.Errorf("roster: record sync: %w", err)
			}
		}
		return nil
	})
	return res, err
}

// courseMembers reads the course's members known by issuer, by subject.
func courseMembers(tx *gorm.DB, orgID, issuer, courseID string) (map[string]*existing, error) {
	rows, err := tx.Raw(`SELECT u.subject, u.id, u.name, u.given_name, u.family_name, u.email, u.picture, m.roles, m.lti_roles, m.status
		FROM memberships m JOIN users u ON u.org_id = m.org_id AND u.id = m.user_id
		WHERE m.org_id = ? AND m.course_id = ? AND u.issuer = ?`, orgID, courseID, issuer).Rows()
	if err != nil {
		return nil, fmt.Errorf("roster: read members: %w", err)
	}
	defer rows.Close()
	out := map[string]*existing{}
	for rows.Next() {
		var subject string
		e := &existing{member: true}
		if err := rows.Scan(&subject, &e.userID, &e.name, &e.givenName, &e.familyName, &e.email, &e.picture, &e.roles, &e.ltiRoles, &e.status); err != nil {
			return nil, fmt.Errorf("roster: read members: %w", err)
		}
		out[subject] = e
	}
	return out, rows.Err()
}

// orgUsers adds to known the organisation's people of issuer among
// subjects who are not members of the course yet.
func orgUsers(tx *gorm.DB, orgID, issuer string, subjects []string, known map[string]*existing) error {
	// Under both databases' bound-parameter limits.
	const chunk = 500
	for len(subjects) > 0 {
		n := min(chunk, len(subjects))
		part := subjects[:n]
		subjects = subjects[n:]
		rows, err := tx.Raw(`SELECT subject, id, name, given_name, family_name, email, picture FROM users WHERE org_id = ? AND issuer = ? AND subject IN ?`,
			orgID, issuer, part).Rows()
		if err != nil {
			return fmt.Errorf("roster: read users: %w", err)
		}
		for rows.Next() {
			var subject string
			e := &existing{}
			if err := rows.Scan(&subject, &e.userID, &e.name, &e.givenName, &e.familyName, &e.email, &e.picture); err != nil {
				rows.Close()
				return fmt.Errorf("roster: read users: %w", err)
			}
			known[subject] = e
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("roster: read users: %w", err)
		}
	}
	return nil
}

// Field bounds, as a launch clips them.
const (
	maxName = 200
	maxURL  = 2000
	maxText = 4000
)

// applyMember writes one listed member: the person (created when new,
// names and email refreshed when the LMS sends them) and their membership.
// The membership's status follows from the LMS's status and from whether
// the person ever launched, decided in the statement itself so a launch at
// the same moment is never undone.
func applyMember(tx *gorm.DB, orgID, issuer, courseID string, m advantage.Member, ex *existing, now time.Time) (added, changed, deactivated bool, userID string, err error) {
	name := course.Clip(m.Name, maxName)
	if name == "" {
		name = course.Clip(strings.TrimSpace(m.GivenName+" "+m.FamilyName), maxName)
	}
	given, family, email, picture := course.Clip(m.GivenName, maxName), course.Clip(m.FamilyName, maxName), course.Clip(m.Email, 320), course.Clip(m.Picture, maxURL)
	subject := course.Clip(m.UserID, 255)
	if ex == nil {
		var ids []string
		err = tx.Raw(`INSERT INTO users (org_id, id, issuer, subject, name, given_name, family_name, email, picture, locale, pseudonym, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?) ON CONFLICT (org_id, issuer, subject) DO NOTHING RETURNING id`,
			orgID, newID(), issuer, subject, name, given, family, email, picture, course.Pseudonym(orgID, issuer, subject), now, now).Scan(&ids).Error
		if err == nil && len(ids) == 0 {
			// A launch created the person meanwhile.
			err = tx.Raw(`SELECT id FROM users WHERE org_id = ? AND issuer = ? AND subject = ?`, orgID, issuer, subject).Scan(&ids).Error
		}
		if err == nil && len(ids) != 1 {
			err = errors.New("user neither inserted nor found")
		}
		if err != nil {
			return false, false, false, "", fmt.Errorf("roster: record user: %w", err)
		}
		ex = &existing{userID: ids[0], name: name, givenName: given, familyName: family, email: email, picture: picture}
	} else {
		// What the LMS withholds from the roster (it may send it in
		// launches) is kept.
		keep := func(sent *string, old string) {
			if *sent == "" {
				*sent = old
			}
		}
		keep(&name, ex.name)
		keep(&given, ex.givenName)
		keep(&family, ex.familyName)
		keep(&email, ex.email)
		keep(&picture, ex.picture)
		if name != ex.name || given != ex.givenName || family != ex.familyName || email != ex.email || picture != ex.picture {
			err = tx.Exec(`UPDATE users SET name = ?, given_name = ?, family_name = ?, email = ?, picture = ?, updated_at = ? WHERE org_id = ? AND id = ?`,
				name, given, family, email, picture, now, orgID, ex.userID).Error
			if err != nil {
				return false, false, false, "", fmt.Errorf("roster: update user: %w", err)
			}
		}
	}
	userID = ex.userID
	roles := rolesOf(m.Roles).String()
	ltiRoles := course.Clip(strings.Join(m.Roles, " "), maxText)
	lmsInactive := !m.IsActive()
	if !ex.member {
		status := StatusNotYetActive
		if lmsInactive {
			status = StatusInactive
		}
		var ids []string
		err = tx.Raw(`INSERT INTO memberships (org_id, course_id, user_id, roles, lti_roles, status, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (org_id, course_id, user_id) DO NOTHING RETURNING user_id`,
			orgID, courseID, userID, roles, ltiRoles, status, now, now).Scan(&ids).Error
		if err != nil {
			return false, false, false, "", fmt.Errorf("roster: add member: %w", err)
		}
		if len(ids) == 1 {
			return true, false, false, userID, nil
		}
		// A launch made the membership meanwhile: refresh it as below.
		ex.member, ex.status = true, StatusActive
	}
	want := StatusActive
	if lmsInactive {
		want = StatusInactive
	}
	if ex.roles == roles && ex.ltiRoles == ltiRoles && (ex.status == want || (want == StatusActive && ex.status == StatusNotYetActive)) {
		return false, false, false, userID, nil
	}
	err = tx.Exec(`UPDATE memberships SET roles = ?, lti_roles = ?, updated_at = ?,
			status = CASE WHEN ? THEN 'inactive' WHEN last_launch_at IS NULL THEN 'not_yet_active' ELSE 'active' END
		WHERE org_id = ? AND course_id = ? AND user_id = ?`,
		roles, ltiRoles, now, lmsInactive, orgID, courseID, userID).Error
	if err != nil {
		return false, false, false, "", fmt.Errorf("roster: update member: %w", err)
	}
	return false, true, lmsInactive && ex.status != StatusInactive, userID, nil
}

// replaceAudience sets who can see an activity to userIDs.
func replaceAudience(tx *gorm.DB, orgID, linkID string, userIDs []string) error {
	if err := tx.Exec(`DELETE FROM roster_link_members WHERE org_id = ? AND link_id = ?`, orgID, linkID).Error; err != nil {
		return fmt.Errorf("roster: clear audience: %w", err)
	}
	const chunk = 300
	for len(userIDs) > 0 {
		n := min(chunk, len(userIDs))
		var b strings.Builder
		args := make([]any, 0, 3*n)
		for i, id := range userIDs[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?)")
			args = append(args, orgID, linkID, id)
		}
		userIDs = userIDs[n:]
		if err := tx.Exec(`INSERT INTO roster_link_members (org_id, link_id, user_id) VALUES `+b.String()+` ON CONFLICT DO NOTHING`, args...).Error; err != nil {
			return fmt.Errorf("roster: record audience: %w", err)
		}
	}
	return nil
}

func newID() string { return store.NewID() }
