package course

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/store"
)

// LaunchInput is what a verified launch tells about a person, a course and
// an activity. The web layer converts the protocol's launch into it.
type LaunchInput struct {
	// OrgID is the organisation of PlatformID, the registration the launch
	// came through; Issuer is the registration's issuer.
	OrgID        string
	PlatformID   string
	Issuer       string
	DeploymentID string

	Subject    string
	Name       string
	GivenName  string
	FamilyName string
	Email      string
	Picture    string
	Locale     string

	Roles    Roles
	LTIRoles []string

	// ContextID is empty for a launch without a course context.
	ContextID    string
	ContextLabel string
	ContextTitle string

	ResourceLinkID  string
	LinkTitle       string
	LinkDescription string
	Custom          map[string]string
	AGSLineItems    string
	AGSLineItem     string
	AGSScopes       []string
	NRPSURL         string

	// CourseSection is the lis claim's course_section_sourcedid, when the
	// platform sends one; a section cohort policy may use it.
	CourseSection string
}

// Recorded is what a launch wrote.
type Recorded struct {
	User   User
	Course Course
	Link   Link
	Cohort Cohort
	Roles  Roles
	// Sections are the cohort keys of the sections the launch named.
	Sections []string
	// CohortSize is the cohort's member count, this person included.
	CohortSize int
	// Settings are the activity's, or the defaults when nobody set them.
	Settings Settings
}

// Activity is the activity page's data for what a launch recorded, as the
// Activity query would read it right after: the page that follows a launch
// needs no query of its own.
func (r Recorded) Activity() Activity {
	return Activity{Link: r.Link, Course: r.Course, Member: Member{User: r.User, Roles: r.Roles}, Cohort: r.Cohort,
		CohortSize: r.CohortSize, Settings: r.Settings}
}

// Store reads and writes the course model.
type Store struct {
	db  *store.DB
	Now func() time.Time
}

// NewStore returns a course store on db.
func NewStore(db *store.DB) *Store { return &Store{db: db, Now: time.Now} }

// Field bounds: LMSs send short values; anything longer is cut, never refused.
const (
	maxName  = 200
	maxTitle = 500
	maxText  = 4000
	maxURL   = 2000
)

// Clip trims s and cuts it to at most n bytes on a rune boundary: values
// from an LMS are bounded, never refused.
func Clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n]
}

// RecordLaunch writes the user, course, membership, activity and cohort
// membership of a launch inside tx, the caller's transaction.
//
// It reads what exists first and writes only what is missing or changed:
// a whole class launching at once would otherwise queue on the row locks of
// the one course, activity and cohort they share.
func (s *Store) RecordLaunch(ctx context.Context, tx *gorm.DB, in LaunchInput) (Recorded, error) {
	p, err := s.PlanLaunch(ctx, tx.Statement.ConnPool, in)
	if err != nil {
		return Recorded{}, err
	}
	return s.ApplyLaunch(ctx, tx, p)
}

// The ids a launch's records have, when they exist, read by their unique
// keys: organisation, issuer and subject; organisation, issuer, deployment
// and context; organisation, issuer, deployment and resource link.
const (
	launchUserID   = `(SELECT iu.id FROM users iu WHERE iu.org_id = ? AND iu.issuer = ? AND iu.subject = ?)`
	launchCourseID = `(SELECT ic.id FROM courses ic WHERE ic.org_id = ? AND ic.issuer = ? AND ic.deployment_id = ? AND ic.context_key = ?)`
	launchLinkID   = `(SELECT il.id FROM resource_links il WHERE il.org_id = ? AND il.issuer = ? AND il.deployment_id = ? AND il.resource_link_id = ?)`
)

// LaunchPlan is a launch compared with what is already recorded.
type LaunchPlan struct {
	u         User
	c         Course
	l         Link
	custom    string
	agsScopes string
	roles     Roles
	ltiRoles  string
	// sections are the cohort keys of the sections the launch names, in
	// their stored form (FormatSections).
	sections    string
	sectionKeys []string
	now         time.Time
	ex          existingRows
	// section is the cohort the launch names (see sectionOf), for a
	// section cohort policy; empty when it names none.
	section sectionRef
	// adopted are settings a placement chose for a link that has none yet.
	adopted *Settings
}

