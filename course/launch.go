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
		PlatformID: in.PlatformID, ID: newID(), Subject: clip(in.Subject, 255), Name: name,
		GivenName: clip(in.GivenName, maxName), FamilyName: clip(in.FamilyName, maxName),
		Email: clip(in.Email, 320), Picture: clip(in.Picture, maxURL), Locale: clip(in.Locale, 35),
		Pseudonym: Pseudonym(in.PlatformID, in.Subject),
	}
	err := tx.Raw(`INSERT INTO users (platform_id, id, subject, name, given_name, family_name, email, picture, locale, pseudonym, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (platform_id, subject) DO UPDATE SET name = excluded.name, given_name = excluded.given_name,
			family_name = excluded.family_name, email = excluded.email, picture = excluded.picture,
			locale = excluded.locale, updated_at = excluded.updated_at
		RETURNING id`,
		u.PlatformID, u.ID, u.Subject, u.Name, u.GivenName, u.FamilyName, u.Email, u.Picture, u.Locale, u.Pseudonym, now, now).
		Scan(&u.ID).Error
	if err != nil {
		return Recorded{}, fmt.Errorf("record user: %w", err)
	}

	c := Course{PlatformID: in.PlatformID, ID: newID(), DeploymentID: clip(in.DeploymentID, 255),
		ContextKey: clip(in.ContextID, 255), Label: clip(in.ContextLabel, maxName), Title: clip(in.ContextTitle, maxTitle)}
	if c.ContextKey == "" {
		// A launch without a context still needs a course: the activity is one.
		c.ContextKey = "link:" + clip(in.ResourceLinkID, 255)
		if c.Title == "" {
			c.Title = clip(in.LinkTitle, maxTitle)
		}
	}
	err = tx.Raw(`INSERT INTO courses (platform_id, id, deployment_id, context_key, label, title, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (platform_id, deployment_id, context_key) DO UPDATE SET
			label = CASE WHEN excluded.label <> '' THEN excluded.label ELSE courses.label END,
			title = CASE WHEN excluded.title <> '' THEN excluded.title ELSE courses.title END,
			updated_at = excluded.updated_at
		RETURNING id`,
		c.PlatformID, c.ID, c.DeploymentID, c.ContextKey, c.Label, c.Title, now, now).Scan(&c.ID).Error
	if err != nil {
		return Recorded{}, fmt.Errorf("record course: %w", err)
	}

	roles := in.Roles
	if len(roles) == 0 {
		// No known role: the least privilege.
		roles = Roles{Learner}
	}
	err = tx.Exec(`INSERT INTO memberships (platform_id, course_id, user_id, roles, lti_roles, status, last_launch_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 'active', ?, ?, ?)
		ON CONFLICT (platform_id, course_id, user_id) DO UPDATE SET roles = excluded.roles, lti_roles = excluded.lti_roles,
			status = 'active', last_launch_at = excluded.last_launch_at, updated_at = excluded.updated_at`,
		c.PlatformID, c.ID, u.ID, roles.String(), clip(strings.Join(in.LTIRoles, " "), maxText), now, now, now).Error
	if err != nil {
		return Recorded{}, fmt.Errorf("record membership: %w", err)
	}

	custom, _ := json.Marshal(in.Custom)
	if in.Custom == nil {
		custom = []byte("{}")
	}
	l := Link{PlatformID: in.PlatformID, ID: newID(), CourseID: c.ID, DeploymentID: c.DeploymentID,
		ResourceLinkID: clip(in.ResourceLinkID, 255), Title: clip(in.LinkTitle, maxTitle),
		Description: clip(in.LinkDescription, maxText), Custom: in.Custom,
		AGSLineItems: clip(in.AGSLineItems, maxURL), AGSLineItem: clip(in.AGSLineItem, maxURL),
		AGSScopes: in.AGSScopes, NRPSURL: clip(in.NRPSURL, maxURL)}
	if len(custom) > maxText*4 {
		custom = []byte("{}")
	}
	// Service endpoints can change between launches: keep the latest sent,
	// and keep the old one when a launch sends none.
	err = tx.Raw(`INSERT INTO resource_links (platform_id, id, course_id, deployment_id, resource_link_id, title, description, custom,
			ags_lineitems, ags_lineitem, ags_scopes, nrps_url, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (platform_id, deployment_id, resource_link_id) DO UPDATE SET
			course_id = excluded.course_id, title = excluded.title, description = excluded.description, custom = excluded.custom,
			ags_lineitems = CASE WHEN excluded.ags_lineitems <> '' THEN excluded.ags_lineitems ELSE resource_links.ags_lineitems END,
			ags_lineitem = CASE WHEN excluded.ags_lineitem <> '' THEN excluded.ags_lineitem ELSE resource_links.ags_lineitem END,
			ags_scopes = CASE WHEN excluded.ags_scopes <> '' THEN excluded.ags_scopes ELSE resource_links.ags_scopes END,
			nrps_url = CASE WHEN excluded.nrps_url <> '' THEN excluded.nrps_url ELSE resource_links.nrps_url END,
			updated_at = excluded.updated_at
		RETURNING id`,
		l.PlatformID, l.ID, l.CourseID, l.DeploymentID, l.ResourceLinkID, l.Title, l.Description, string(custom),
		l.AGSLineItems, l.AGSLineItem, strings.Join(l.AGSScopes, " "), l.NRPSURL, now, now).Scan(&l.ID).Error
	if err != nil {
		return Recorded{}, fmt.Errorf("record resource link: %w", err)
	}

	co, err := s.assignCohort(tx, c, u, now)
	if err != nil {
		return Recorded{}, err
	}
	return Recorded{User: u, Course: c, Link: l, Cohort: co, Roles: roles}, nil
}

// courseCohortKey names the cohort that holds a whole course. Later cohort
// policies (sections, groups of N) add cohorts with other keys.
const courseCohortKey = "course"

func (s *Store) assignCohort(tx *gorm.DB, c Course, u User, now time.Time) (Cohort, error) {
	co := Cohort{PlatformID: c.PlatformID, ID: newID(), CourseID: c.ID, Key: courseCohortKey, Name: c.Title, CreatedAt: now}
	err := tx.Raw(`INSERT INTO cohorts (platform_id, id, course_id, cohort_key, name, created_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (platform_id, course_id, cohort_key) DO UPDATE SET name = excluded.name
		RETURNING id`, co.PlatformID, co.ID, co.CourseID, co.Key, co.Name, now).Scan(&co.ID).Error
	if err != nil {
		return Cohort{}, fmt.Errorf("record cohort: %w", err)
	}
	err = tx.Exec(`INSERT INTO cohort_members (platform_id, cohort_id, user_id, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (platform_id, cohort_id, user_id) DO NOTHING`, co.PlatformID, co.ID, u.ID, now).Error
	if err != nil {
		return Cohort{}, fmt.Errorf("record cohort member: %w", err)
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
