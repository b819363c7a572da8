package ltiplatform

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/roundtable-lms/roundtable/lti"
)

// DeepLinkSettings are the deep_linking_settings of an LtiDeepLinkingRequest.
// A launch without them uses DefaultDeepLinkSettings.
type DeepLinkSettings struct {
	// AcceptTypes defaults to ["ltiResourceLink"]; an explicitly empty,
	// non-nil list is sent as is.
	AcceptTypes []string
	// AcceptPresentationDocumentTargets defaults to ["iframe", "window"].
	AcceptPresentationDocumentTargets []string
	AcceptMultiple                    bool
	// AutoCreate adds the returned items at once; otherwise the person
	// confirms them on a page first.
	AutoCreate  bool
	Title, Text string
	// Data is echoed by the tool; it defaults to a random value.
	Data string
}

// DefaultDeepLinkSettings are what the demo LMS's "Add activity" sends.
func DefaultDeepLinkSettings() DeepLinkSettings {
	return DeepLinkSettings{AcceptMultiple: true, AutoCreate: true}
}

// deepLinkRequest is a deep linking request waiting for the tool's answer.
type deepLinkRequest struct {
	id                         string
	clientID, userID, courseID string
	claim                      lti.DeepLinkingSettingsClaim
	expires                    time.Time
}

// DeepLinkResult is what a tool's deep linking response did.
type DeepLinkResult struct {
	ID       string
	CourseID string
	// Added are the resource links created from the response's items.
	Added []ResourceLink
	// Msg and ErrorMsg are the tool's messages to the person.
	Msg, ErrorMsg string
	// Pending is true while the person has not yet confirmed the items
	// (auto_create was false).
	Pending  bool
	clientID string
	items    []lti.ContentItem
	expires  time.Time
}

// Bounds of what a deep linking response may carry.
const (
	maxDeepLinkBody  = 256 << 10
	maxDeepLinkItems = 50
	deepLinkLeeway   = time.Minute
	deepLinkMaxAge   = time.Hour
	// ContentTypeLTIResourceLink is the only item type this platform creates.
	ContentTypeLTIResourceLink = lti.ContentTypeLTIResourceLink
)

// newDeepLinkLocked registers the deep linking request of a launch and
// returns its claim. The return URL names the request, so the tool's answer
// finds its course and settings here, not in anything the tool sends.
func (p *Platform) newDeepLinkLocked(req LaunchRequest, now time.Time) lti.DeepLinkingSettingsClaim {
	s := DefaultDeepLinkSettings()
	if req.DeepLinking != nil {
		s = *req.DeepLinking
	}
	if s.AcceptTypes == nil {
		s.AcceptTypes = []string{ContentTypeLTIResourceLink}
	}
	if s.AcceptPresentationDocumentTargets == nil {
		s.AcceptPresentationDocumentTargets = []string{"iframe", "window"}
	}
	if s.Data == "" {
		s.Data = rand.Text()
	}
	for id, r := range p.deepLinks {
		if now.After(r.expires) {
			delete(p.deepLinks, id)
		}
	}
	id := rand.Text()
	claim := lti.DeepLinkingSettingsClaim{
		DeepLinkReturnURL:                 p.URL("/deep-linking/return/" + id),
		AcceptTypes:                       slices.Clone(s.AcceptTypes),
		AcceptPresentationDocumentTargets: slices.Clone(s.AcceptPresentationDocumentTargets),
		AcceptMultiple:                    s.AcceptMultiple,
		AcceptLineItem:                    true,
		AutoCreate:                        s.AutoCreate,
		Title:                             s.Title,
		Text:                              s.Text,
		Data:                              s.Data,
	}
	p.deepLinks[id] = &deepLinkRequest{id: id, clientID: req.ClientID, userID: req.UserID, courseID: req.CourseID,
		claim: claim, expires: now.Add(launchTTL + deepLinkMaxAge)}
	return claim
}

// DeepLinkResult returns what a deep linking response did, by the id the
// course page shows it under.
func (p *Platform) DeepLinkResult(id string) (DeepLinkResult, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	r, ok := p.dlResults[id]
	if !ok {
		return DeepLinkResult{}, false
	}
	out := *r
	out.Added = slices.Clone(r.Added)
	return out, true
}

