package tenant

import (
	"net/url"
	"strings"
)

// extraFrameOrigins names, per LMS family, the origins that embed the tool
// although they are neither the issuer nor the authorization URL: Canvas
// Cloud shows courses on each school's *.instructure.com host under one
// shared issuer, and Blackboard Learn SaaS on *.blackboard.com hosts.
func extraFrameOrigins(issuer string) []string {
	u, err := url.Parse(issuer)
	if err != nil {
		return nil
	}
	host := strings.ToLower(u.Hostname())
	switch {
	case host == "canvas.instructure.com" || host == "canvas.beta.instructure.com" || host == "canvas.test.instructure.com":
		return []string{"https://*.instructure.com"}
	case host == "blackboard.com" || strings.HasSuffix(host, ".blackboard.com"):
		return []string{"https://*.blackboard.com"}
	}
	return nil
}

// assertionAudience is the audience a registration's client assertions
// name besides the token URL they are posted to, or "". An assertion is
// always addressed to its token URL (Canvas requires exactly that, while
// its authorization_server is a bare host such as sso.canvaslms.com); the
// declared token audience is added second only for LMS families whose
// token endpoint wants its own OAuth2 audience (Brightspace), and when an
// administrator entered one by hand.
func (p Platform) assertionAudience() string {
	aud := strings.TrimSpace(p.TokenAudience)
	if aud == "" || aud == p.TokenURL {
		return ""
	}
	if p.RegisteredBy == RegisteredDynamically && !familyNeedsTokenAudience(p.LMSFamily) {
		return ""
	}
	return aud
}

// familyNeedsTokenAudience names the LMS families whose token endpoint
// requires an audience other than its URL: Brightspace's is
// https://api.brightspace.com/auth/token.
func familyNeedsTokenAudience(family string) bool {
	return family == "brightspace"
}
