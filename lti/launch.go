package lti

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// Launch is a verified LTI message: everything the product needs to know
// about who launched what, with no raw claims left to interpret.
type Launch struct {
	Registration Registration
	MessageType  string
	DeploymentID string

	Subject    string
	Name       string
	GivenName  string
	FamilyName string
	Email      string
	Picture    string
	Locale     string

	// RoleURIs are the roles exactly as sent; Roles is what they mean.
	RoleURIs []string
	Roles    Roles

	// Context is nil for a launch without a course.
	Context            *ContextClaim
	ResourceLink       ResourceLinkClaim
	TargetLinkURI      string
	Custom             map[string]string
	LIS                *LISClaim
	ToolPlatform       *ToolPlatformClaim
	LaunchPresentation *LaunchPresentationClaim
	AGS                *AGSEndpointClaim
	NRPS               *NRPSClaim
	DeepLinking        *DeepLinkingSettingsClaim
	// ForUser is the person whose work a submission review launch
	// (MessageSubmissionReview) asks to see; nil for any other message.
	ForUser *ForUser

	IssuedAt  time.Time
	ExpiresAt time.Time
}

// Validator verifies id_tokens per LTI 1.3 Core and the 1EdTech Security
// Framework.
type Validator struct {
	Keys *KeyCache
	Now  func() time.Time
	// Leeway absorbs clock skew between tool and platform.
	Leeway time.Duration
	// MaxAge rejects tokens issued longer ago than this.
	MaxAge time.Duration
}

// NewValidator returns a validator with the usual leeway.
func NewValidator(keys *KeyCache) *Validator {
	return &Validator{Keys: keys, Now: time.Now, Leeway: time.Minute, MaxAge: time.Hour}
}

// maxIDToken bounds the id_token accepted from a form post.
const maxIDToken = 64 << 10

type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = []string{s}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	*a = list
	return nil
}

// idTokenClaims is the id_token payload. Pointers and json.RawMessage tell a
// missing claim from an empty one.
type idTokenClaims struct {
	Issuer     string   `json:"iss"`
	Subject    string   `json:"sub"`
	Audience   audience `json:"aud"`
	AZP        string   `json:"azp"`
	Expiry     *float64 `json:"exp"`
	IssuedAt   *float64 `json:"iat"`
	Nonce      string   `json:"nonce"`
	Name       string   `json:"name"`
	GivenName  string   `json:"given_name"`
	FamilyName string   `json:"family_name"`
	Email      string   `json:"email"`
	Picture    string   `json:"picture"`
	Locale     string   `json:"locale"`

	MessageType        *string                    `json:"https://purl.imsglobal.org/spec/lti/claim/message_type"`
	Version            *string                    `json:"https://purl.imsglobal.org/spec/lti/claim/version"`
	DeploymentID       *string                    `json:"https://purl.imsglobal.org/spec/lti/claim/deployment_id"`
	TargetLinkURI      string                     `json:"https://purl.imsglobal.org/spec/lti/claim/target_link_uri"`
	ResourceLink       *ResourceLinkClaim         `json:"https://purl.imsglobal.org/spec/lti/claim/resource_link"`
	Roles              *[]string                  `json:"https://purl.imsglobal.org/spec/lti/claim/roles"`
	Context            *ContextClaim              `json:"https://purl.imsglobal.org/spec/lti/claim/context"`
	ToolPlatform       *ToolPlatformClaim         `json:"https://purl.imsglobal.org/spec/lti/claim/tool_platform"`
	LaunchPresentation *LaunchPresentationClaim   `json:"https://purl.imsglobal.org/spec/lti/claim/launch_presentation"`
	Custom             map[string]json.RawMessage `json:"https://purl.imsglobal.org/spec/lti/claim/custom"`
	LIS                json.RawMessage            `json:"https://purl.imsglobal.org/spec/lti/claim/lis"`
	AGS                *AGSEndpointClaim          `json:"https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"`
	NRPS               *NRPSClaim                 `json:"https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"`
	DeepLinking        *DeepLinkingSettingsClaim  `json:"https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"`
	// ForUser is read only for a submission review, where a malformed one
	// refuses the launch with its own reason.
	ForUser json.RawMessage `json:"https://purl.imsglobal.org/spec/lti/claim/for_user"`
}

type joseHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

// TokenIssuer reads the iss claim of an unverified token, to find its
// registration when nothing else names it. Never trust it further.
func TokenIssuer(idToken string) string {
	return peekClaims(idToken).Issuer
}

// TokenDeploymentID reads the deployment_id claim of an unverified token, so
// that its registration check can ride along with another query. Only a
// token that then verifies may be judged by it: its payload is what was
// signed.
func TokenDeploymentID(idToken string) string {
	return peekClaims(idToken).DeploymentID
}