// DeepLinkedItem returns the content item a resource link was created
// from, with its lineItem, for links added by deep linking.
func (p *Platform) DeepLinkedItem(linkID string) (lti.ContentItem, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	it, ok := p.linkItems[linkID]
	return it, ok
}

// deepLinkError is a refused deep linking response: Message for the
// person, Detail for the log.
type deepLinkError struct{ Message, Detail string }

func (e *deepLinkError) Error() string { return e.Message + ": " + e.Detail }

func refuse(detail string, args ...any) *deepLinkError {
	return &deepLinkError{Message: "The tool's answer could not be verified, so nothing was added to the course.", Detail: fmt.Sprintf(detail, args...)}
}

// handleDeepLinkReturn receives the tool's LtiDeepLinkingResponse, verifies
// it and adds the resource links it returns to the course.
func (p *Platform) handleDeepLinkReturn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxDeepLinkBody)
	if err := r.ParseForm(); err != nil {
		p.deepLinkFailed(w, r, http.StatusBadRequest, &deepLinkError{Message: "The tool's answer could not be read.", Detail: err.Error()})
		return
	}
	id := r.PathValue("id")
	p.mu.RLock()
	req, ok := p.deepLinks[id]
	p.mu.RUnlock()
	if !ok || p.now().After(req.expires) {
		p.deepLinkFailed(w, r, http.StatusBadRequest, &deepLinkError{Message: "This request to add content has expired or was already answered. Start again from the course.",
			Detail: "unknown, expired or answered deep linking request " + id})
		return
	}
	tool, err := p.Tool(req.clientID)
	if err != nil {
		p.deepLinkFailed(w, r, http.StatusBadRequest, &deepLinkError{Message: "The tool that was asked is no longer registered.", Detail: err.Error()})
		return
	}
	resp, derr := p.verifyDeepLinkResponse(r.Context(), tool, req, r.PostForm.Get("JWT"))
	if derr != nil {
		p.deepLinkFailed(w, r, http.StatusBadRequest, derr)
		return
	}
	res := &DeepLinkResult{ID: rand.Text(), CourseID: req.courseID, clientID: req.clientID, Msg: resp.Msg, ErrorMsg: resp.ErrorMsg,
		items: resp.Items, Pending: !req.claim.AutoCreate && len(resp.Items) > 0, expires: p.now().Add(deepLinkMaxAge)}
	p.mu.Lock()
	if _, still := p.deepLinks[id]; !still {
		p.mu.Unlock()
		p.deepLinkFailed(w, r, http.StatusBadRequest, &deepLinkError{Message: "This request to add content was already answered.", Detail: "deep linking request " + id + " answered concurrently"})
		return
	}
	delete(p.deepLinks, id)
	p.storeResultLocked(res)
	if !res.Pending {
		p.createLinksLocked(res)
	}
	p.mu.Unlock()
	p.log.InfoContext(r.Context(), "deep linking response accepted", slog.String("client_id", tool.ClientID),
		slog.String("course", req.courseID), slog.Int("items", len(resp.Items)), slog.Bool("pending", res.Pending),
		slog.String("log", resp.Log), slog.String("errorlog", resp.ErrorLog))
	p.renderDeepLinkResult(w, r, res)
}

// handleDeepLinkConfirm adds the items of a response that waited for the
// person's confirmation (auto_create false).
func (p *Platform) handleDeepLinkConfirm(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	res, ok := p.dlResults[r.PathValue("id")]
	if !ok || !res.Pending {
		p.mu.Unlock()
		p.errorPage(w, r, http.StatusNotFound, "Nothing to add", "These activities were already added, or the request expired.")
		return
	}
	res.Pending = false
	p.createLinksLocked(res)
	p.mu.Unlock()
	p.renderDeepLinkResult(w, r, res)
}

func (p *Platform) storeResultLocked(res *DeepLinkResult) {
	now := p.now()
	for id, old := range p.dlResults {
		if now.After(old.expires) {
			delete(p.dlResults, id)
		}
	}
	p.dlResults[res.ID] = res
}