// HasSettings reports whether the launch's activity already has settings
// of its own (an activity_settings row).
func (p *LaunchPlan) HasSettings() bool { return p.ex.HasSettings }

// AdoptSettings gives a link without settings st as its settings: ApplyLaunch
// stores them, configured, in the launch's transaction and assigns this
// launch's cohort by them. It does nothing when the link has settings. A
// plan with adopted settings is never Settled.
func (p *LaunchPlan) AdoptSettings(st Settings) {
	if p.ex.HasSettings {
		return
	}
	p.adopted = &st
}

// PlanLaunch normalises a launch and reads, in one query on db (the
// database, or a transaction), what is already recorded about it.
func (s *Store) PlanLaunch(ctx context.Context, db gorm.ConnPool, in LaunchInput) (*LaunchPlan, error) {
	if in.OrgID == "" || in.PlatformID == "" || in.Issuer == "" || in.Subject == "" || in.ResourceLinkID == "" {
		return nil, roundtable.Errorf(roundtable.EINVALID, "a launch needs an organisation, a registration, an issuer, a subject and a resource link")
	}
	p := &LaunchPlan{now: s.Now().UTC()}
	name := Clip(in.Name, maxName)
	if name == "" {
		name = Clip(strings.TrimSpace(in.GivenName+" "+in.FamilyName), maxName)
	}
	p.u = User{
		OrgID: in.OrgID, Issuer: in.Issuer, Subject: Clip(in.Subject, 255), Name: name,
		GivenName: Clip(in.GivenName, maxName), FamilyName: Clip(in.FamilyName, maxName),
		Email: Clip(in.Email, 320), Picture: Clip(in.Picture, maxURL), Locale: Clip(in.Locale, 35),
		Pseudonym: Pseudonym(in.OrgID, in.Issuer, in.Subject),
	}
	p.c = Course{OrgID: in.OrgID, Issuer: in.Issuer, DeploymentID: Clip(in.DeploymentID, 255),
		ContextKey: Clip(in.ContextID, 255), Label: Clip(in.ContextLabel, maxName), Title: Clip(in.ContextTitle, maxTitle)}
	if p.c.ContextKey == "" {
		// A launch without a context still needs a course: the activity is one.
		p.c.ContextKey = "link:" + Clip(in.ResourceLinkID, 255)
		if p.c.Title == "" {
			p.c.Title = Clip(in.LinkTitle, maxTitle)
		}
	}
	p.l = Link{OrgID: in.OrgID, Issuer: in.Issuer, PlatformID: in.PlatformID, DeploymentID: p.c.DeploymentID,
		ResourceLinkID: Clip(in.ResourceLinkID, 255), Title: Clip(in.LinkTitle, maxTitle),
		Description: Clip(in.LinkDescription, maxText), Custom: in.Custom,
		AGSLineItems: Clip(in.AGSLineItems, maxURL), AGSLineItem: Clip(in.AGSLineItem, maxURL),
		NRPSURL: Clip(in.NRPSURL, maxURL)}
	p.custom = "{}"
	if len(in.Custom) > 0 {
		if b, err := json.Marshal(in.Custom); err == nil && len(b) <= maxText*4 {
			p.custom = string(b)
		}
	}
	p.agsScopes = strings.Join(in.AGSScopes, " ")
	p.roles = in.Roles
	if len(p.roles) == 0 {
		// No known role: the least privilege.
		p.roles = Roles{Learner}
	}
	p.ltiRoles = Clip(strings.Join(in.LTIRoles, " "), maxText)
	p.section = sectionOf(in)
	p.sectionKeys = sectionsOf(in)
	p.sections = FormatSections(p.sectionKeys)
	// The cohort the link's policy picks, when the person is already in it:
	// the launch's section (or the course-wide cohort without one), or the
	// learner's group among the groups of the link's size (staff and
	// observers are in no group: they take the course-wide cohort).
	sectionKey := p.section.key
	if sectionKey == "" {
		sectionKey = courseCohortKey
	}
	learner := 1
	if !p.roles.Participant() {
		learner = 0
	}

	// Every table is looked up by its whole key, as constants or as
	// subqueries that read one row by a unique key: the plan is the same
	// whatever statistics the database has, and the membership and cohort
	// membership are read by the person, never by scanning the course.
	pid, iss := p.u.OrgID, p.u.Issuer
	userKey := []any{pid, iss, p.u.Subject}
	courseKey := []any{pid, iss, p.c.DeploymentID, p.c.ContextKey}
	linkKey := []any{pid, iss, p.l.DeploymentID, p.l.ResourceLinkID}
	ex := &p.ex
	var lastLaunch sql.NullTime
	err := db.QueryRowContext(ctx, s.db.Rebind(`SELECT COALESCE(u.id, '') AS user_id, COALESCE(u.name, '') AS user_name, COALESCE(u.given_name, '') AS given_name,
			COALESCE(u.family_name, '') AS family_name, COALESCE(u.email, '') AS email, COALESCE(u.picture, '') AS picture,
			COALESCE(u.locale, '') AS locale,
			COALESCE(c.id, '') AS course_id, COALESCE(c.label, '') AS course_label, COALESCE(c.title, '') AS course_title,
			COALESCE(l.id, '') AS link_id, COALESCE(l.course_id, '') AS link_course_id, COALESCE(l.title, '') AS link_title,
			COALESCE(l.description, '') AS link_description, COALESCE(l.custom, '') AS link_custom,
			COALESCE(l.ags_lineitems, '') AS ags_lineitems, COALESCE(l.ags_lineitem, '') AS ags_lineitem,
			COALESCE(l.ags_scopes, '') AS ags_scopes, COALESCE(l.nrps_url, '') AS nrps_url, COALESCE(l.platform_id, '') AS link_platform_id,
			COALESCE(c.platform_id, '') AS course_platform_id,
			COALESCE(co.id, '') AS cohort_id, COALESCE(m.roles, '') AS member_roles, COALESCE(m.user_id, '') AS member_user_id,
			COALESCE(m.lti_roles, '') AS member_lti_roles, m.last_launch_at AS member_last_launch, COALESCE(m.status, '') AS member_status,
			COALESCE(m.sections, '') AS member_sections,
			COALESCE(cm.user_id, '') AS cohort_member_id, COALESCE(co.name, '') AS cohort_name, COALESCE(co.member_count, 0) AS cohort_size,
			COALESCE(co.cohort_key, '') AS cohort_key, `+SettingsJoinColumns+`
		FROM (SELECT 1 AS one) x
		LEFT JOIN users u ON u.org_id = ? AND u.issuer = ? AND u.subject = ?
		LEFT JOIN courses c ON c.org_id = ? AND c.issuer = ? AND c.deployment_id = ? AND c.context_key = ?
		LEFT JOIN resource_links l ON l.org_id = ? AND l.issuer = ? AND l.deployment_id = ? AND l.resource_link_id = ?
		LEFT JOIN activity_settings st ON st.org_id = ? AND st.link_id = `+launchLinkID+`
		LEFT JOIN memberships m ON m.org_id = ? AND m.course_id = `+launchCourseID+` AND m.user_id = `+launchUserID+`
		LEFT JOIN cohorts co ON co.org_id = ? AND co.course_id = `+launchCourseID+` AND co.cohort_key = (
			SELECT CASE
				WHEN ps.cohort_policy = 'section' THEN ?
				WHEN ps.cohort_policy = 'groups' AND ? = 1 THEN (SELECT g.cohort_key FROM cohort_members gm
					JOIN cohorts g ON g.org_id = gm.org_id AND g.id = gm.cohort_id
					WHERE gm.org_id = ? AND gm.user_id = `+launchUserID+` AND g.course_id = `+launchCourseID+`
						AND g.cohort_key LIKE 'groups:' || CAST(ps.group_size AS TEXT) || ':%'
					ORDER BY g.cohort_key LIMIT 1)
				ELSE 'course' END
			FROM (SELECT 1 AS one) y LEFT JOIN activity_settings ps ON ps.org_id = ? AND ps.link_id = `+launchLinkID+`)
		LEFT JOIN cohort_members cm ON cm.org_id = ? AND cm.cohort_id = co.id AND cm.user_id = `+launchUserID+``),
		slices.Concat(
			userKey, courseKey, linkKey,
			append([]any{pid}, linkKey...),
			append(append([]any{pid}, courseKey...), userKey...),
			append([]any{pid}, courseKey...),
			[]any{sectionKey, learner, pid}, userKey, courseKey,
			append([]any{pid}, linkKey...),
			append([]any{pid}, userKey...))...).
		Scan(append([]any{&ex.UserID, &ex.UserName, &ex.GivenName, &ex.FamilyName, &ex.Email, &ex.Picture, &ex.Locale,
			&ex.CourseID, &ex.CourseLabel, &ex.CourseTitle,
			&ex.LinkID, &ex.LinkCourseID, &ex.LinkTitle, &ex.LinkDescription, &ex.LinkCustom,
			&ex.AgsLineitems, &ex.AgsLineitem, &ex.AgsScopes, &ex.NrpsURL, &ex.LinkPlatformID, &ex.CoursePlatformID,
			&ex.CohortID, &ex.MemberRoles, &ex.MemberUserID, &ex.MemberLtiRoles, &lastLaunch, &ex.MemberStatus, &ex.MemberSections, &ex.CohortMemberID,
			&ex.CohortName, &ex.CohortSize, &ex.CohortKey}, SettingsDest(&ex.Settings, &ex.HasSettings)...)...)
	if lastLaunch.Valid {
		ex.MemberLastLaunch = &lastLaunch.Time
	}
	if err != nil {
		return nil, fmt.Errorf("read launch records: %w", err)
	}
	// What a launch does not send, it keeps: course label and title, and
	// service endpoints (they change between launches; keep the latest).
	keep := func(sent *string, old string) {
		if *sent == "" {
			*sent = old
		}
	}
	keep(&p.c.Label, ex.CourseLabel)
	keep(&p.c.Title, ex.CourseTitle)
	keep(&p.l.AGSLineItems, ex.AgsLineitems)
	keep(&p.l.AGSLineItem, ex.AgsLineitem)
	keep(&p.agsScopes, ex.AgsScopes)
	keep(&p.l.NRPSURL, ex.NrpsURL)
	p.l.AGSScopes = strings.Fields(p.agsScopes)
	p.u.ID, p.c.ID, p.l.ID, p.l.CourseID = ex.UserID, ex.CourseID, ex.LinkID, ex.CourseID
	ex.Settings.OrgID, ex.Settings.LinkID = p.l.OrgID, p.l.ID
	return p, nil
}

