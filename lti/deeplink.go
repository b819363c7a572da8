package lti

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// Deep Linking 2.0 response claims and content item types.
const (
	ClaimDeepLinkingMsg      = "https://purl.imsglobal.org/spec/lti-dl/claim/msg"
	ClaimDeepLinkingLog      = "https://purl.imsglobal.org/spec/lti-dl/claim/log"
	ClaimDeepLinkingErrorMsg = "https://purl.imsglobal.org/spec/lti-dl/claim/errormsg"
	ClaimDeepLinkingErrorLog = "https://purl.imsglobal.org/spec/lti-dl/claim/errorlog"

	ContentTypeLTIResourceLink = "ltiResourceLink"
)

// DeepLinkingResponseTTL is how long a deep linking response stays
// acceptable to the platform: it is posted straight away by the browser.
const DeepLinkingResponseTTL = 5 * time.Minute

// Accepts reports whether the platform takes content items of type t.
func (s *DeepLinkingSettingsClaim) Accepts(t string) bool {
	return s != nil && slices.Contains(s.AcceptTypes, t)
}

// checkDeepLinkingSettings checks what a deep linking request must carry to
// be answered: a return URL that passes CheckWebURL.
func checkDeepLinkingSettings(s *DeepLinkingSettingsClaim) error {
	if s == nil || s.DeepLinkReturnURL == "" {
		return reject(ReasonMissingClaim, msgTokenInvalid, "deep linking request without deep_link_return_url")
	}
	if _, err := CheckWebURL(s.DeepLinkReturnURL); err != nil {
		return reject(ReasonBadClaim, msgTokenInvalid, "deep_link_return_url: %v", err)
	}
	return nil
}

// LineItemSpec asks the platform to create a gradebook column with a
// resource link (Deep Linking 2.0 §3.4.1.1).
type LineItemSpec struct {
	ScoreMaximum float64 `json:"scoreMaximum"`
	Label        string  `json:"label,omitempty"`
	ResourceID   string  `json:"resourceId,omitempty"`
	Tag          string  `json:"tag,omitempty"`
}

// ContentItem is one item of a deep linking response. Only the fields of
// an ltiResourceLink are modelled; other types are read as their type.
type ContentItem struct {
	Type     string            `json:"type"`
	Title    string            `json:"title,omitempty"`
	Text     string            `json:"text,omitempty"`
	URL      string            `json:"url,omitempty"`
	Custom   map[string]string `json:"custom,omitempty"`
	LineItem *LineItemSpec     `json:"lineItem,omitempty"`
}

// DeepLinkingResponse is the tool's answer to a deep linking request.
type DeepLinkingResponse struct {
	// ClientID is the tool's client id (iss), PlatformIssuer the
	// platform's issuer (aud).
	ClientID       string
	PlatformIssuer string
	DeploymentID   string
	// Data is the request's data setting, echoed unchanged.
	Data  string
	Items []ContentItem
	// Msg and ErrorMsg are shown to the person; Log and ErrorLog are for
	// the platform's logs.
	Msg, Log, ErrorMsg, ErrorLog string
}

// DeepLinkingResponseClaims returns the claims of a response issued at now
// with the given nonce: iss, aud, iat, exp, nonce, deployment_id,
// message_type, version, content_items (an empty list when there are none),
// and data, msg, log, errormsg and errorlog when set.
func DeepLinkingResponseClaims(r DeepLinkingResponse, nonce string, now time.Time) (map[string]any, error) {
	if r.ClientID == "" || r.PlatformIssuer == "" || r.DeploymentID == "" {
		return nil, errors.New("lti: a deep linking response needs a client id, a platform issuer and a deployment id")
	}
	for i, it := range r.Items {
		if it.Type == "" {
			return nil, fmt.Errorf("lti: content item %d has no type", i)
		}
		if it.LineItem != nil && it.LineItem.ScoreMaximum <= 0 {
			return nil, fmt.Errorf("lti: content item %d: lineItem.scoreMaximum must be positive", i)
		}
	}
	items := r.Items
	if items == nil {
		items = []ContentItem{}
	}
	c := map[string]any{
		"iss":                   r.ClientID,
		"aud":                   r.PlatformIssuer,
		"iat":                   now.Unix(),
		"exp":                   now.Add(DeepLinkingResponseTTL).Unix(),
		"nonce":                 nonce,
		ClaimDeploymentID:       r.DeploymentID,
		ClaimMessageType:        MessageDeepLinkingResponse,
		ClaimVersion:            Version,
		ClaimDeepLinkingContent: items,
	}
	for claim, v := range map[string]string{
		ClaimDeepLinkingData: r.Data, ClaimDeepLinkingMsg: r.Msg, ClaimDeepLinkingLog: r.Log,
		ClaimDeepLinkingErrorMsg: r.ErrorMsg, ClaimDeepLinkingErrorLog: r.ErrorLog,
	} {
		if v != "" {
			c[claim] = v
		}
	}
	return c, nil
}

// SignDeepLinkingResponse signs r with the tool's key (RS256, its kid in
// the header), ready to be posted as the JWT form field to the request's
// deep_link_return_url. Each response gets a fresh nonce.
func SignDeepLinkingResponse(r DeepLinkingResponse, key jwk.Key, now time.Time) (string, error) {
	if key == nil || key.KeyID() == "" {
		return "", errors.New("lti: the signing key has no kid")
	}
	claims, err := DeepLinkingResponseClaims(r, RandomToken(24), now)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("lti: marshal deep linking response: %w", err)
	}
	hdr := jws.NewHeaders()
	for k, v := range map[string]any{jws.KeyIDKey: key.KeyID(), jws.TypeKey: "JWT"} {
		if err := hdr.Set(k, v); err != nil {
			return "", err
		}
	}
	signed, err := jws.Sign(payload, jws.WithKey(jwa.RS256, key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", fmt.Errorf("lti: sign deep linking response: %w", err)
	}
	return string(signed), nil
}