// createLinksLocked adds a resource link for each item, in order.
func (p *Platform) createLinksLocked(res *DeepLinkResult) {
	for _, it := range res.items {
		l := ResourceLink{ID: "dl-" + strings.ToLower(rand.Text()[:16]), CourseID: res.CourseID, ClientID: res.clientID,
			Title: it.Title, Description: it.Text, URL: it.URL, Custom: map[string]string{}}
		if l.Title == "" {
			l.Title = "Untitled activity"
		}
		for k, v := range it.Custom {
			l.Custom[k] = v
		}
		if li := it.LineItem; li != nil {
			l.LineItem = &LineItemSpec{ScoreMaximum: li.ScoreMaximum, Label: li.Label, ResourceID: li.ResourceID, Tag: li.Tag}
			if err := p.checkLineItemSpecLocked(l); err != nil {
				p.log.Warn("deep-linked item's line item ignored", slog.String("link", l.ID), slog.Any("err", err))
				l.LineItem = nil
			}
		}
		p.linkIDs = append(p.linkIDs, l.ID)
		p.links[l.ID] = l
		p.bindLineItemLocked(l)
		p.linkItems[l.ID] = it
		res.Added = append(res.Added, l)
	}
}

// verifiedResponse is what a verified deep linking response says.
type verifiedResponse struct {
	Items                        []lti.ContentItem
	Msg, Log, ErrorMsg, ErrorLog string
}

// responseClaims is the payload of an LtiDeepLinkingResponse.
type responseClaims struct {
	Issuer       string            `json:"iss"`
	Audience     json.RawMessage   `json:"aud"`
	AZP          string            `json:"azp"`
	Expiry       *float64          `json:"exp"`
	IssuedAt     *float64          `json:"iat"`
	Nonce        string            `json:"nonce"`
	DeploymentID string            `json:"https://purl.imsglobal.org/spec/lti/claim/deployment_id"`
	MessageType  string            `json:"https://purl.imsglobal.org/spec/lti/claim/message_type"`
	Version      string            `json:"https://purl.imsglobal.org/spec/lti/claim/version"`
	Data         *string           `json:"https://purl.imsglobal.org/spec/lti-dl/claim/data"`
	Items        []json.RawMessage `json:"https://purl.imsglobal.org/spec/lti-dl/claim/content_items"`
	Msg          string            `json:"https://purl.imsglobal.org/spec/lti-dl/claim/msg"`
	Log          string            `json:"https://purl.imsglobal.org/spec/lti-dl/claim/log"`
	ErrorMsg     string            `json:"https://purl.imsglobal.org/spec/lti-dl/claim/errormsg"`
	ErrorLog     string            `json:"https://purl.imsglobal.org/spec/lti-dl/claim/errorlog"`
}