func (p *LaunchPlan) userChanged() bool {
	ex, u := &p.ex, &p.u
	return ex.UserName != u.Name || ex.GivenName != u.GivenName || ex.FamilyName != u.FamilyName ||
		ex.Email != u.Email || ex.Picture != u.Picture || ex.Locale != u.Locale
}

func (p *LaunchPlan) courseChanged() bool {
	return p.ex.CourseLabel != p.c.Label || p.ex.CourseTitle != p.c.Title || p.ex.CoursePlatformID != p.l.PlatformID
}

// lastLaunchPrecision is how stale a membership's last launch may be before
// a launch records it again: the roster shows it to the minute at best,
// and a class relaunching through a lesson need not write it each time.
const lastLaunchPrecision = 5 * time.Minute

// membershipCurrent: a relaunch within a few minutes with the same roles
// changes nothing worth a write, unless the roster made the membership
// inactive meanwhile: a launch makes it active.
func (p *LaunchPlan) membershipCurrent() bool {
	ex := &p.ex
	return ex.MemberUserID != "" && ex.MemberLastLaunch != nil && p.now.Sub(*ex.MemberLastLaunch) < lastLaunchPrecision &&
		ex.MemberRoles == p.roles.String() && ex.MemberLtiRoles == p.ltiRoles && ex.MemberStatus == "active" &&
		ex.MemberSections == p.sections
}

