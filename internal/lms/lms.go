// Package lms holds what Roundtable knows of each LMS family: how to tell
// the family from what its LMS sends, and where it departs from plain LTI
// 1.3 (registration, token audiences, cohorts, naming, frames). There is
// one adapter per family, each a value of Family; an LMS without one is
// served by the generic LTI 1.3 adapter. Callers ask the family of a
// registration (ByCode, ByIssuer, FromConfiguration) and then ask it,
// never comparing family strings or issuer hosts themselves.
package lms

import (
	"net/url"
	"slices"
	"strings"

	"github.com/roundtable-lms/roundtable/lti"
)

// Family is what Roundtable asks of an LMS family.
type Family interface {
	// Code is the family's one spelling, kept with a registration
	// (platforms.lms_family): "canvas", "brightspace". An LMS without an
	// adapter keeps its own product_family_code, lowercased; "" when it
	// sent none.
	Code() string
	// Name is what people call the LMS ("Blackboard Learn"); for an LMS
	// without an adapter, its code.
	Name() string
	// ProductFamilyCodes are the product_family_code values the family's
	// LMSs send, lowercased.
	ProductFamilyCodes() []string
	// CloudIssuer reports whether host is an issuer that the family's
	// cloud service shares among its customers: such an issuer names the
	// family without a product_family_code (a registration made by hand,
	// a login).
	CloudIssuer(host string) bool
	// CloudFrameOrigins are the origins that show the courses of the
	// family's cloud service in a frame besides the issuer and the
	// authorization URL: each school's own host under the shared issuer.
	CloudFrameOrigins() []string
	// CloudEndpoints are the registration's URLs where they are the same
	// for every customer of the family's cloud service, to fill in a
	// registration made by hand.
	CloudEndpoints() (Endpoints, bool)
	// WantsDeclaredTokenAudience reports whether the LMS's token endpoint
	// wants the authorization_server its configuration declares as a
	// second audience of client assertions, after the token URL.
	WantsDeclaredTokenAudience() bool
	// SectionIDs names where a launch carries the person's LMS section
	// ids: the custom parameter, and the variable the LMS substitutes
	// with them ("" when it has none of its own).
	SectionIDs() (param, variable string)
	// Placements are the family's names of the places a registration
	// request offers Roundtable's resource links and deep linking in.
	Placements() (resourceLink, deepLinking []string)
	// RegistrationURLLabel is what the LMS calls the field an
	// administrator pastes the dynamic registration URL into; "" when it
	// has no such field or Roundtable does not know its name.
	RegistrationURLLabel() string
}

// Endpoints are the URLs of a registration that an LMS's cloud service
// shares among its customers.
type Endpoints struct {
	Issuer, AuthURL, TokenURL, JWKSURL string
}

// families are the adapters, in the order their placements, section
// parameters and names are listed; Generic comes after them.
var families = []Family{Moodle, Canvas, Brightspace, Blackboard, Sakai, Schoology}

// Families lists the adapters of the LMS families Roundtable knows, in a
// fixed order, without the generic one.
func Families() []Family { return append([]Family(nil), families...) }

// ByCode is the family of a product_family_code, or of the code a
// registration keeps (Family.Code): its adapter, else the generic one
// holding the code.
func ByCode(code string) Family {
	code = strings.ToLower(strings.TrimSpace(code))
	for _, f := range families {
		if slices.Contains(f.ProductFamilyCodes(), code) {
			return f
		}
	}
	return Generic(code)
}

// FromConfiguration is the family of an LMS that registers by LTI Dynamic
// Registration, from the product_family_code of its OpenID configuration.
func FromConfiguration(cfg *lti.PlatformConfiguration) Family {
	if cfg == nil || cfg.LTI == nil {
		return Generic("")
	}
	return ByCode(cfg.LTI.ProductFamilyCode)
}

// ByIssuer is the family whose cloud service shares issuer, else the
// generic adapter without a code: most issuers name a school's own LMS,
// whose family only its configuration tells.
func ByIssuer(issuer string) Family {
	u, err := url.Parse(issuer)
	if err != nil {
		return Generic("")
	}
	host := strings.ToLower(u.Hostname())
	for _, f := range families {
		if f.CloudIssuer(host) {
			return f
		}
	}
	return Generic("")
}

// Placements lists every family's placements, each once, in the order of
// the families and the generic adapter last: a registration request offers
// them all, and each LMS takes the names it knows.
func Placements() (resourceLink, deepLinking []string) {
	for _, f := range append(Families(), Generic("")) {
		r, d := f.Placements()
		resourceLink, deepLinking = appendNew(resourceLink, r...), appendNew(deepLinking, d...)
	}
	return resourceLink, deepLinking
}

// SectionIDParams lists the custom parameters that carry a person's
// section ids, each family's then the generic one: a launch is read for
// them whatever its family, first found first.
func SectionIDParams() []string {
	var out []string
	for _, f := range append(Families(), Generic("")) {
		if p, _ := f.SectionIDs(); p != "" {
			out = appendNew(out, p)
		}
	}
	return out
}

// SectionIDsRequest is the custom parameter a registration request asks
// every LMS to send, and its value: the generic parameter with the
// variable of the family that substitutes one. An LMS that does not know
// the variable is not asked for it (lti.PlatformConfiguration keeps only
// the variables an LMS lists).
func SectionIDsRequest() (param, value string) {
	param, _ = Generic("").SectionIDs()
	for _, f := range families {
		if _, v := f.SectionIDs(); v != "" {
			return param, v
		}
	}
	return param, ""
}

// RegistrationURLLabels names, for the families that have one, the field
// an LMS administrator pastes the dynamic registration URL into:
// "Moodle: Tool URL; Canvas: Dynamic Registration URL; ...".
func RegistrationURLLabels() string {
	var parts []string
	for _, f := range families {
		if l := f.RegistrationURLLabel(); l != "" {
			parts = append(parts, f.Name()+": "+l)
		}
	}
	return strings.Join(parts, "; ")
}

func appendNew(list []string, items ...string) []string {
	for _, it := range items {
		if !slices.Contains(list, it) {
			list = append(list, it)
		}
	}
	return list
}
