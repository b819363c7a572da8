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