func (p *LaunchPlan) linkChanged() bool {
	ex, l := &p.ex, &p.l
	return ex.LinkCourseID != l.CourseID || ex.LinkTitle != l.Title || ex.LinkDescription != l.Description ||
		ex.LinkCustom != p.custom || ex.AgsLineitems != l.AGSLineItems || ex.AgsLineitem != l.AGSLineItem ||
		ex.AgsScopes != p.agsScopes || ex.NrpsURL != l.NRPSURL || ex.LinkPlatformID != l.PlatformID
}

// Settled returns what the launch would record when all of it is recorded
// already, as for a person reopening an activity: nothing to write.
func (p *LaunchPlan) Settled() (Recorded, bool) {
	if !p.settledButMembership() || !p.membershipCurrent() {
		return Recorded{}, false
	}
	return p.recorded(p.foundCohort(), p.ex.CohortSize, p.ex.Settings), true
}

// settledButMembership: the person, course, activity, cohort and cohort
// membership are recorded as the launch has them; the membership may not
// be.
func (p *LaunchPlan) settledButMembership() bool {
	ex := &p.ex
	return ex.UserID != "" && ex.CourseID != "" && ex.LinkID != "" && ex.CohortID != "" && ex.CohortMemberID != "" && p.adopted == nil &&
		!p.userChanged() && !p.courseChanged() && !p.linkChanged()
}

