package course

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/roundtable-lms/roundtable/internal/store"
)

// Member is a person in a course with their roles there.
type Member struct {
	User  User
	Roles Roles
}

// Activity is what the activity page needs: the link, its course, the
// person and their cohort.
type Activity struct {
	Link       Link
	Course     Course
	Member     Member
	Cohort     Cohort
	CohortSize int
	// Settings are the activity's, or the defaults when nobody set them.
	Settings Settings
}

// Title is the activity's heading: the link's title, else the course's.
func (a Activity) Title() string {
	if a.Link.Title != "" {
		return a.Link.Title
	}
	if a.Course.Title != "" {
		return a.Course.Title
	}
	return "Roundtable"
}

type activityRow struct {
	LinkID, ResourceLinkID, LinkTitle, LinkDescription, Custom   string
	AgsLineitems, AgsLineitem, AgsScopes, NrpsURL                string
	CourseID, DeploymentID, ContextKey, CourseLabel, CourseTitle string
	UserID, Subject, Name, GivenName, FamilyName, Email          string
	Picture, Locale, Pseudonym, Roles                            string
	CohortID, CohortKey, CohortName                              string
	CohortSize                                                   int
}

// Activity loads the activity page's data in one query, scoped to the
// platform, and only for a member of the course.
func (s *Store) Activity(ctx context.Context, orgID, linkID, userID, cohortID string) (Activity, error) {
	var r activityRow
	st := DefaultSettings(orgID, linkID)
	var hasSettings bool
	err := s.db.QueryRow(ctx, `
		SELECT l.id AS link_id, l.resource_link_id, l.title AS link_title, l.description AS link_description, l.custom,
			l.ags_lineitems, l.ags_lineitem, l.ags_scopes, l.nrps_url,
			c.id AS course_id, c.deployment_id, c.context_key, c.label AS course_label, c.title AS course_title,
			u.id AS user_id, u.subject, u.name, u.given_name, u.family_name, u.email, u.picture, u.locale, u.pseudonym,
			m.roles,
			co.id AS cohort_id, co.cohort_key, co.name AS cohort_name,
			co.member_count AS cohort_size, `+SettingsJoinColumns+`
		FROM resource_links l
		JOIN courses c ON c.org_id = l.org_id AND c.id = l.course_id
		JOIN memberships m ON m.org_id = l.org_id AND m.course_id = l.course_id AND m.user_id = ?
		JOIN users u ON u.org_id = m.org_id AND u.id = m.user_id
		JOIN cohorts co ON co.org_id = l.org_id AND co.course_id = l.course_id AND co.id = ?
		LEFT JOIN activity_settings st ON st.org_id = l.org_id AND st.link_id = l.id
		WHERE l.org_id = ? AND l.id = ?`, userID, cohortID, orgID, linkID).
		Scan(append([]any{&r.LinkID, &r.ResourceLinkID, &r.LinkTitle, &r.LinkDescription, &r.Custom,
			&r.AgsLineitems, &r.AgsLineitem, &r.AgsScopes, &r.NrpsURL,
			&r.CourseID, &r.DeploymentID, &r.ContextKey, &r.CourseLabel, &r.CourseTitle,
			&r.UserID, &r.Subject, &r.Name, &r.GivenName, &r.FamilyName, &r.Email, &r.Picture, &r.Locale, &r.Pseudonym,
			&r.Roles, &r.CohortID, &r.CohortKey, &r.CohortName, &r.CohortSize}, SettingsDest(&st, &hasSettings)...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return Activity{}, fmt.Errorf("activity %s: %w", linkID, store.ErrNotFound)
	}
	if err != nil {
		return Activity{}, err
	}
	a := Activity{
		Link: Link{OrgID: orgID, ID: r.LinkID, CourseID: r.CourseID, DeploymentID: r.DeploymentID,
			ResourceLinkID: r.ResourceLinkID, Title: r.LinkTitle, Description: r.LinkDescription,
			AGSLineItems: r.AgsLineitems, AGSLineItem: r.AgsLineitem, AGSScopes: strings.Fields(r.AgsScopes), NRPSURL: r.NrpsURL},
		Course: Course{OrgID: orgID, ID: r.CourseID, DeploymentID: r.DeploymentID, ContextKey: r.ContextKey,
			Label: r.CourseLabel, Title: r.CourseTitle},
		Member: Member{User: User{OrgID: orgID, ID: r.UserID, Subject: r.Subject, Name: r.Name,
			GivenName: r.GivenName, FamilyName: r.FamilyName, Email: r.Email, Picture: r.Picture,
			Locale: r.Locale, Pseudonym: r.Pseudonym}, Roles: ParseRoles(r.Roles)},
		Cohort:     Cohort{OrgID: orgID, ID: r.CohortID, CourseID: r.CourseID, Key: r.CohortKey, Name: r.CohortName},
		CohortSize: r.CohortSize,
		Settings:   st,
	}
	if r.Custom != "" && r.Custom != "{}" {
		json.Unmarshal([]byte(r.Custom), &a.Link.Custom)
	}
	return a, nil
}

// Place is what a link into an activity tells someone who may not open it:
// the activity's title and its course's, nothing of what is inside.
type Place struct {
	Activity, Course string
	// PlatformID is the LMS that placed the activity, whose pages may
	// show the page in their frame.
	PlatformID string
}

// PlaceOf names the activity linkID (Roundtable's id of a resource link)
// and its course, for a page opened without a session; ok is false when
// there is no such activity.
func (s *Store) PlaceOf(ctx context.Context, linkID string) (p Place, ok bool, err error) {
	err = s.db.QueryRow(ctx, `SELECT l.title, COALESCE(c.title, ''), COALESCE(l.platform_id, '') FROM resource_links l
		LEFT JOIN courses c ON c.org_id = l.org_id AND c.id = l.course_id WHERE l.id = ?`, linkID).Scan(&p.Activity, &p.Course, &p.PlatformID)
	if errors.Is(err, sql.ErrNoRows) {
		return Place{}, false, nil
	}
	if err != nil {
		return Place{}, false, fmt.Errorf("name activity %s: %w", linkID, err)
	}
	return p, true, nil
}

// MemberBySubject finds the person whom issuer's LMS knows as subject (its
// sub) among the members of courseID, as launches and roster syncs record
// them. A person who is no member of the course, or whom only another LMS
// or organisation knows, is not found. subject is read as a launch
// stores it (see PlanLaunch).
func (s *Store) MemberBySubject(ctx context.Context, orgID, courseID, issuer, subject string) (User, error) {
	subject = Clip(subject, 255)
	u := User{OrgID: orgID, Issuer: issuer}
	err := s.db.QueryRow(ctx, `
		SELECT u.id, u.subject, u.name, u.given_name, u.family_name, u.email, u.picture, u.locale, u.pseudonym
		FROM users u
		JOIN memberships m ON m.org_id = u.org_id AND m.user_id = u.id AND m.course_id = ?
		WHERE u.org_id = ? AND u.issuer = ? AND u.subject = ?`, courseID, orgID, issuer, subject).
		Scan(&u.ID, &u.Subject, &u.Name, &u.GivenName, &u.FamilyName, &u.Email, &u.Picture, &u.Locale, &u.Pseudonym)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("member of course %s: %w", courseID, store.ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("member of course %s: %w", courseID, err)
	}
	return u, nil
}