type peekedClaims struct {
	Issuer       string `json:"iss"`
	DeploymentID string `json:"https://purl.imsglobal.org/spec/lti/claim/deployment_id"`
}

func peekClaims(idToken string) peekedClaims {
	var c peekedClaims
	parts := strings.Split(idToken, ".")
	if len(parts) != 3 || len(idToken) > maxIDToken {
		return c
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return c
	}
	json.Unmarshal(payload, &c)
	return c
}

// Token is an id_token split and its payload decoded, not yet verified:
// read once, for what a launch looks up before verifying it
// (DeploymentID) and for ValidateToken after.
type Token struct {
	raw        string
	parts      []string
	payload    []byte
	payloadErr error
	claims     idTokenClaims
	claimsErr  error
}

// ParseToken splits and decodes idToken without verifying anything: a
// malformed token is refused by ValidateToken.
func ParseToken(idToken string) *Token {
	t := &Token{raw: idToken}
	if idToken == "" || len(idToken) > maxIDToken {
		return t
	}
	if t.parts = strings.Split(idToken, "."); len(t.parts) != 3 {
		return t
	}
	if t.payload, t.payloadErr = base64.RawURLEncoding.DecodeString(t.parts[1]); t.payloadErr == nil {
		t.claimsErr = json.Unmarshal(t.payload, &t.claims)
	}
	return t
}

// DeploymentID is the token's unverified deployment_id claim (see
// TokenDeploymentID).
func (t *Token) DeploymentID() string {
	if t.claimsErr != nil || t.claims.DeploymentID == nil {
		return ""
	}
	return *t.claims.DeploymentID
}

// Validate verifies idToken for reg with the nonce the tool issued at login
// and returns the launch it carries. Every failure is an *Error.
func (v *Validator) Validate(ctx context.Context, idToken string, reg Registration, nonce string) (*Launch, error) {
	return v.ValidateToken(ctx, ParseToken(idToken), reg, nonce)
}

// ValidateToken is Validate of a token already parsed: its claims are
// trusted only once its signature verifies.
func (v *Validator) ValidateToken(ctx context.Context, t *Token, reg Registration, nonce string) (*Launch, error) {
	idToken := t.raw
	if idToken == "" {
		return nil, reject(ReasonMalformedToken, msgRelaunch, "no id_token posted")
	}
	if len(idToken) > maxIDToken {
		return nil, reject(ReasonMalformedToken, msgTokenInvalid, "id_token longer than %d bytes", maxIDToken)
	}
	parts := t.parts
	if len(parts) != 3 {
		return nil, reject(ReasonMalformedToken, msgTokenInvalid, "id_token is not a compact JWS (%d parts)", len(parts))
	}
	hdrJSON, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, reject(ReasonMalformedToken, msgTokenInvalid, "id_token header is not base64url: %v", err)
	}
	var hdr joseHeader
	if err := json.Unmarshal(hdrJSON, &hdr); err != nil {
		return nil, reject(ReasonMalformedToken, msgTokenInvalid, "id_token header is not JSON: %v", err)
	}
	if hdr.Alg != "RS256" {
		return nil, reject(ReasonBadAlgorithm, msgTokenInvalid, "alg %q, only RS256 is accepted", hdr.Alg).WithGiven("alg", hdr.Alg)
	}
	if hdr.Kid == "" {
		return nil, reject(ReasonMissingKID, msgTokenInvalid, "id_token header has no kid")
	}
	key, err := v.Keys.Key(ctx, reg.JWKSURL, hdr.Kid)
	if err != nil {
		return nil, err
	}
	if alg := key.Algorithm(); alg != nil && alg.String() != "" && alg.String() != "RS256" {
		return nil, reject(ReasonBadAlgorithm, msgTokenInvalid, "platform key %q is for %s, not RS256", hdr.Kid, alg)
	}
	if err := verifyRS256(parts, key); err != nil {
		return nil, reject(ReasonBadSignature, msgTokenInvalid, "signature does not verify with key %q: %v", hdr.Kid, err)
	}
	// The signature covers the payload decoded at parsing.
	if t.payloadErr != nil {
		return nil, reject(ReasonBadSignature, msgTokenInvalid, "signature does not verify with key %q: %v", hdr.Kid, fmt.Errorf("payload is not base64url: %w", t.payloadErr))
	}
	if t.claimsErr != nil {
		return nil, reject(ReasonMalformedToken, msgTokenInvalid, "claims are not the expected JSON: %v", t.claimsErr)
	}
	return v.check(&t.claims, reg, nonce)
}