// Touched returns, on Postgres, what the launch would record when all of
// it is recorded already but the person's membership, which the launch
// brings up to date: its last launch, as for a person returning a day
// later, or its roles, sections or status. touch is that membership's
// update, to run in the statement that uses up the login state and opens
// the session (session.Store.ConsumeAndCreate), so that it is written only
// when the state is used, as in the launch's transaction. ok is false for
// any other launch, which the caller records as before.
func (s *Store) Touched(p *LaunchPlan) (rec Recorded, touch store.Stmt, ok bool) {
	if s.db.Dialect != store.Postgres || p.ex.MemberUserID == "" || p.membershipCurrent() || !p.settledButMembership() {
		return Recorded{}, store.Stmt{}, false
	}
	touch = store.Stmt{SQL: `UPDATE memberships SET roles = ?, lti_roles = ?, sections = ?, status = 'active', last_launch_at = ?, updated_at = ?
		WHERE org_id = ? AND course_id = ? AND user_id = ?`,
		Args: []any{p.roles.String(), p.ltiRoles, p.sections, p.now, p.now, p.c.OrgID, p.c.ID, p.u.ID}}
	return p.recorded(p.foundCohort(), p.ex.CohortSize, p.ex.Settings), touch, true
}

// RecordNewcomer records, on Postgres, a person's first launch into a
// course, activity and cohort that are all recorded already, the common
// launch at the start of a term: the person, their membership, their
// cohort membership and the cohort's count in one statement, committed on
// its own without waiting for the disk (as the launch's transaction is).
// ok is false, and nothing is written, when the launch is not such a
// newcomer's, or a concurrent launch of the same person recorded them
// first: the caller then records the launch in a transaction.
//
// A newcomer whose session then cannot be opened (the login state expired
// in between) stays recorded as a member, as a roster sync would record
// them; a replayed launch finds the person recorded and writes nothing.
func (s *Store) RecordNewcomer(ctx context.Context, p *LaunchPlan) (rec Recorded, ok bool, err error) {
	ex, u, c, now := &p.ex, &p.u, &p.c, p.now
	if s.db.Dialect != store.Postgres || ex.UserID != "" || ex.CourseID == "" || ex.LinkID == "" || ex.CohortID == "" ||
		p.adopted != nil || p.courseChanged() || p.linkChanged() {
		return Recorded{}, false, nil
	}
	co := p.foundCohort()
	// Straight through database/sql, as every statement of a launch: the
	// ORM's reflection cost more CPU than the rest of this call.
	var id string
	var size int
	err = s.db.RelaxedSQL().QueryRowContext(ctx, s.db.Rebind(`WITH person AS (INSERT INTO users (org_id, id, issuer, subject, name, given_name, family_name, email, picture, locale, pseudonym, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (org_id, issuer, subject) DO NOTHING RETURNING id),
		member AS (INSERT INTO memberships (org_id, course_id, user_id, roles, lti_roles, sections, status, last_launch_at, created_at, updated_at)
			SELECT ?, ?, id, ?, ?, ?, 'active', ?, ?, ? FROM person),
		joined AS (INSERT INTO cohort_members (org_id, cohort_id, user_id, created_at) SELECT ?, ?, id, ? FROM person RETURNING 1),
		counted AS (UPDATE cohorts SET member_count = member_count + 1 WHERE org_id = ? AND id = ? AND EXISTS (SELECT 1 FROM joined)
			RETURNING member_count)
		SELECT person.id, counted.member_count FROM person, counted`),
		u.OrgID, newID(), u.Issuer, u.Subject, u.Name, u.GivenName, u.FamilyName, u.Email, u.Picture, u.Locale, u.Pseudonym, now, now,
		c.OrgID, c.ID, p.roles.String(), p.ltiRoles, p.sections, now, now, now,
		co.OrgID, co.ID, now,
		co.OrgID, co.ID).Scan(&id, &size)
	if errors.Is(err, sql.ErrNoRows) {
		// A concurrent launch recorded the person first.
		return Recorded{}, false, nil
	}
	if err != nil {
		return Recorded{}, false, fmt.Errorf("record a newcomer: %w", err)
	}
	u.ID = id
	return p.recorded(co, size, ex.Settings), true, nil
}

