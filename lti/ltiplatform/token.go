package ltiplatform

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"hash"
	"maps"
	"strings"

	"github.com/roundtable-lms/roundtable/lti"
)

// Tamper forges an id_token the way an attacker or a broken platform would,
// so tests can check that a tool rejects it. The zero value changes nothing.
type Tamper struct {
	// Claims mutates the claims before signing. Values are plain JSON
	// values (map[string]any, []any, string, float64, bool), so nested
	// claims can be edited or deleted.
	Claims func(claims map[string]any)
	// Header mutates the JOSE header last, after the options below.
	Header func(header map[string]any)
	// OmitKID drops the kid header.
	OmitKID bool
	// KID replaces the kid header (an unknown or wrong kid).
	KID string
	// SigningKey signs instead of the platform key (another platform's key,
	// see NewForeignKey). RSA keys only.
	SigningKey crypto.Signer
	// Algorithm replaces RS256: RS384, RS512, PS256, "none", or HS256/384/512.
	// HMAC algorithms use HMACSecret, by default the platform's public key
	// PEM: the classic algorithm-confusion attack.
	Algorithm string
	// HMACSecret overrides the HMAC secret.
	HMACSecret []byte
}

// idTokenClaims builds the claims of a launch's id_token.
func (p *Platform) idTokenClaims(pl *pendingLaunch, nonce string) (map[string]any, error) {
	p.mu.RLock()
	tool, okTool := p.tools[pl.ClientID]
	user, okUser := p.users[pl.UserID]
	course, okCourse := p.courses[pl.CourseID]
	link, okLink := p.links[pl.ResourceLinkID]
	roles := p.rolesLocked(pl.CourseID, pl.UserID)
	forUser, okForUser := p.users[pl.ForUserID]
	forRoles := p.rolesLocked(pl.CourseID, pl.ForUserID)
	var review *SubmissionReview
	if okLink && pl.MessageType == lti.MessageSubmissionReview {
		review = p.linkReviewLocked(link)
	}
	p.mu.RUnlock()
	if !okTool || !okUser || (pl.CourseID != "" && !okCourse) {
		return nil, fmt.Errorf("launch refers to data removed since it started")
	}
	if roles == nil {
		roles = []string{} // the roles claim is required even when empty
	}

	now := p.now()
	c := map[string]any{
		"iss":   p.cfg.Issuer,
		"sub":   user.ID,
		"aud":   tool.ClientID,
		"azp":   tool.ClientID,
		"iat":   now.Unix(),
		"exp":   now.Add(tokenTTL).Unix(),
		"nonce": nonce,

		lti.ClaimVersion:       lti.Version,
		lti.ClaimMessageType:   pl.MessageType,
		lti.ClaimDeploymentID:  tool.DeploymentID,
		lti.ClaimTargetLinkURI: pl.TargetLinkURI,
		lti.ClaimRoles:         roles,
		lti.ClaimToolPlatform: lti.ToolPlatformClaim{
			GUID:              p.cfg.GUID,
			Name:              p.cfg.Name,
			URL:               p.cfg.Issuer,
			ProductFamilyCode: p.cfg.ProductFamilyCode,
			Version:           platformVersion,
		},
	}
	for k, v := range map[string]string{
		"name": user.Name, "given_name": user.GivenName, "family_name": user.FamilyName,
		"email": user.Email, "picture": user.Picture, "locale": user.Locale,
	} {
		if v != "" {
			c[k] = v
		}
	}
	locale := user.Locale
	if locale == "" {
		locale = "en"
	}
	returnURL := p.URL("/")
	if okCourse {
		returnURL = p.URL("/courses/" + course.ID)
		c[lti.ClaimContext] = lti.ContextClaim{
			ID: course.ID, Label: course.Label, Title: course.Title,
			Type: []string{ContextTypeCourseOffering},
		}
		// Service claims name only what the tool may use; a link with a
		// line item names it too.
		linkID := ""
		if pl.MessageType == lti.MessageResourceLink || pl.MessageType == lti.MessageSubmissionReview {
			linkID = pl.ResourceLinkID
		}
		if ags := p.agsClaim(tool, course.ID, linkID); ags != nil {
			c[lti.ClaimAGSEndpoint] = *ags
		}
		if nrps := p.nrpsClaim(tool, course.ID); nrps != nil {
			c[lti.ClaimNRPS] = *nrps
		}
	}
	c[lti.ClaimLaunchPresentation] = lti.LaunchPresentationClaim{
		DocumentTarget: "iframe", ReturnURL: returnURL, Locale: locale,
	}

	switch pl.MessageType {
	case lti.MessageResourceLink, lti.MessageSubmissionReview:
		if !okLink {
			return nil, fmt.Errorf("launch refers to a resource link removed since it started")
		}
		c[lti.ClaimResourceLink] = lti.ResourceLinkClaim{ID: link.ID, Title: link.Title, Description: link.Description}
		if review != nil && len(review.Custom) > 0 {
			// A review's own custom parameters come on top of the link's.
			link.Custom = maps.Clone(link.Custom)
			if link.Custom == nil {
				link.Custom = map[string]string{}
			}
			maps.Copy(link.Custom, review.Custom)
		}
		if len(link.Custom) > 0 || len(tool.Custom) > 0 {
			vars := map[string]string{"$User.id": user.ID, "$ResourceLink.id": link.ID}
			if okCourse {
				vars["$Context.id"] = course.ID
				vars["$Context.id.history"] = strings.Join(course.History, ",")
			}
			for k, v := range pl.Variables {
				vars[k] = v
			}
			custom := maps.Clone(tool.Custom)
			if custom == nil {
				custom = map[string]string{}
			}
			maps.Copy(custom, link.Custom)
			c[lti.ClaimCustom] = substitute(custom, vars)
		}
		if pl.LIS != nil {
			c[lti.ClaimLIS] = map[string]string{"person_sourcedid": pl.LIS.PersonSourcedID,
				"course_offering_sourcedid": pl.LIS.CourseOfferingSourcedID, "course_section_sourcedid": pl.LIS.CourseSectionSourcedID}
		}
		if pl.MessageType == lti.MessageSubmissionReview {
			// The reviewer is sub; the person whose work is shown, for_user.
			if !okForUser {
				return nil, fmt.Errorf("submission review of a user removed since it started")
			}
			c[lti.ClaimForUser] = lti.ForUser{UserID: forUser.ID, GivenName: forUser.GivenName, FamilyName: forUser.FamilyName,
				Name: forUser.Name, Email: forUser.Email, Roles: forRoles}
		}
	case lti.MessageDeepLinking:
		claim := pl.deepLink
		if claim == nil {
			// LaunchClaims: a request registered now, so a response to it
			// can still be returned.
			p.mu.Lock()
			fresh := p.newDeepLinkLocked(pl.LaunchRequest, now)
			p.mu.Unlock()
			claim = &fresh
		}
		c[lti.ClaimDeepLinkingSettings] = *claim
	}
	return c, nil
}

