package course

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/store"
)

// LaunchInput is what a verified launch tells about a person, a course and
// an activity. The web layer converts the protocol's launch into it.
type LaunchInput struct {
	PlatformID   string
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
}

// Recorded is what a launch wrote.
type Recorded struct {
	User   User
	Course Course
	Link   Link
	Cohort Cohort
	Roles  Roles
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

func clip(s string, n int) string {
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
	if in.PlatformID == "" || in.Subject == "" || in.ResourceLinkID == "" {
		return Recorded{}, roundtable.Errorf(roundtable.EINVALID, "a launch needs a platform, a subject and a resource link")
	}
	now := s.Now().UTC()
	tx = tx.WithContext(ctx)
	name := clip(in.Name, maxName)
	if name == "" {
		name = clip(strings.TrimSpace(in.GivenName+" "+in.FamilyName), maxName)
	}
	u := User{
		PlatformID: in.PlatformID, Subject: clip(in.Subject, 255), Name: name,
		GivenName: clip(in.GivenName, maxName), FamilyName: clip(in.FamilyName, maxName),
		Email: clip(in.Email, 320), Picture: clip(in.Picture, maxURL), Locale: clip(in.Locale, 35),
		Pseudonym: Pseudonym(in.PlatformID, in.Subject),
	}
	c := Course{PlatformID: in.PlatformID, DeploymentID: clip(in.DeploymentID, 255),
		ContextKey: clip(in.ContextID, 255), Label: clip(in.ContextLabel, maxName), Title: clip(in.ContextTitle, maxTitle)}
	if c.ContextKey == "" {
		// A launch without a context still needs a course: the activity is one.
		c.ContextKey = "link:" + clip(in.ResourceLinkID, 255)
		if c.Title == "" {
			c.Title = clip(in.LinkTitle, maxTitle)
		}
	}
	l := Link{PlatformID: in.PlatformID, DeploymentID: c.DeploymentID,
		ResourceLinkID: clip(in.ResourceLinkID, 255), Title: clip(in.LinkTitle, maxTitle),
		Description: clip(in.LinkDescription, maxText), Custom: in.Custom,
		AGSLineItems: clip(in.AGSLineItems, maxURL), AGSLineItem: clip(in.AGSLineItem, maxURL),
		AGSScopes: in.AGSScopes, NRPSURL: clip(in.NRPSURL, maxURL)}
	custom := "{}"
	if len(in.Custom) > 0 {
		if b, err := json.Marshal(in.Custom); err == nil && len(b) <= maxText*4 {
			custom = string(b)
		}
	}
	agsScopes := strings.Join(l.AGSScopes, " ")
	roles := in.Roles
	if len(roles) == 0 {
		// No known role: the least privilege.
		roles = Roles{Learner}
	}
	ltiRoles := clip(strings.Join(in.LTIRoles, " "), maxText)

	var ex existingRows
	err := tx.Raw(`SELECT COALESCE(u.id, '') AS user_id, COALESCE(u.name, '') AS user_name, COALESCE(u.given_name, '') AS given_name,
			COALESCE(u.family_name, '') AS family_name, COALESCE(u.email, '') AS email, COALESCE(u.picture, '') AS picture,
			COALESCE(u.locale, '') AS locale,
			COALESCE(c.id, '') AS course_id, COALESCE(c.label, '') AS course_label, COALESCE(c.title, '') AS course_title,
			COALESCE(l.id, '') AS link_id, COALESCE(l.course_id, '') AS link_course_id, COALESCE(l.title, '') AS link_title,
			COALESCE(l.description, '') AS link_description, COALESCE(l.custom, '') AS link_custom,
			COALESCE(l.ags_lineitems, '') AS ags_lineitems, COALESCE(l.ags_lineitem, '') AS ags_lineitem,
			COALESCE(l.ags_scopes, '') AS ags_scopes, COALESCE(l.nrps_url, '') AS nrps_url,
			COALESCE(co.id, '') AS cohort_id, COALESCE(m.roles, '') AS member_roles, COALESCE(m.user_id, '') AS member_user_id,
			COALESCE(m.lti_roles, '') AS member_lti_roles, m.last_launch_at AS member_last_launch,
			COALESCE(cm.user_id, '') AS cohort_member_id
		FROM (SELECT 1 AS one) x
		LEFT JOIN users u ON u.platform_id = ? AND u.subject = ?
		LEFT JOIN courses c ON c.platform_id = ? AND c.deployment_id = ? AND c.context_key = ?
		LEFT JOIN resource_links l ON l.platform_id = ? AND l.deployment_id = ? AND l.resource_link_id = ?
		LEFT JOIN cohorts co ON co.platform_id = c.platform_id AND co.course_id = c.id AND co.cohort_key = ?
		LEFT JOIN memberships m ON m.platform_id = c.platform_id AND m.course_id = c.id AND m.user_id = u.id
		LEFT JOIN cohort_members cm ON cm.platform_id = co.platform_id AND cm.cohort_id = co.id AND cm.user_id = u.id`,
		u.PlatformID, u.Subject, c.PlatformID, c.DeploymentID, c.ContextKey, l.PlatformID, l.DeploymentID, l.ResourceLinkID, courseCohortKey).
		Scan(&ex).Error
	if err != nil {
		return Recorded{}, fmt.Errorf("read launch records: %w", err)
	}

	// The person.
	switch {
	case ex.UserID == "":
		u.ID, err = insertOrGet(tx, `INSERT INTO users (platform_id, id, subject, name, given_name, family_name, email, picture, locale, pseudonym, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (platform_id, subject) DO NOTHING RETURNING id`,
			[]any{u.PlatformID, newID(), u.Subject, u.Name, u.GivenName, u.FamilyName, u.Email, u.Picture, u.Locale, u.Pseudonym, now, now},
			`SELECT id FROM users WHERE platform_id = ? AND subject = ?`, u.PlatformID, u.Subject)
	case ex.UserName != u.Name || ex.GivenName != u.GivenName || ex.FamilyName != u.FamilyName || ex.Email != u.Email || ex.Picture != u.Picture || ex.Locale != u.Locale:
		u.ID = ex.UserID
		err = tx.Exec(`UPDATE users SET name = ?, given_name = ?, family_name = ?, email = ?, picture = ?, locale = ?, updated_at = ?
			WHERE platform_id = ? AND id = ?`, u.Name, u.GivenName, u.FamilyName, u.Email, u.Picture, u.Locale, now, u.PlatformID, u.ID).Error
	default:
		u.ID = ex.UserID
	}
	if err != nil {
		return Recorded{}, fmt.Errorf("record user: %w", err)
	}

	// The course: a launch that sends no label or title keeps the old ones.
	if c.Label == "" {
		c.Label = ex.CourseLabel
	}
	if c.Title == "" {
		c.Title = ex.CourseTitle
	}
	switch {
	case ex.CourseID == "":
		c.ID, err = insertOrGet(tx, `INSERT INTO courses (platform_id, id, deployment_id, context_key, label, title, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (platform_id, deployment_id, context_key) DO NOTHING RETURNING id`,
			[]any{c.PlatformID, newID(), c.DeploymentID, c.ContextKey, c.Label, c.Title, now, now},
			`SELECT id FROM courses WHERE platform_id = ? AND deployment_id = ? AND context_key = ?`, c.PlatformID, c.DeploymentID, c.ContextKey)
	case ex.CourseLabel != c.Label || ex.CourseTitle != c.Title:
		c.ID = ex.CourseID
		err = tx.Exec(`UPDATE courses SET label = ?, title = ?, updated_at = ? WHERE platform_id = ? AND id = ?`,
			c.Label, c.Title, now, c.PlatformID, c.ID).Error
	default:
		c.ID = ex.CourseID
	}
	if err != nil {
		return Recorded{}, fmt.Errorf("record course: %w", err)
	}

	// The membership, with the roles of this launch. A relaunch within a
	// minute with the same roles changes nothing worth a write.
	recent := ex.MemberLastLaunch != nil && now.Sub(*ex.MemberLastLaunch) < time.Minute
	switch {
	case ex.MemberUserID != "" && recent && ex.MemberRoles == roles.String() && ex.MemberLtiRoles == ltiRoles:
	case ex.MemberUserID == "":
		err = tx.Exec(`INSERT INTO memberships (platform_id, course_id, user_id, roles, lti_roles, status, last_launch_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 'active', ?, ?, ?)
			ON CONFLICT (platform_id, course_id, user_id) DO UPDATE SET roles = excluded.roles, lti_roles = excluded.lti_roles,
				status = 'active', last_launch_at = excluded.last_launch_at, updated_at = excluded.updated_at`,
			c.PlatformID, c.ID, u.ID, roles.String(), ltiRoles, now, now, now).Error
	default:
		err = tx.Exec(`UPDATE memberships SET roles = ?, lti_roles = ?, status = 'active', last_launch_at = ?, updated_at = ?
			WHERE platform_id = ? AND course_id = ? AND user_id = ?`,
			roles.String(), ltiRoles, now, now, c.PlatformID, c.ID, u.ID).Error
	}
	if err != nil {
		return Recorded{}, fmt.Errorf("record membership: %w", err)
	}

	// The activity. Service endpoints can change between launches: keep the
	// latest sent, and keep the old one when a launch sends none.
	l.CourseID = c.ID
	keep := func(sent *string, old string) {
		if *sent == "" {
			*sent = old
		}
	}
	keep(&l.AGSLineItems, ex.AgsLineitems)
	keep(&l.AGSLineItem, ex.AgsLineitem)
	keep(&agsScopes, ex.AgsScopes)
	keep(&l.NRPSURL, ex.NrpsURL)
	l.AGSScopes = strings.Fields(agsScopes)
	switch {
	case ex.LinkID == "":
		l.ID, err = insertOrGet(tx, `INSERT INTO resource_links (platform_id, id, course_id, deployment_id, resource_link_id, title, description, custom,
				ags_lineitems, ags_lineitem, ags_scopes, nrps_url, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (platform_id, deployment_id, resource_link_id) DO NOTHING RETURNING id`,
			[]any{l.PlatformID, newID(), l.CourseID, l.DeploymentID, l.ResourceLinkID, l.Title, l.Description, custom,
				l.AGSLineItems, l.AGSLineItem, agsScopes, l.NRPSURL, now, now},
			`SELECT id FROM resource_links WHERE platform_id = ? AND deployment_id = ? AND resource_link_id = ?`, l.PlatformID, l.DeploymentID, l.ResourceLinkID)
	case ex.LinkCourseID != l.CourseID || ex.LinkTitle != l.Title || ex.LinkDescription != l.Description || ex.LinkCustom != custom ||
		ex.AgsLineitems != l.AGSLineItems || ex.AgsLineitem != l.AGSLineItem || ex.AgsScopes != agsScopes || ex.NrpsURL != l.NRPSURL:
		l.ID = ex.LinkID
		err = tx.Exec(`UPDATE resource_links SET course_id = ?, title = ?, description = ?, custom = ?, ags_lineitems = ?, ags_lineitem = ?,
				ags_scopes = ?, nrps_url = ?, updated_at = ? WHERE platform_id = ? AND id = ?`,
			l.CourseID, l.Title, l.Description, custom, l.AGSLineItems, l.AGSLineItem, agsScopes, l.NRPSURL, now, l.PlatformID, l.ID).Error
	default:
		l.ID = ex.LinkID
	}
	if err != nil {
		return Recorded{}, fmt.Errorf("record resource link: %w", err)
	}

	co, err := s.assignCohort(tx, c, u, ex, now)
	if err != nil {
		return Recorded{}, err
	}
	return Recorded{User: u, Course: c, Link: l, Cohort: co, Roles: roles}, nil
}

// existingRows is what a launch finds already recorded; empty ids mean missing.
type existingRows struct {
	UserID, UserName, GivenName, FamilyName, Email, Picture, Locale string
	CourseID, CourseLabel, CourseTitle                              string
	LinkID, LinkCourseID, LinkTitle, LinkDescription, LinkCustom    string
	AgsLineitems, AgsLineitem, AgsScopes, NrpsURL                   string
	CohortID, MemberRoles, MemberUserID, CohortMemberID             string
	MemberLtiRoles                                                  string
	MemberLastLaunch                                                *time.Time
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

// courseCohortKey names the cohort that holds a whole course. Later cohort
// policies (sections, groups of N) add cohorts with other keys.
const courseCohortKey = "course"

func (s *Store) assignCohort(tx *gorm.DB, c Course, u User, ex existingRows, now time.Time) (Cohort, error) {
	co := Cohort{PlatformID: c.PlatformID, ID: ex.CohortID, CourseID: c.ID, Key: courseCohortKey, Name: c.Title, CreatedAt: now}
	var err error
	if co.ID == "" {
		co.ID, err = insertOrGet(tx, `INSERT INTO cohorts (platform_id, id, course_id, cohort_key, name, created_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (platform_id, course_id, cohort_key) DO NOTHING RETURNING id`,
			[]any{co.PlatformID, newID(), co.CourseID, co.Key, co.Name, now},
			`SELECT id FROM cohorts WHERE platform_id = ? AND course_id = ? AND cohort_key = ?`, co.PlatformID, co.CourseID, co.Key)
		if err != nil {
			return Cohort{}, fmt.Errorf("record cohort: %w", err)
		}
	}
	if ex.CohortMemberID == "" || ex.CohortID == "" {
		res := tx.Exec(`INSERT INTO cohort_members (platform_id, cohort_id, user_id, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (platform_id, cohort_id, user_id) DO NOTHING`, co.PlatformID, co.ID, u.ID, now)
		if res.Error != nil {
			return Cohort{}, fmt.Errorf("record cohort member: %w", res.Error)
		}
		if res.RowsAffected == 1 {
			err = tx.Exec(`UPDATE cohorts SET member_count = member_count + 1 WHERE platform_id = ? AND id = ?`, co.PlatformID, co.ID).Error
			if err != nil {
				return Cohort{}, fmt.Errorf("count cohort member: %w", err)
			}
		}
	}
	return co, nil
}

// Pseudonym is a stable, friendly name for a person whose platform sends no
// name: the same person always gets the same one.
func Pseudonym(platformID, subject string) string {
	sum := sha256.Sum256([]byte(platformID + "\x00" + subject))
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