// foundCohort is the cohort the plan's query found for the link's policy.
func (p *LaunchPlan) foundCohort() Cohort {
	return Cohort{OrgID: p.c.OrgID, ID: p.ex.CohortID, CourseID: p.c.ID, Key: p.ex.CohortKey, Name: p.ex.CohortName}
}

func (p *LaunchPlan) recorded(co Cohort, size int, st Settings) Recorded {
	return Recorded{User: p.u, Course: p.c, Link: p.l, Cohort: co, Roles: p.roles, Sections: p.sectionKeys, CohortSize: size, Settings: st}
}

// ApplyLaunch writes what the plan found missing or changed, inside tx.
// Rows that a concurrent launch inserted since the plan was read are found,
// not duplicated.
func (s *Store) ApplyLaunch(ctx context.Context, tx *gorm.DB, p *LaunchPlan) (Recorded, error) {
	tx = tx.WithContext(ctx)
	ex, u, c, l, now := &p.ex, &p.u, &p.c, &p.l, p.now
	var err error

	// The course.
	switch {
	case ex.CourseID == "":
		c.ID, err = insertOrGet(tx, `INSERT INTO courses (org_id, id, issuer, deployment_id, context_key, platform_id, label, title, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (org_id, issuer, deployment_id, context_key) DO NOTHING RETURNING id`,
			[]any{c.OrgID, newID(), c.Issuer, c.DeploymentID, c.ContextKey, l.PlatformID, c.Label, c.Title, now, now},
			`SELECT id FROM courses WHERE org_id = ? AND issuer = ? AND deployment_id = ? AND context_key = ?`, c.OrgID, c.Issuer, c.DeploymentID, c.ContextKey)
	case p.courseChanged():
		// The registration that launched it last serves its roster.
		err = tx.Exec(`UPDATE courses SET label = ?, title = ?, platform_id = ?, updated_at = ? WHERE org_id = ? AND id = ?`,
			c.Label, c.Title, l.PlatformID, now, c.OrgID, c.ID).Error
	}
	if err != nil {
		return Recorded{}, fmt.Errorf("record course: %w", err)
	}

	// The person, and their membership when both are new: on Postgres in
	// one statement, saving a first launch a round trip.
	memberDone := false
	switch {
	case ex.UserID == "" && s.db.Dialect == store.Postgres:
		var ids []string
		err = tx.Raw(`WITH person AS (INSERT INTO users (org_id, id, issuer, subject, name, given_name, family_name, email, picture, locale, pseudonym, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (org_id, issuer, subject) DO NOTHING RETURNING id),
			member AS (INSERT INTO memberships (org_id, course_id, user_id, roles, lti_roles, sections, status, last_launch_at, created_at, updated_at)
				SELECT ?, ?, id, ?, ?, ?, 'active', ?, ?, ? FROM person)
			SELECT id FROM person`,
			u.OrgID, newID(), u.Issuer, u.Subject, u.Name, u.GivenName, u.FamilyName, u.Email, u.Picture, u.Locale, u.Pseudonym, now, now,
			c.OrgID, c.ID, p.roles.String(), p.ltiRoles, p.sections, now, now, now).Scan(&ids).Error
		switch {
		case err != nil:
		case len(ids) == 1:
			u.ID, memberDone = ids[0], true
		default:
			// A concurrent launch of the same person inserted them first.
			err = tx.Raw(`SELECT id FROM users WHERE org_id = ? AND issuer = ? AND subject = ?`, u.OrgID, u.Issuer, u.Subject).Scan(&ids).Error
			if err == nil && len(ids) != 1 {
				err = fmt.Errorf("user neither inserted nor found: %w", store.ErrNotFound)
			}
			if err == nil {
				u.ID = ids[0]
			}
		}
	case ex.UserID == "":
		u.ID, err = insertOrGet(tx, `INSERT INTO users (org_id, id, issuer, subject, name, given_name, family_name, email, picture, locale, pseudonym, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (org_id, issuer, subject) DO NOTHING RETURNING id`,
			[]any{u.OrgID, newID(), u.Issuer, u.Subject, u.Name, u.GivenName, u.FamilyName, u.Email, u.Picture, u.Locale, u.Pseudonym, now, now},
			`SELECT id FROM users WHERE org_id = ? AND issuer = ? AND subject = ?`, u.OrgID, u.Issuer, u.Subject)
	case p.userChanged():
		err = tx.Exec(`UPDATE users SET name = ?, given_name = ?, family_name = ?, email = ?, picture = ?, locale = ?, updated_at = ?
			WHERE org_id = ? AND id = ?`, u.Name, u.GivenName, u.FamilyName, u.Email, u.Picture, u.Locale, now, u.OrgID, u.ID).Error
	}
	if err != nil {
		return Recorded{}, fmt.Errorf("record user: %w", err)
	}

	// The membership, with the roles of this launch.
	switch {
	case memberDone, p.membershipCurrent():
	case ex.MemberUserID == "":
		err = tx.Exec(`INSERT INTO memberships (org_id, course_id, user_id, roles, lti_roles, sections, status, last_launch_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?, ?)
			ON CONFLICT (org_id, course_id, user_id) DO UPDATE SET roles = excluded.roles, lti_roles = excluded.lti_roles,
				sections = excluded.sections, status = 'active', last_launch_at = excluded.last_launch_at, updated_at = excluded.updated_at`,
			c.OrgID, c.ID, u.ID, p.roles.String(), p.ltiRoles, p.sections, now, now, now).Error
	default:
		err = tx.Exec(`UPDATE memberships SET roles = ?, lti_roles = ?, sections = ?, status = 'active', last_launch_at = ?, updated_at = ?
			WHERE org_id = ? AND course_id = ? AND user_id = ?`,
			p.roles.String(), p.ltiRoles, p.sections, now, now, c.OrgID, c.ID, u.ID).Error
	}
	if err != nil {
		return Recorded{}, fmt.Errorf("record membership: %w", err)
	}

	// The activity.
	l.CourseID = c.ID
	switch {
	case ex.LinkID == "":
		l.ID, err = insertOrGet(tx, `INSERT INTO resource_links (org_id, id, course_id, issuer, deployment_id, resource_link_id, platform_id, title, description, custom,
				ags_lineitems, ags_lineitem, ags_scopes, nrps_url, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (org_id, issuer, deployment_id, resource_link_id) DO NOTHING RETURNING id`,
			[]any{l.OrgID, newID(), l.CourseID, l.Issuer, l.DeploymentID, l.ResourceLinkID, l.PlatformID, l.Title, l.Description, p.custom,
				l.AGSLineItems, l.AGSLineItem, p.agsScopes, l.NRPSURL, now, now},
			`SELECT id FROM resource_links WHERE org_id = ? AND issuer = ? AND deployment_id = ? AND resource_link_id = ?`, l.OrgID, l.Issuer, l.DeploymentID, l.ResourceLinkID)
	case p.linkChanged():
		// The registration that launched it last receives its grades: the
		// service endpoints above are that registration's.
		err = tx.Exec(`UPDATE resource_links SET course_id = ?, platform_id = ?, title = ?, description = ?, custom = ?, ags_lineitems = ?, ags_lineitem = ?,
				ags_scopes = ?, nrps_url = ?, updated_at = ? WHERE org_id = ? AND id = ?`,
			l.CourseID, l.PlatformID, l.Title, l.Description, p.custom, l.AGSLineItems, l.AGSLineItem, p.agsScopes, l.NRPSURL, now, l.OrgID, l.ID).Error
	}
	if err != nil {
		return Recorded{}, fmt.Errorf("record resource link: %w", err)
	}

	st := ex.Settings
	if p.adopted != nil {
		if st, err = s.adoptSettings(tx, p); err != nil {
			return Recorded{}, err
		}
	}
	co, size, err := s.assignCohort(tx, p, st)
	if err != nil {
		return Recorded{}, err
	}
	return p.recorded(co, size, st), nil
}

