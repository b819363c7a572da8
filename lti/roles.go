package lti

import "strings"

// Role URIs from the LTI 1.3 role vocabularies.
const (
	RoleLearner           = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
	RoleInstructor        = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
	RoleTeachingAssistant = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
	RoleContentDeveloper  = "http://purl.imsglobal.org/vocab/lis/v2/membership#ContentDeveloper"
	RoleMentor            = "http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor"
	RoleAdministrator     = "http://purl.imsglobal.org/vocab/lis/v2/membership#Administrator"
	RoleInstitutionAdmin  = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"
	RoleSystemAdmin       = "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"
	RoleInstitutionStaff  = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Staff"
)

// Roles is what an LTI roles claim says about a person in a context.
// Unknown role values are kept in Other and otherwise ignored.
type Roles struct {
	Learner           bool
	Instructor        bool
	TeachingAssistant bool
	ContentDeveloper  bool
	Mentor            bool
	Administrator     bool
	Other             []string
}

// ParseRoles reads a roles claim. It accepts full context role URIs, their
// short forms ("Instructor") and sub-roles ("Instructor#TeachingAssistant"),
// and institution or system administrator roles.
func ParseRoles(values []string) Roles {
	var r Roles
	for _, v := range values {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		switch v {
		case RoleInstitutionAdmin, RoleSystemAdmin:
			r.Administrator = true
			continue
		}
		name := v
		for _, prefix := range []string{
			"http://purl.imsglobal.org/vocab/lis/v2/membership#",
			"http://purl.imsglobal.org/vocab/lis/v2/membership/",
		} {
			if strings.HasPrefix(v, prefix) {
				name = strings.TrimPrefix(v, prefix)
				break
			}
		}
		main, sub, _ := strings.Cut(name, "#")
		switch {
		case main == "Instructor" && sub == "TeachingAssistant",
			main == "TeachingAssistant":
			r.TeachingAssistant = true
		case main == "Learner":
			r.Learner = true
		case main == "Instructor":
			r.Instructor = true
		case main == "ContentDeveloper":
			r.ContentDeveloper = true
		case main == "Mentor":
			r.Mentor = true
		case main == "Administrator":
			r.Administrator = true
		default:
			r.Other = append(r.Other, v)
		}
	}
	return r
}
