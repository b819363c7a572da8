package lms_test

import (
	"slices"
	"testing"

	"github.com/roundtable-lms/roundtable/internal/lms"
	"github.com/roundtable-lms/roundtable/lti"
)

// Each family's adapter is found from what its LMS sends: the
// product_family_code of its OpenID configuration when it registers, the
// code Roundtable kept, or a cloud service's shared issuer.
func TestEachFamilyIsFoundFromWhatItsLMSSends(t *testing.T) {
	configuration := func(code string) *lti.PlatformConfiguration {
		return &lti.PlatformConfiguration{Issuer: "https://lms.example.edu", LTI: &lti.PlatformConfigurationClaim{ProductFamilyCode: code}}
	}
	for code, want := range map[string]lms.Family{
		"moodle": lms.Moodle, "canvas": lms.Canvas, "desire2learn": lms.Brightspace, "d2l": lms.Brightspace,
		"BlackboardLearn": lms.Blackboard, "Blackboard Learn": lms.Blackboard, "Sakai": lms.Sakai, " schoology ": lms.Schoology,
		"Other-LMS": lms.Generic("other-lms"), "roundtable-demo-lms": lms.Generic("roundtable-demo-lms"),
	} {
		if got := lms.FromConfiguration(configuration(code)); got != want {
			t.Errorf("product_family_code %q: %#v, want %#v", code, got, want)
		}
	}
	if got := lms.FromConfiguration(&lti.PlatformConfiguration{Issuer: "https://lms.example.edu"}); got != lms.Generic("") {
		t.Errorf("no platform configuration claim: %#v", got)
	}
	// The code kept with a registration finds its family again.
	for _, f := range lms.Families() {
		if got := lms.ByCode(f.Code()); got != f {
			t.Errorf("stored code %q: %#v", f.Code(), got)
		}
		if !slices.Contains(f.ProductFamilyCodes(), f.Code()) {
			t.Errorf("%s: code %q is not among its product family codes %v", f.Name(), f.Code(), f.ProductFamilyCodes())
		}
	}
	for issuer, want := range map[string]lms.Family{
		"https://canvas.instructure.com":              lms.Canvas,
		"https://canvas.beta.instructure.com":         lms.Canvas,
		"https://CANVAS.test.instructure.com/":        lms.Canvas,
		"https://blackboard.com":                      lms.Blackboard,
		"https://school.blackboard.com":               lms.Blackboard,
		"https://canvas.school.edu":                   lms.Generic(""),
		"https://school.instructure.com":              lms.Generic(""),
		"https://canvas.instructure.com.evil.example": lms.Generic(""),
		"https://notblackboard.com":                   lms.Generic(""),
		"https://moodle.example.edu":                  lms.Generic(""),
		"::not a URL":                                 lms.Generic(""),
	} {
		if got := lms.ByIssuer(issuer); got != want {
			t.Errorf("issuer %q: %#v, want %#v", issuer, got, want)
		}
	}
}

// No two families claim one product family code.
func TestProductFamilyCodesAreEachOnesOwn(t *testing.T) {
	owner := map[string]string{}
	for _, f := range lms.Families() {
		for _, c := range f.ProductFamilyCodes() {
			if o, taken := owner[c]; taken {
				t.Errorf("%q is claimed by %s and %s", c, o, f.Name())
			}
			owner[c] = f.Name()
		}
	}
}

// What each family departs from plain LTI 1.3 in, and only those.
func TestEachFamilysQuirks(t *testing.T) {
	for _, f := range append(lms.Families(), lms.Generic("other")) {
		if got, want := f.WantsDeclaredTokenAudience(), f == lms.Brightspace; got != want {
			t.Errorf("%s wants the declared token audience: %v", f.Name(), got)
		}
		origins := f.CloudFrameOrigins()
		_, endpoints := f.CloudEndpoints()
		switch f {
		case lms.Canvas:
			if !slices.Equal(origins, []string{"https://*.instructure.com"}) || !endpoints {
				t.Errorf("Canvas Cloud frames from %v, endpoints %v", origins, endpoints)
			}
		case lms.Blackboard:
			if !slices.Equal(origins, []string{"https://*.blackboard.com"}) || !endpoints {
				t.Errorf("Blackboard Learn SaaS frames from %v, endpoints %v", origins, endpoints)
			}
		default:
			if len(origins) != 0 || endpoints {
				t.Errorf("%s has a cloud service: %v, %v", f.Name(), origins, endpoints)
			}
		}
	}
	names := map[lms.Family]string{lms.Moodle: "Moodle", lms.Canvas: "Canvas", lms.Brightspace: "Brightspace", lms.Blackboard: "Blackboard Learn",
		lms.Sakai: "Sakai", lms.Schoology: "Schoology", lms.Generic("roundtable-demo-lms"): "Demo LMS", lms.Generic("other-lms"): "other-lms", lms.Generic(""): ""}
	for f, want := range names {
		if got := f.Name(); got != want {
			t.Errorf("%q is called %q, want %q", f.Code(), got, want)
		}
	}
}

// A registration request offers every family's placements; a launch is
// read for every family's section parameter, Canvas's first.
func TestWhatRegistrationAndLaunchesAskOfEveryFamily(t *testing.T) {
	resourceLink, deepLinking := lms.Placements()
	if !slices.Equal(resourceLink, []string{"course_navigation"}) ||
		!slices.Equal(deepLinking, []string{"link_selection", "assignment_selection", "editor_button", "ContentArea", "RichTextEditor"}) {
		t.Errorf("placements %v, %v", resourceLink, deepLinking)
	}
	if got := lms.SectionIDParams(); !slices.Equal(got, []string{"canvas_section_ids", "section_ids"}) {
		t.Errorf("section parameters %v", got)
	}
	if param, value := lms.SectionIDsRequest(); param != "section_ids" || value != "$Canvas.course.sectionIds" {
		t.Errorf("registration asks %s=%s", param, value)
	}
	if got, want := lms.RegistrationURLLabels(), "Moodle: Tool URL; Canvas: Dynamic Registration URL; Brightspace: Tool initiation registration endpoint; Sakai: LTI Advantage auto-registration URL"; got != want {
		t.Errorf("registration URL labels %q, want %q", got, want)
	}
}

// Canvas's developer key names its placements with the message each
// sends, in Canvas's extension.
func TestCanvasDeveloperKey(t *testing.T) {
	doc := lms.Canvas.DeveloperKey(lms.Tool{ID: "roundtable", Title: "Roundtable", LaunchURL: "https://rt.example/lti/launch", Domain: "rt.example"})
	ext := doc["extensions"].([]any)[0].(map[string]any)
	if ext["platform"] != "canvas.instructure.com" || ext["domain"] != "rt.example" || ext["tool_id"] != "roundtable" {
		t.Errorf("extension %v", ext)
	}
	var got []string
	for _, p := range ext["settings"].(map[string]any)["placements"].([]any) {
		m := p.(map[string]any)
		got = append(got, m["placement"].(string)+"="+m["message_type"].(string))
		if m["target_link_uri"] != "https://rt.example/lti/launch" {
			t.Errorf("placement %v", m)
		}
	}
	want := []string{"course_navigation=" + lti.MessageResourceLink, "link_selection=" + lti.MessageDeepLinking,
		"assignment_selection=" + lti.MessageDeepLinking, "editor_button=" + lti.MessageDeepLinking}
	if !slices.Equal(got, want) {
		t.Errorf("placements %v, want %v", got, want)
	}
}
