package lti

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestParseRoles(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []string
		want   Roles
	}{
		{"LearnerURI", []string{RoleLearner}, Roles{Learner: true}},
		{"InstructorURI", []string{RoleInstructor}, Roles{Instructor: true}},
		{"ContentDeveloperURI", []string{RoleContentDeveloper}, Roles{ContentDeveloper: true}},
		{"MentorURI", []string{RoleMentor}, Roles{Mentor: true}},
		{"AdministratorURI", []string{RoleAdministrator}, Roles{Administrator: true}},
		{"ShortNames", []string{"Learner", "Instructor", "ContentDeveloper", "Mentor", "Administrator"},
			Roles{Learner: true, Instructor: true, ContentDeveloper: true, Mentor: true, Administrator: true}},
		{"TeachingAssistantSubRoleURI", []string{RoleTeachingAssistant}, Roles{TeachingAssistant: true}},
		{"TeachingAssistantSubRoleShort", []string{"Instructor#TeachingAssistant"}, Roles{TeachingAssistant: true}},
		{"TeachingAssistantShort", []string{"TeachingAssistant"}, Roles{TeachingAssistant: true}},
		// LTI 1.3 §A.2.2: a platform sending a sub-role also sends its
		// principal role.
		{"TeachingAssistantWithPrincipalRole", []string{RoleInstructor, RoleTeachingAssistant},
			Roles{Instructor: true, TeachingAssistant: true}},
		{"OtherInstructorSubRole", []string{"http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#Grader"}, Roles{Instructor: true}},
		{"LearnerSubRole", []string{"http://purl.imsglobal.org/vocab/lis/v2/membership/Learner#Learner"}, Roles{Learner: true}},
		{"InstitutionAdministrator", []string{RoleInstitutionAdmin}, Roles{Administrator: true}},
		{"SystemAdministrator", []string{RoleSystemAdmin}, Roles{Administrator: true}},
		// Institution roles say nothing about this course.
		{"InstitutionInstructorIsNotCourseInstructor", []string{"http://purl.imsglobal.org/vocab/lis/v2/institution/person#Instructor"},
			Roles{Other: []string{"http://purl.imsglobal.org/vocab/lis/v2/institution/person#Instructor"}}},
		{"InstitutionStaff", []string{RoleInstitutionStaff}, Roles{Other: []string{RoleInstitutionStaff}}},
		{"SystemUser", []string{"http://purl.imsglobal.org/vocab/lis/v2/system/person#User"},
			Roles{Other: []string{"http://purl.imsglobal.org/vocab/lis/v2/system/person#User"}}},
		{"LTI11URN", []string{"urn:lti:role:ims/lis/Instructor"}, Roles{Other: []string{"urn:lti:role:ims/lis/Instructor"}}},
		{"UnknownValuesKept", []string{"Wizard", "http://example.com/roles#Owl"}, Roles{Other: []string{"Wizard", "http://example.com/roles#Owl"}}},
		{"WrongCase", []string{"instructor"}, Roles{Other: []string{"instructor"}}},
		{"Whitespace", []string{"  " + RoleInstructor + "\t"}, Roles{Instructor: true}},
		{"BlanksIgnored", []string{"", "  ", "\n", RoleLearner}, Roles{Learner: true}},
		{"Empty", []string{}, Roles{}},
		{"Nil", nil, Roles{}},
		{"MixedFullShortAndUnknown", []string{RoleLearner, "Mentor", "Observer"}, Roles{Learner: true, Mentor: true, Other: []string{"Observer"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ParseRoles(tc.values); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseRoles(%q) = %+v, want %+v", tc.values, got, tc.want)
			}
		})
	}
}

// flags is the comparable part of Roles.
type flags struct{ learner, instructor, ta, developer, mentor, admin bool }

func roleFlags(r Roles) flags {
	return flags{r.Learner, r.Instructor, r.TeachingAssistant, r.ContentDeveloper, r.Mentor, r.Administrator}
}

func orFlags(a, b flags) flags {
	return flags{
		a.learner || b.learner, a.instructor || b.instructor, a.ta || b.ta,
		a.developer || b.developer, a.mentor || b.mentor, a.admin || b.admin,
	}
}

// FuzzParseRoles: each value counts on its own (flags are the union of the
// values' flags, whatever the order), every non-blank value either means a
// role or is kept in Other, and what is kept in Other means nothing.
func FuzzParseRoles(f *testing.F) {
	f.Add(RoleInstructor + "\n" + "Learner")
	f.Add(RoleTeachingAssistant + "\n \n" + RoleSystemAdmin)
	f.Add("Instructor#TeachingAssistant\nurn:lti:role:ims/lis/Learner")
	f.Add("http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#\n#\n")
	f.Add("http://purl.imsglobal.org/vocab/lis/v2/membership#Learner#Instructor")
	f.Add("\x00\n\u00a0Learner\u00a0")
	f.Fuzz(func(t *testing.T, joined string) {
		values := strings.Split(joined, "\n")
		r := ParseRoles(values)

		var union flags
		var nonBlank []string
		for _, v := range values {
			one := ParseRoles([]string{v})
			union = orFlags(union, roleFlags(one))
			if strings.TrimSpace(v) == "" {
				if !reflect.DeepEqual(one, Roles{}) {
					t.Fatalf("blank value %q means %+v", v, one)
				}
				continue
			}
			nonBlank = append(nonBlank, v)
			if roleFlags(one) == (flags{}) && !reflect.DeepEqual(one.Other, []string{strings.TrimSpace(v)}) {
				t.Fatalf("value %q neither means a role nor is kept: %+v", v, one)
			}
			if roleFlags(one) != (flags{}) && len(one.Other) != 0 {
				t.Fatalf("value %q both means a role and is kept as unknown: %+v", v, one)
			}
		}
		if roleFlags(r) != union {
			t.Fatalf("ParseRoles(%q) = %+v, want the union %+v", values, r, union)
		}
		if len(r.Other) > len(nonBlank) {
			t.Fatalf("more unknown roles than values: %q", r.Other)
		}
		again := ParseRoles(r.Other)
		if roleFlags(again) != (flags{}) || !slices.Equal(again.Other, r.Other) {
			t.Fatalf("unknown roles %q reparse as %+v", r.Other, again)
		}
		reversed := slices.Clone(values)
		slices.Reverse(reversed)
		if roleFlags(ParseRoles(reversed)) != roleFlags(r) {
			t.Fatalf("role flags depend on the order of %q", values)
		}
	})
}