// verifyDeepLinkResponse checks the tool's JWT per Deep Linking 2.0 and the
// Security Framework: RS256 with a kid from the tool's JWKS, iss the
// tool's client id, aud this platform, exp and iat, a nonce never seen
// before, the tool's deployment, the message type and version, the data
// echoed, and items of accepted types.
func (p *Platform) verifyDeepLinkResponse(ctx context.Context, tool Tool, req *deepLinkRequest, token string) (*verifiedResponse, *deepLinkError) {
	if token == "" {
		return nil, refuse("no JWT posted")
	}
	if len(token) > maxDeepLinkBody {
		return nil, refuse("JWT longer than %d bytes", maxDeepLinkBody)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, refuse("JWT is not a compact JWS")
	}
	var hdr struct {
		Alg string `json:"alg"`
		KID string `json:"kid"`
	}
	if err := decodePart(parts[0], &hdr); err != nil {
		return nil, refuse("JWT header: %v", err)
	}
	if hdr.Alg != "RS256" {
		return nil, refuse("alg %q, only RS256 is accepted", hdr.Alg)
	}
	if hdr.KID == "" {
		return nil, refuse("JWT header has no kid")
	}
	pub, err := p.toolKey(ctx, tool, hdr.KID)
	if err != nil {
		return nil, refuse("%v", err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) != nil {
		return nil, refuse("signature does not verify with the tool's key %q", hdr.KID)
	}
	var c responseClaims
	if err := decodePart(parts[1], &c); err != nil {
		return nil, refuse("JWT claims: %v", err)
	}
	now := p.now()
	switch {
	case c.Issuer != tool.ClientID:
		return nil, refuse("iss %q, want the tool's client id %q", c.Issuer, tool.ClientID)
	case !responseAudienceHas(c.Audience, p.cfg.Issuer):
		return nil, refuse("aud %s does not name this platform %q", c.Audience, p.cfg.Issuer)
	case c.AZP != "" && c.AZP != tool.ClientID:
		return nil, refuse("azp %q", c.AZP)
	case c.Expiry == nil || c.IssuedAt == nil:
		return nil, refuse("exp or iat missing")
	}
	exp, iat := time.Unix(int64(*c.Expiry), 0), time.Unix(int64(*c.IssuedAt), 0)
	switch {
	case now.After(exp.Add(deepLinkLeeway)):
		return nil, refuse("JWT expired at %s", exp.UTC().Format(time.RFC3339))
	case iat.After(now.Add(deepLinkLeeway)) || now.Sub(iat) > deepLinkMaxAge || exp.Before(iat):
		return nil, refuse("iat %s, exp %s", iat.UTC().Format(time.RFC3339), exp.UTC().Format(time.RFC3339))
	case c.Nonce == "":
		return nil, refuse("no nonce")
	case c.DeploymentID != tool.DeploymentID:
		return nil, refuse("deployment_id %q, want %q", c.DeploymentID, tool.DeploymentID)
	case c.MessageType != lti.MessageDeepLinkingResponse:
		return nil, refuse("message_type %q", c.MessageType)
	case c.Version != lti.Version:
		return nil, refuse("version %q", c.Version)
	case req.claim.Data != "" && (c.Data == nil || *c.Data != req.claim.Data):
		return nil, refuse("data not echoed unchanged")
	case len(c.Items) > maxDeepLinkItems:
		return nil, refuse("%d content items, at most %d", len(c.Items), maxDeepLinkItems)
	}
	out := &verifiedResponse{Msg: clipText(c.Msg), Log: clipText(c.Log), ErrorMsg: clipText(c.ErrorMsg), ErrorLog: clipText(c.ErrorLog)}
	for i, raw := range c.Items {
		var it lti.ContentItem
		if err := json.Unmarshal(raw, &it); err != nil {
			return nil, refuse("content item %d: %v", i, err)
		}
		if !slices.Contains(req.claim.AcceptTypes, it.Type) {
			return nil, refuse("content item %d has type %q, not one of %v", i, it.Type, req.claim.AcceptTypes)
		}
		if it.Type != ContentTypeLTIResourceLink {
			continue // accepted, but this platform only places resource links
		}
		if it.URL != "" && !isAbsURL(it.URL) {
			return nil, refuse("content item %d: url %q is not absolute", i, it.URL)
		}
		if it.LineItem != nil && it.LineItem.ScoreMaximum <= 0 {
			return nil, refuse("content item %d: lineItem.scoreMaximum %v is not positive", i, it.LineItem.ScoreMaximum)
		}
		it.Title, it.Text = clipText(it.Title), clipText(it.Text)
		out.Items = append(out.Items, it)
	}
	if len(out.Items) > 1 && !req.claim.AcceptMultiple {
		return nil, refuse("%d items though accept_multiple is false", len(out.Items))
	}
	// The nonce is spent last, so a refused response does not burn it.
	p.mu.Lock()
	defer p.mu.Unlock()
	for n, until := range p.dlNonces {
		if now.After(until) {
			delete(p.dlNonces, n)
		}
	}
	if _, seen := p.dlNonces[c.Nonce]; seen {
		return nil, refuse("nonce %q already used", c.Nonce)
	}
	p.dlNonces[c.Nonce] = exp.Add(deepLinkLeeway)
	return out, nil
}

func clipText(s string) string {
	const max = 4000
	if len(s) > max {
		s = s[:max]
	}
	return strings.ToValidUTF8(s, "")
}

func decodePart(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	return json.NewDecoder(bytes.NewReader(b)).Decode(v)
}

func responseAudienceHas(raw json.RawMessage, want string) bool {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one == want
	}
	var list []string
	return json.Unmarshal(raw, &list) == nil && slices.Contains(list, want)
}

