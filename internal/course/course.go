// Package course is the model a launch writes: people, courses, their
// memberships and roles, the activities (resource links) placed in a course,
// and the cohorts a course is split into.
package course

import (
	"strings"
	"time"

	"github.com/roundtable-lms/roundtable/lti"
)

// Role is what a person does in a course, mapped from LTI roles.
type Role string

const (
	Learner           Role = "learner"
	Instructor        Role = "instructor"
	TeachingAssistant Role = "teaching_assistant"
	ContentDeveloper  Role = "content_developer"
	Mentor            Role = "mentor"
	Administrator     Role = "administrator"
)

// rolePrecedence orders roles from most to least privileged; the first one a
// person holds is the one shown.
var rolePrecedence = []Role{Instructor, Administrator, TeachingAssistant, ContentDeveloper, Mentor, Learner}

// Label is the role's name as people read it.
func (r Role) Label() string {
	switch r {
	case Instructor:
		return "Instructor"
	case TeachingAssistant:
		return "Teaching assistant"
	case ContentDeveloper:
		return "Content developer"
	case Mentor:
		return "Mentor"
	case Administrator:
		return "Administrator"
	}
	return "Learner"
}

// Roles is a set of roles held in one course.
type Roles []Role

// Has reports whether r holds role.
func (rs Roles) Has(role Role) bool {
	for _, r := range rs {
		if r == role {
			return true
		}
	}
	return false
}

// Primary is the most privileged role held; Learner when none.
func (rs Roles) Primary() Role {
	for _, p := range rolePrecedence {
		if rs.Has(p) {
			return p
		}
	}
	return Learner
}

// IsStaff reports whether the roles may run the course: instructors,
// teaching assistants and administrators.
func (rs Roles) IsStaff() bool {
	return rs.Has(Instructor) || rs.Has(TeachingAssistant) || rs.Has(Administrator)
}

// IsObserver reports whether the roles only observe the course: an LMS's
// Mentor role (Canvas's observers, parents, advisors) without Learner or a
// staff role. Observers read their cohort's discussion and never post in
// it, are never placed in a group, and are never graded.
func (rs Roles) IsObserver() bool {
	return rs.Has(Mentor) && !rs.Has(Learner) && !rs.IsStaff()
}

// Participant reports whether the roles take part as learners do: they
// join a group under the groups policy, post under the learners' rules
// and are graded. Staff and observers do not.
func (rs Roles) Participant() bool {
	return !rs.IsStaff() && !rs.IsObserver()
}

// String is the stored form: roles joined by commas.
func (rs Roles) String() string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

// RolesFromLTI maps a person's LTI roles to the roles they hold in a
// course, most privileged first; none when no role is known (callers give
// the least privilege, Learner).
func RolesFromLTI(r lti.Roles) Roles {
	var out Roles
	for _, m := range []struct {
		has  bool
		role Role
	}{
		{r.Instructor, Instructor}, {r.TeachingAssistant, TeachingAssistant},
		{r.Administrator, Administrator}, {r.ContentDeveloper, ContentDeveloper},
		{r.Mentor, Mentor}, {r.Learner, Learner},
	} {
		if m.has {
			out = append(out, m.role)
		}
	}
	return out
}

// ParseRoles reads the stored form.
func ParseRoles(s string) Roles {
	if s == "" {
		return nil
	}
	var rs Roles
	for _, p := range strings.Split(s, ",") {
		rs = append(rs, Role(p))
	}
	return rs
}

// User is a person of one organisation, known by the issuer and subject
// (sub) of the LMS they launch from, whichever of the organisation's
// registrations they come through.
type User struct {
	OrgID      string
	ID         string
	Issuer     string
	Subject    string
	Name       string
	GivenName  string
	FamilyName string
	Email      string
	Picture    string
	Locale     string
	Pseudonym  string
}

// DisplayName is the name, or the pseudonym when the platform sent none.
func (u User) DisplayName() string {
	if u.Name != "" {
		return u.Name
	}
	return u.Pseudonym
}

// Course is an LMS context, keyed as LTI says: issuer, deployment and
// context id, within the organisation.
type Course struct {
	OrgID        string
	ID           string
	Issuer       string
	DeploymentID string
	ContextKey   string
	Label        string
	Title        string
}

// Link is an activity placed in a course: an LTI resource link.
type Link struct {
	OrgID        string
	ID           string
	CourseID     string
	Issuer       string
	DeploymentID string
	// PlatformID is the registration that last launched the activity: the
	// one its grades (AGS) and roster (NRPS) go to and come from.
	PlatformID     string
	ResourceLinkID string
	Title          string
	Description    string
	Custom         map[string]string
	AGSLineItems   string
	AGSLineItem    string
	AGSScopes      []string
	NRPSURL        string
}

// Cohort is a group of a course's people who learn together.
type Cohort struct {
	OrgID     string
	ID        string
	CourseID  string
	Key       string
	Name      string
	CreatedAt time.Time
}
