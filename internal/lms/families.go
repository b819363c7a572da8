package lms

import "strings"

// plain is LTI 1.3 as the specification has it: what a family adapter
// does not say otherwise.
type plain struct{}

func (plain) ProductFamilyCodes() []string                     { return nil }
func (plain) CloudIssuer(string) bool                          { return false }
func (plain) CloudFrameOrigins() []string                      { return nil }
func (plain) CloudEndpoints() (Endpoints, bool)                { return Endpoints{}, false }
func (plain) WantsDeclaredTokenAudience() bool                 { return false }
func (plain) SectionIDs() (param, variable string)             { return "", "" }
func (plain) Placements() (resourceLink, deepLinking []string) { return nil, nil }
func (plain) RegistrationURLLabel() string                     { return "" }

// Moodle is Moodle LMS.
var Moodle = moodle{}

type moodle struct{ plain }

func (moodle) Code() string                 { return "moodle" }
func (moodle) Name() string                 { return "Moodle" }
func (moodle) ProductFamilyCodes() []string { return []string{"moodle"} }
func (moodle) RegistrationURLLabel() string { return "Tool URL" }

// Canvas is Instructure Canvas, self-hosted or Canvas Cloud.
var Canvas = canvas{}

type canvas struct{ plain }

func (canvas) Code() string                 { return "canvas" }
func (canvas) Name() string                 { return "Canvas" }
func (canvas) ProductFamilyCodes() []string { return []string{"canvas"} }

// CloudIssuer: Canvas Cloud's issuers, one per environment, shared by
// every school.
func (canvas) CloudIssuer(host string) bool {
	switch host {
	case "canvas.instructure.com", "canvas.beta.instructure.com", "canvas.test.instructure.com":
		return true
	}
	return false
}

// CloudFrameOrigins: Canvas Cloud shows courses on each school's
// *.instructure.com host under the one shared issuer.
func (canvas) CloudFrameOrigins() []string { return []string{"https://*.instructure.com"} }

func (canvas) CloudEndpoints() (Endpoints, bool) {
	return Endpoints{Issuer: "https://canvas.instructure.com", AuthURL: "https://sso.canvaslms.com/api/lti/authorize_redirect",
		TokenURL: "https://sso.canvaslms.com/login/oauth2/token", JWKSURL: "https://sso.canvaslms.com/api/lti/security/jwks"}, true
}

// SectionIDs: a Canvas administrator who enters a developer key by hand
// adds canvas_section_ids=$Canvas.course.sectionIds under Custom Fields.
func (canvas) SectionIDs() (param, variable string) {
	return "canvas_section_ids", "$Canvas.course.sectionIds"
}

// Placements: Canvas turns the generic ContentArea into its
// link_selection placement and keeps the first message of each placement,
// so resource links are offered only in course navigation: offered in
// ContentArea too, they would hide deep linking from Modules.
// editor_button is Canvas's rich-text editor (RichTextEditor elsewhere).
func (canvas) Placements() (resourceLink, deepLinking []string) {
	return []string{"course_navigation"}, []string{"link_selection", "assignment_selection", "editor_button"}
}

func (canvas) RegistrationURLLabel() string { return "Dynamic Registration URL" }

// Brightspace is D2L Brightspace (product family code desire2learn).
var Brightspace = brightspace{}

type brightspace struct{ plain }

func (brightspace) Code() string { return "brightspace" }
func (brightspace) Name() string { return "Brightspace" }
func (brightspace) ProductFamilyCodes() []string {
	return []string{"desire2learn", "d2l", "brightspace"}
}

// WantsDeclaredTokenAudience: Brightspace's token endpoint wants its
// OAuth2 audience, https://api.brightspace.com/auth/token.
func (brightspace) WantsDeclaredTokenAudience() bool { return true }
func (brightspace) RegistrationURLLabel() string     { return "Tool initiation registration endpoint" }

// Blackboard is Anthology Blackboard Learn.
var Blackboard = blackboard{}

type blackboard struct{ plain }

func (blackboard) Code() string { return "blackboard" }
func (blackboard) Name() string { return "Blackboard Learn" }
func (blackboard) ProductFamilyCodes() []string {
	return []string{"blackboardlearn", "blackboard", "blackboard learn"}
}

// CloudIssuer: Blackboard Learn SaaS registers through Blackboard's
// developer portal, under the issuer https://blackboard.com.
func (blackboard) CloudIssuer(host string) bool {
	return host == "blackboard.com" || strings.HasSuffix(host, ".blackboard.com")
}

// CloudFrameOrigins: Blackboard Learn SaaS shows courses on *.blackboard.com hosts.
func (blackboard) CloudFrameOrigins() []string { return []string{"https://*.blackboard.com"} }

func (blackboard) CloudEndpoints() (Endpoints, bool) {
	return Endpoints{Issuer: "https://blackboard.com", AuthURL: "https://developer.blackboard.com/api/v1/gateway/oidcauth",
		TokenURL: "https://developer.blackboard.com/api/v1/gateway/oauth2/jwttoken"}, true
}

// Sakai is Apereo Sakai.
var Sakai = sakai{}

type sakai struct{ plain }

func (sakai) Code() string                 { return "sakai" }
func (sakai) Name() string                 { return "Sakai" }
func (sakai) ProductFamilyCodes() []string { return []string{"sakai"} }
func (sakai) RegistrationURLLabel() string { return "LTI Advantage auto-registration URL" }

// Schoology is PowerSchool Schoology.
var Schoology = schoology{}

type schoology struct{ plain }

func (schoology) Code() string                 { return "schoology" }
func (schoology) Name() string                 { return "Schoology" }
func (schoology) ProductFamilyCodes() []string { return []string{"schoology"} }

// Generic is an LMS without an adapter of its own, served as LTI 1.3 has
// it; its value is the product_family_code it sent, lowercased ("" for
// none).
type Generic string

// genericNames name the LMSs without an adapter that Roundtable knows by
// name: the demo LMS (lti/ltiplatform's default product family code).
var genericNames = map[string]string{"roundtable-demo-lms": "Demo LMS"}

func (g Generic) Code() string { return string(g) }

func (g Generic) Name() string {
	if n, ok := genericNames[string(g)]; ok {
		return n
	}
	return string(g)
}

func (Generic) ProductFamilyCodes() []string      { return nil }
func (Generic) CloudIssuer(string) bool           { return false }
func (Generic) CloudFrameOrigins() []string       { return nil }
func (Generic) CloudEndpoints() (Endpoints, bool) { return Endpoints{}, false }
func (Generic) WantsDeclaredTokenAudience() bool  { return false }

// SectionIDs: section_ids, for any LMS that substitutes the person's
// section ids into a custom parameter.
func (Generic) SectionIDs() (param, variable string) { return "section_ids", "" }

// Placements: the placement names of LTI Dynamic Registration.
func (Generic) Placements() (resourceLink, deepLinking []string) {
	return nil, []string{"ContentArea", "RichTextEditor"}
}

func (Generic) RegistrationURLLabel() string { return "" }