// toolKey fetches the tool's JWKS and returns the RSA key with kid. Each
// response fetches afresh: a tool may have just rotated its key.
func (p *Platform) toolKey(ctx context.Context, tool Tool, kid string) (*rsa.PublicKey, error) {
	if tool.JWKSURL == "" {
		return nil, fmt.Errorf("tool %q has no JWKS URL", tool.ClientID)
	}
	set, err := lti.FetchKeySet(ctx, &http.Client{Timeout: 10 * time.Second}, tool.JWKSURL)
	if err != nil {
		return nil, err
	}
	key, ok := set.LookupKeyID(kid)
	if !ok {
		return nil, fmt.Errorf("kid %q is not in the tool's JWKS", kid)
	}
	if alg := key.Algorithm(); alg != nil && alg.String() != "" && alg.String() != "RS256" {
		return nil, fmt.Errorf("tool key %q is for %s", kid, alg)
	}
	var pub rsa.PublicKey
	if err := key.Raw(&pub); err != nil {
		return nil, fmt.Errorf("tool key %q is not an RSA public key", kid)
	}
	return &pub, nil
}

type deepLinkPage struct {
	layout
	Result    DeepLinkResult
	CourseURL string
	Confirm   string
}

func (p *Platform) renderDeepLinkResult(w http.ResponseWriter, r *http.Request, res *DeepLinkResult) {
	pg := &deepLinkPage{layout: p.layout("Add activity"), Result: *res, CourseURL: "/"}
	if res.CourseID != "" {
		pg.CourseURL = "/courses/" + url.PathEscape(res.CourseID) + "?" + url.Values{"deep_link": {res.ID}}.Encode()
	}
	if res.Pending {
		pg.Confirm = "/deep-linking/confirm/" + url.PathEscape(res.ID)
		for _, it := range res.items {
			pg.Result.Added = append(pg.Result.Added, ResourceLink{Title: it.Title, Description: it.Text})
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	p.render(w, r, http.StatusOK, &pg.layout, deepLinkView(pg))
}

func (p *Platform) deepLinkFailed(w http.ResponseWriter, r *http.Request, status int, e *deepLinkError) {
	p.log.WarnContext(r.Context(), "deep linking response refused", slog.String("detail", e.Detail))
	w.Header().Set("Cache-Control", "no-store")
	p.errorPage(w, r, status, "Nothing was added", e.Message)
}

// handleAddActivity opens the tool's content picker, as the person, in the
// page's tool frame: an LtiDeepLinkingRequest through the OIDC login.
func (p *Platform) handleAddActivity(w http.ResponseWriter, r *http.Request) {
	course, err := p.Course(r.PathValue("id"))
	if err != nil {
		p.errorPage(w, r, http.StatusNotFound, "Course not found", "There is no such course.")
		return
	}
	user, err := p.User(r.FormValue("user"))
	if err != nil {
		p.errorPage(w, r, http.StatusNotFound, "Person not found", "There is no such person in this course.")
		return
	}
	p.mu.RLock()
	roles := p.rolesLocked(course.ID, user.ID)
	p.mu.RUnlock()
	if !canAddActivities(roles) {
		p.errorPage(w, r, http.StatusForbidden, "Not allowed", "Only the course's instructors can add activities.")
		return
	}
	src, err := p.StartLaunch(LaunchRequest{ClientID: r.FormValue("tool"), UserID: user.ID, CourseID: course.ID,
		MessageType: lti.MessageDeepLinking, StorageTarget: "_parent",
		DeepLinking: &DeepLinkSettings{AcceptMultiple: true, AutoCreate: true,
			Title: "Add an activity to " + course.Title}})
	if err != nil {
		p.log.WarnContext(r.Context(), "cannot start deep linking", slog.Any("err", err))
		p.errorPage(w, r, http.StatusConflict, "Cannot add an activity", "No tool is set up for this course.")
		return
	}
	pg := &launchPage{layout: p.layout("Add activity"), Course: course, Link: ResourceLink{Title: "Add activity"}, Src: src,
		CourseHref: "/courses/" + url.PathEscape(course.ID)}
	pg.SignedInAs = displayName(user)
	w.Header().Set("Cache-Control", "no-store")
	p.render(w, r, http.StatusOK, &pg.layout, launchView(pg))
}

// canAddActivities: instructors, teaching assistants, content developers
// and administrators of the course.
func canAddActivities(roles []string) bool {
	for _, r := range roles {
		switch RoleName(r) {
		case "Instructor", "TeachingAssistant", "ContentDeveloper", "Administrator":
			return true
		}
	}
	return false
}

// AddActivityPath is the demo page where a course's staff member adds an
// activity through the tool's content picker.
func AddActivityPath(courseID, userID string) string {
	return "/courses/" + url.PathEscape(courseID) + "/add?" + url.Values{"user": {userID}}.Encode()
}
