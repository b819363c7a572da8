package tenant_test

import (
	"testing"

	"github.com/roundtable-lms/roundtable/internal/lms"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/lti"
)

// A registration's family is the one its configuration named when it
// registered dynamically, else the one its issuer names; a registration
// made by hand for a school's own LMS is served as plain LTI 1.3.
func TestTheFamilyOfARegistration(t *testing.T) {
	answer := &lti.ClientRegistration{ClientID: "c"}
	selfHosted := canvasConfiguration()
	selfHosted.Issuer = "https://canvas.school.edu"
	for name, c := range map[string]struct {
		p    tenant.Platform
		want lms.Family
	}{
		"Canvas Cloud, dynamic":  {tenant.FromDynamicRegistration(canvasConfiguration(), answer, "", tenant.StatusActive), lms.Canvas},
		"Canvas at a school":     {tenant.FromDynamicRegistration(selfHosted, answer, "", tenant.StatusActive), lms.Canvas},
		"Canvas Cloud, by hand":  {canvas("1"), lms.Canvas},
		"Blackboard SaaS":        {tenant.Platform{Issuer: "https://blackboard.com"}, lms.Blackboard},
		"a school's LMS by hand": {tenant.Platform{Issuer: "https://moodle.example.edu"}, lms.Generic("")},
		"a kept code":            {tenant.Platform{Issuer: "https://lms.example.edu", LMSFamily: "brightspace"}, lms.Brightspace},
	} {
		if got := c.p.Family(); got != c.want {
			t.Errorf("%s: %#v, want %#v", name, got, c.want)
		}
	}
}
