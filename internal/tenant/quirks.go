package tenant

import (
	"strings"

	"github.com/roundtable-lms/roundtable/internal/lms"
)

// Family is the registration's LMS family: the one its configuration
// named when it registered dynamically, else the one its issuer names (a
// cloud service's shared issuer), else the generic LTI 1.3 adapter.
func (p Platform) Family() lms.Family {
	if p.LMSFamily != "" {
		return lms.ByCode(p.LMSFamily)
	}
	return lms.ByIssuer(p.Issuer)
}

// assertionAudience is the audience a registration's client assertions
// name besides the token URL they are posted to, or "". An assertion is
// always addressed to its token URL (Canvas requires exactly that, while
// its authorization_server is a bare host such as sso.canvaslms.com); the
// declared token audience is added second only for LMS families whose
// token endpoint wants its own OAuth2 audience (lms.Family
// WantsDeclaredTokenAudience), and when an administrator entered one by
// hand.
func (p Platform) assertionAudience() string {
	aud := strings.TrimSpace(p.TokenAudience)
	if aud == "" || aud == p.TokenURL {
		return ""
	}
	if p.RegisteredBy == RegisteredDynamically && !p.Family().WantsDeclaredTokenAudience() {
		return ""
	}
	return aud
}