// existingRows is what a launch finds already recorded; empty ids mean missing.
type existingRows struct {
	UserID, UserName, GivenName, FamilyName, Email, Picture, Locale string
	CourseID, CourseLabel, CourseTitle                              string
	LinkID, LinkCourseID, LinkTitle, LinkDescription, LinkCustom    string
	AgsLineitems, AgsLineitem, AgsScopes, NrpsURL                   string
	LinkPlatformID, CoursePlatformID                                string
	CohortID, MemberRoles, MemberUserID, CohortMemberID             string
	MemberLtiRoles, CohortName, CohortKey, MemberStatus             string
	MemberSections                                                  string
	MemberLastLaunch                                                *time.Time
	CohortSize                                                      int
	// Settings are the link's, or the defaults when HasSettings is false.
	Settings    Settings
	HasSettings bool
}

// insertOrGet inserts a row that may already exist (ON CONFLICT DO NOTHING
// RETURNING id) and returns its id, reading it when a concurrent launch
// inserted it first.
func insertOrGet(tx *gorm.DB, insert string, insertArgs []any, query string, queryArgs ...any) (string, error) {
	var ids []string
	if err := tx.Raw(insert, insertArgs...).Scan(&ids).Error; err != nil {
		return "", err
	}
	if len(ids) == 1 {
		return ids[0], nil
	}
	if err := tx.Raw(query, queryArgs...).Scan(&ids).Error; err != nil {
		return "", err
	}
	if len(ids) != 1 {
		return "", fmt.Errorf("row neither inserted nor found: %w", store.ErrNotFound)
	}
	return ids[0], nil
}

