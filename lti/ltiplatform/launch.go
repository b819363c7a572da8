package ltiplatform

import (
	"crypto/rand"
	"net/url"
	"time"

	"github.com/roundtable-lms/roundtable/lti"
)

// LaunchRequest asks the platform to launch a tool for a user.
type LaunchRequest struct {
	ClientID string
	UserID   string
	// CourseID may be empty: a launch with no context.
	CourseID       string
	ResourceLinkID string
	// MessageType defaults to LtiResourceLinkRequest.
	MessageType string
	// TargetLinkURI defaults to the tool's.
	TargetLinkURI string
	// StorageTarget is sent as lti_storage_target ("_parent" when the
	// launching page offers postMessage storage).
	StorageTarget string
	// Tamper forges the id_token this launch will issue.
	Tamper *Tamper
	// DeepLinking sets the deep_linking_settings of an
	// LtiDeepLinkingRequest; nil means DefaultDeepLinkSettings.
	DeepLinking *DeepLinkSettings
	// LIS, when set, is sent as the lis claim.
	LIS *lti.LISClaim
	// Variables are this launch's values of further custom parameter
	// variables, such as $Canvas.course.sectionIds for the user's sections.
	Variables map[string]string
	// ForUserID is, for an LtiSubmissionReviewRequest, the person whose
	// work UserID reviews: sent as the for_user claim.
	ForUserID string
}

// pendingLaunch is what an lti_message_hint stands for.
type pendingLaunch struct {
	LaunchRequest
	expires time.Time
	// deepLink is the claim of a deep linking request, registered when
	// the launch started.
	deepLink *lti.DeepLinkingSettingsClaim
}

// StartLaunch registers a pending launch and returns the tool's login
// initiation URL carrying iss, login_hint, target_link_uri,
// lti_message_hint, client_id, lti_deployment_id and, when set,
// lti_storage_target. The hint is single use and expires after ten minutes.
func (p *Platform) StartLaunch(req LaunchRequest) (string, error) {
	if req.MessageType == "" {
		req.MessageType = lti.MessageResourceLink
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if req.ClientID == "" && len(p.toolIDs) > 0 {
		req.ClientID = p.toolIDs[0]
	}
	tool, ok := p.tools[req.ClientID]
	if !ok {
		return "", notFound("tool", req.ClientID)
	}
	if req.UserID == "" {
		// The OIDC login needs a login_hint; anonymous launches are made by
		// removing identity claims with Tamper.
		return "", invalid("launch needs a user")
	}
	if _, ok := p.users[req.UserID]; !ok {
		return "", notFound("user", req.UserID)
	}
	if req.CourseID != "" {
		if _, ok := p.courses[req.CourseID]; !ok {
			return "", notFound("course", req.CourseID)
		}
	}
	switch req.MessageType {
	case lti.MessageResourceLink, lti.MessageSubmissionReview:
		if req.MessageType == lti.MessageSubmissionReview {
			if req.ForUserID == "" {
				return "", invalid("a submission review needs the person whose work is reviewed")
			}
			if _, ok := p.users[req.ForUserID]; !ok {
				return "", notFound("user", req.ForUserID)
			}
		}
		link, ok := p.links[req.ResourceLinkID]
		if !ok {
			return "", notFound("resource link", req.ResourceLinkID)
		}
		if link.CourseID != req.CourseID {
			return "", invalid("resource link %q is not in course %q", link.ID, req.CourseID)
		}
		if link.ClientID != "" && link.ClientID != req.ClientID {
			return "", invalid("resource link %q launches tool %q, not %q", link.ID, link.ClientID, req.ClientID)
		}
		if req.TargetLinkURI == "" && req.MessageType == lti.MessageSubmissionReview {
			// The line item may name where its reviews open.
			if sr := p.linkReviewLocked(link); sr != nil {
				req.TargetLinkURI = sr.URL
			}
		}
		if req.TargetLinkURI == "" {
			req.TargetLinkURI = link.URL
		}
	case lti.MessageDeepLinking:
	default:
		return "", invalid("unsupported message type %q", req.MessageType)
	}
	if req.TargetLinkURI == "" {
		req.TargetLinkURI = tool.TargetLinkURI
	}

	now := p.now()
	for h, pl := range p.pending {
		if now.After(pl.expires) {
			delete(p.pending, h)
		}
	}
	hint := rand.Text()
	pl := &pendingLaunch{LaunchRequest: req, expires: now.Add(launchTTL)}
	if req.MessageType == lti.MessageDeepLinking {
		claim := p.newDeepLinkLocked(req, now)
		pl.deepLink = &claim
	}
	p.pending[hint] = pl

	u, err := url.Parse(tool.LoginURL)
	if err != nil {
		return "", invalid("tool login URL: %v", err)
	}
	q := u.Query()
	q.Set("iss", p.cfg.Issuer)
	q.Set("login_hint", req.UserID)
	q.Set("target_link_uri", req.TargetLinkURI)
	q.Set("lti_message_hint", hint)
	q.Set("client_id", tool.ClientID)
	q.Set("lti_deployment_id", tool.DeploymentID)
	if req.StorageTarget != "" {
		q.Set("lti_storage_target", req.StorageTarget)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// takeLaunch consumes a hint: whatever the outcome of the authorization
// request presenting it, it cannot be presented again.
func (p *Platform) takeLaunch(hint string) (*pendingLaunch, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pl, ok := p.pending[hint]
	if !ok {
		return nil, false
	}
	delete(p.pending, hint)
	if p.now().After(pl.expires) {
		return nil, false
	}
	return pl, true
}