// verifyRS256 checks an RS256 signature over a compact JWS split in parts.
// The header was already read and checked; verifying here spares parsing
// the token a second time.
func verifyRS256(parts []string, key jwk.Key) error {
	var pub rsa.PublicKey
	if err := key.Raw(&pub); err != nil {
		return fmt.Errorf("key is not an RSA public key: %w", err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return fmt.Errorf("signature is not base64url: %w", err)
	}
	h := sha256.New()
	h.Write([]byte(parts[0]))
	h.Write([]byte{'.'})
	h.Write([]byte(parts[1]))
	return rsa.VerifyPKCS1v15(&pub, crypto.SHA256, h.Sum(nil), sig)
}

func (v *Validator) check(c *idTokenClaims, reg Registration, nonce string) (*Launch, error) {
	now := v.Now()
	if c.Issuer != reg.Issuer {
		return nil, reject(ReasonBadIssuer, msgTokenInvalid, "iss %q, registration expects %q", c.Issuer, reg.Issuer).WithGiven("iss", c.Issuer)
	}
	found := false
	for _, a := range c.Audience {
		if a == reg.ClientID {
			found = true
		}
	}
	if !found {
		return nil, reject(ReasonBadAudience, msgTokenInvalid, "aud %q does not contain client_id %q", []string(c.Audience), reg.ClientID).WithGiven("aud", strings.Join(c.Audience, " "))
	}
	if (len(c.Audience) > 1 || c.AZP != "") && c.AZP != reg.ClientID {
		return nil, reject(ReasonBadAuthorizedParty, msgTokenInvalid, "azp %q, want %q", c.AZP, reg.ClientID).WithGiven("azp", c.AZP)
	}
	if c.Expiry == nil || c.IssuedAt == nil {
		return nil, reject(ReasonBadTimestamps, msgTokenInvalid, "exp or iat missing")
	}
	exp := time.Unix(int64(*c.Expiry), 0)
	iat := time.Unix(int64(*c.IssuedAt), 0)
	if now.After(exp.Add(v.Leeway)) {
		return nil, reject(ReasonExpired, msgRelaunch, "token expired at %s", exp.UTC().Format(time.RFC3339))
	}
	if iat.After(now.Add(v.Leeway)) || now.Sub(iat) > v.MaxAge || exp.Before(iat) {
		return nil, reject(ReasonBadTimestamps, msgTokenInvalid, "iat %s, exp %s, now %s", iat.UTC().Format(time.RFC3339), exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if c.Nonce == "" || c.Nonce != nonce {
		return nil, reject(ReasonBadNonce, msgRelaunch, "nonce is not the one issued at login")
	}
	if c.Version == nil || *c.Version == "" {
		return nil, reject(ReasonMissingVersion, msgTokenInvalid, "no LTI version claim")
	}
	if *c.Version != Version {
		return nil, reject(ReasonBadVersion, msgTokenInvalid, "LTI version %q, only %s is supported", *c.Version, Version).WithGiven("version", *c.Version)
	}
	if c.MessageType == nil || *c.MessageType == "" {
		return nil, reject(ReasonMissingMessageType, msgTokenInvalid, "no message_type claim")
	}
	mt := *c.MessageType
	if mt != MessageResourceLink && mt != MessageDeepLinking && mt != MessageSubmissionReview {
		return nil, reject(ReasonBadMessageType, msgTokenInvalid, "message_type %q is not supported", mt).WithGiven("message_type", mt)
	}
	if c.DeploymentID == nil || *c.DeploymentID == "" {
		return nil, reject(ReasonMissingDeployment, msgTokenInvalid, "no deployment_id claim")
	}
	if c.Roles == nil {
		return nil, reject(ReasonMissingRoles, msgTokenInvalid, "no roles claim")
	}
	if mt == MessageResourceLink || mt == MessageSubmissionReview {
		// A submission review names its resource link as a resource link
		// launch does; sub is the reviewer.
		if c.Subject == "" {
			return nil, reject(ReasonMissingSubject, msgTokenInvalid, "%s without sub", mt)
		}
		if c.ResourceLink == nil || c.ResourceLink.ID == "" {
			return nil, reject(ReasonMissingResourceLnk, msgTokenInvalid, "no resource_link.id")
		}
		if c.TargetLinkURI == "" {
			return nil, reject(ReasonMissingClaim, msgTokenInvalid, "no target_link_uri claim")
		}
	}
	if mt == MessageDeepLinking {
		if err := checkDeepLinkingSettings(c.DeepLinking); err != nil {
			return nil, err
		}
	}
	var forUser *ForUser
	if mt == MessageSubmissionReview {
		var err error
		if forUser, err = checkForUser(c.ForUser); err != nil {
			return nil, err
		}
	}
	if c.Context != nil && c.Context.ID == "" {
		return nil, reject(ReasonBadClaim, msgTokenInvalid, "context claim without id")
	}
	if err := checkServiceURLs(c); err != nil {
		return nil, err
	}
	l := &Launch{
		Registration:       reg,
		MessageType:        mt,
		DeploymentID:       *c.DeploymentID,
		Subject:            c.Subject,
		Name:               c.Name,
		GivenName:          c.GivenName,
		FamilyName:         c.FamilyName,
		Email:              c.Email,
		Picture:            c.Picture,
		Locale:             c.Locale,
		RoleURIs:           *c.Roles,
		Roles:              ParseRoles(*c.Roles),
		Context:            c.Context,
		TargetLinkURI:      c.TargetLinkURI,
		Custom:             customStrings(c.Custom),
		ToolPlatform:       c.ToolPlatform,
		LaunchPresentation: c.LaunchPresentation,
		AGS:                c.AGS,
		NRPS:               c.NRPS,
		DeepLinking:        c.DeepLinking,
		ForUser:            forUser,
		IssuedAt:           iat,
		ExpiresAt:          exp,
	}
	if c.ResourceLink != nil {
		l.ResourceLink = *c.ResourceLink
	}
	// A malformed lis claim is ignored, not a reason to refuse the launch.
	if lis := map[string]json.RawMessage(nil); json.Unmarshal(c.LIS, &lis) == nil && lis != nil {
		lis := customStrings(lis)
		l.LIS = &LISClaim{PersonSourcedID: lis["person_sourcedid"], CourseOfferingSourcedID: lis["course_offering_sourcedid"],
			CourseSectionSourcedID: lis["course_section_sourcedid"]}
	}
	if l.Locale == "" && l.LaunchPresentation != nil {
		l.Locale = l.LaunchPresentation.Locale
	}
	return l, nil
}

// maxForUserID bounds for_user.user_id: Roundtable keeps a person's sub
// in at most 255 bytes, and a longer id cut to that length could name
// someone else.
const maxForUserID = 255

// checkForUser reads the for_user claim a submission review requires: an
// object with a non-empty string user_id.
func checkForUser(raw json.RawMessage) (*ForUser, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, reject(ReasonMissingClaim, msgTokenInvalid, "submission review without for_user claim")
	}
	var fu ForUser
	if err := json.Unmarshal(raw, &fu); err != nil {
		return nil, reject(ReasonBadClaim, msgTokenInvalid, "for_user claim is not an object of strings: %v", err)
	}
	if strings.TrimSpace(fu.UserID) == "" {
		return nil, reject(ReasonMissingClaim, msgTokenInvalid, "for_user claim without user_id")
	}
	if len(fu.UserID) > maxForUserID {
		return nil, reject(ReasonBadClaim, msgTokenInvalid, "for_user.user_id longer than %d bytes", maxForUserID)
	}
	return &fu, nil
}

// checkServiceURLs checks the URLs of a launch that Roundtable stores and
// later calls or frames from, with the same check as a registration's
// URLs: a service endpoint that fails it refuses the launch (the LMS is
// misconfigured, and grades must not silently go nowhere); a return URL
// that fails it, used only to tell where the course is shown, is dropped.
func checkServiceURLs(c *idTokenClaims) error {
	if c.AGS != nil {
		for name, raw := range map[string]string{"lineitems": c.AGS.LineItems, "lineitem": c.AGS.LineItem} {
			if _, err := CheckWebURL(raw); raw != "" && err != nil {
				return reject(ReasonBadClaim, msgTokenInvalid, "AGS endpoint %s: %v", name, err)
			}
		}
	}
	if c.NRPS != nil {
		if _, err := CheckWebURL(c.NRPS.ContextMembershipsURL); err != nil {
			return reject(ReasonBadClaim, msgTokenInvalid, "NRPS context_memberships_url: %v", err)
		}
	}
	if lp := c.LaunchPresentation; lp != nil && lp.ReturnURL != "" {
		if _, err := CheckWebURL(lp.ReturnURL); err != nil {
			lp.ReturnURL = ""
		}
	}
	return nil
}

// customStrings keeps custom parameters as strings: the spec says they are
// strings, but some platforms send numbers or booleans. Those keep their
// JSON text: decoding them as float64 would corrupt ids above 2^53.
func customStrings(m map[string]json.RawMessage) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, raw := range m {
		switch {
		case len(raw) == 0 || string(raw) == "null":
		case raw[0] == '"':
			var s string
			if json.Unmarshal(raw, &s) == nil {
				out[k] = s
			}
		default:
			var b bytes.Buffer
			if json.Compact(&b, raw) == nil {
				out[k] = b.String()
			}
		}
	}
	return out
}