// Pseudonym is a stable, friendly name for a person whose platform sends no
// name: the same person always gets the same one.
func Pseudonym(orgID, issuer, subject string) string {
	sum := sha256.Sum256([]byte(orgID + "\x00" + issuer + "\x00" + subject))
	n := binary.BigEndian.Uint64(sum[:8])
	adj := pseudonymAdjectives[n%uint64(len(pseudonymAdjectives))]
	noun := pseudonymNouns[(n/uint64(len(pseudonymAdjectives)))%uint64(len(pseudonymNouns))]
	return fmt.Sprintf("%s %s %02d", adj, noun, (n>>40)%100)
}

var pseudonymAdjectives = []string{
	"Amber", "Brave", "Calm", "Clever", "Curious", "Eager", "Gentle", "Golden", "Happy", "Honest",
	"Kind", "Lively", "Lucky", "Merry", "Nimble", "Patient", "Quick", "Quiet", "Bright", "Steady",
	"Swift", "Thoughtful", "Warm", "Wise", "Bold", "Cheerful", "Daring", "Keen", "Mellow", "Sunny",
}

var pseudonymNouns = []string{
	"Badger", "Beaver", "Crane", "Dolphin", "Falcon", "Fox", "Hare", "Heron", "Ibis", "Koala",
	"Lark", "Lynx", "Marten", "Otter", "Owl", "Panda", "Puffin", "Raven", "Robin", "Seal",
	"Sparrow", "Stork", "Swan", "Tern", "Tiger", "Walrus", "Wren", "Yak", "Zebra", "Finch",
}

func newID() string { return store.NewID() }