// substitute resolves custom parameter values that are exactly a known
// $variable; unknown variables are sent literally, as LTI requires.
func substitute(custom map[string]string, vars map[string]string) map[string]string {
	out := make(map[string]string, len(custom))
	for k, v := range custom {
		if r, ok := vars[strings.TrimSpace(v)]; ok {
			v = r
		}
		out[k] = v
	}
	return out
}

// SignIDToken signs claims as this platform would, applying t when not nil.
// Claims may hold any JSON-marshalable values; t.Claims sees them as plain
// JSON values.
func (p *Platform) SignIDToken(claims map[string]any, t *Tamper) (string, error) {
	if t == nil {
		t = &Tamper{}
	}
	if t.Claims != nil {
		plain, err := plainJSON(claims)
		if err != nil {
			return "", err
		}
		t.Claims(plain)
		claims = plain
	}
	alg := "RS256"
	if t.Algorithm != "" {
		alg = t.Algorithm
	}
	header := map[string]any{"typ": "JWT", "alg": alg, "kid": p.kid}
	if t.KID != "" {
		header["kid"] = t.KID
	}
	if t.OmitKID {
		delete(header, "kid")
	}
	if t.Header != nil {
		t.Header(header)
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("marshal claims: %w", err)
	}
	input := b64(hb) + "." + b64(cb)

	var key crypto.Signer = p.key
	if t.SigningKey != nil {
		key = t.SigningKey
	}
	sig, err := p.sign(alg, []byte(input), key, t.HMACSecret)
	if err != nil {
		return "", err
	}
	return input + "." + b64(sig), nil
}

func (p *Platform) sign(alg string, input []byte, key crypto.Signer, secret []byte) ([]byte, error) {
	hmacWith := func(h func() hash.Hash) []byte {
		if secret == nil {
			secret = p.PublicKeyPEM()
		}
		m := hmac.New(h, secret)
		m.Write(input)
		return m.Sum(nil)
	}
	rsaWith := func(h crypto.Hash, pss bool) ([]byte, error) {
		d := h.New()
		d.Write(input)
		var opts crypto.SignerOpts = h
		if pss {
			opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h}
		}
		return key.Sign(rand.Reader, d.Sum(nil), opts)
	}
	switch alg {
	case "none":
		return nil, nil
	case "HS256":
		return hmacWith(sha256.New), nil
	case "HS384":
		return hmacWith(sha512.New384), nil
	case "HS512":
		return hmacWith(sha512.New), nil
	case "RS256":
		return rsaWith(crypto.SHA256, false)
	case "RS384":
		return rsaWith(crypto.SHA384, false)
	case "RS512":
		return rsaWith(crypto.SHA512, false)
	case "PS256":
		return rsaWith(crypto.SHA256, true)
	default:
		return nil, fmt.Errorf("ltiplatform: unsupported algorithm %q", alg)
	}
}

// plainJSON turns claims into plain JSON values through a round trip.
func plainJSON(claims map[string]any) (map[string]any, error) {
	b, err := json.Marshal(claims)
	if err != nil {
		return nil, fmt.Errorf("marshal claims: %w", err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	if out == nil {
		out = map[string]any{}
	}
	return out, nil
}

// LaunchClaims returns the claims the platform would sign for a launch
// request, before any Tamper, with the given nonce: tests use it to sign
// variants with SignIDToken.
func (p *Platform) LaunchClaims(req LaunchRequest, nonce string) (map[string]any, error) {
	if req.MessageType == "" {
		req.MessageType = lti.MessageResourceLink
	}
	if req.TargetLinkURI == "" {
		t, err := p.Tool(req.ClientID)
		if err != nil {
			return nil, err
		}
		req.TargetLinkURI = t.TargetLinkURI
	}
	c, err := p.idTokenClaims(&pendingLaunch{LaunchRequest: req}, nonce)
	if err != nil {
		return nil, err
	}
	return plainJSON(c)
}
