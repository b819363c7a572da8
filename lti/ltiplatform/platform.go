// Package ltiplatform is an LTI 1.3 platform: the LMS side of a launch. It
// keeps tools, users, courses, enrolments and resource links in memory, signs
// id_tokens with its own RSA key, publishes its JWKS, answers OIDC
// third-party-initiated logins, and serves a few pages of a small demo LMS
// that embeds tools in an iframe and offers LTI platform storage.
//
// Tests launch a tool through it over real HTTP with Browser, and forge the
// bad tokens of the LTI certification suite with Tamper.
package ltiplatform

import (
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roundtable-lms/roundtable/lti"
)

// Config configures a Platform.
type Config struct {
	// Issuer is the platform's base URL and its OIDC issuer, without a
	// trailing slash: http://127.0.0.1:9001.
	Issuer string
	// Name is shown in pages and sent in the tool_platform claim.
	Name string
	// ProductFamilyCode tells tools which LMS family this is.
	ProductFamilyCode string
	// GUID identifies this platform instance in tool_platform; defaults to a
	// hash of the issuer.
	GUID string
	// KeyFile keeps the RSA signing key (PEM) so the kid is stable across
	// runs; created when absent. Empty means a key for this process only.
	KeyFile string
	// TokenAudience is the audience tools' client assertions must name,
	// for platforms whose OAuth2 audience is not the token URL
	// (Brightspace); empty means the token URL. The OpenID configuration
	// declares it as authorization_server.
	TokenAudience string
	// Now is the clock; defaults to time.Now.
	Now func() time.Time
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Defaults.
const (
	DefaultName              = "Demo LMS"
	DefaultProductFamilyCode = "roundtable-demo-lms"
	platformVersion          = "1.0"
	// launchTTL bounds how long a lti_message_hint stays usable.
	launchTTL = 10 * time.Minute
	// tokenTTL is the id_token lifetime.
	tokenTTL = 5 * time.Minute
	// ContextTypeCourseOffering is the context type of every course here.
	ContextTypeCourseOffering = "http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"
)

// Tool is a tool registered with the platform.
type Tool struct {
	ClientID     string
	DeploymentID string
	// LoginURL is the tool's initiate_login_uri.
	LoginURL string
	// RedirectURIs are the only URIs id_tokens are posted to.
	RedirectURIs []string
	// TargetLinkURI is the default launch URL; defaults to RedirectURIs[0].
	TargetLinkURI string
	// JWKSURL is where the tool publishes its keys; the token endpoint
	// verifies client assertions with them.
	JWKSURL string
	Name    string
	// Scopes are the LTI Advantage service scopes the tool may use; nil
	// means every scope the platform supports.
	Scopes []string
	// Custom are the tool's own custom parameters, sent with every
	// resource link launch of it (a link's own values win), as an LMS
	// admin sets them on the tool; values may use the same variables as a
	// link's.
	Custom map[string]string
}

// User is a person with an account on the platform.
type User struct {
	ID         string // the sub claim
	Name       string
	GivenName  string
	FamilyName string
	Email      string
	Picture    string
	Locale     string
}

// Course is an LTI context.
type Course struct {
	ID    string
	Label string
	Title string
	// History are the ids of the courses this one was copied from, most
	// recent first: the value of $Context.id.history.
	History []string
}

// ResourceLink is an activity placed in a course that launches a tool.
type ResourceLink struct {
	ID          string
	CourseID    string // empty: a link outside any course
	Title       string
	Description string
	// Custom parameters; values may use $User.id, $Context.id and
	// $ResourceLink.id.
	Custom map[string]string
	// ClientID of the tool it launches; empty means the first tool added.
	ClientID string
	// LineItem, when set, makes AddResourceLink create a gradebook column
	// bound to the link (unless the link already has one).
	LineItem *LineItemSpec
	// URL is the target_link_uri of its launches; empty means the tool's.
	// Deep linking sets it from the content item's url.
	URL string
}

// Member is a user enrolled in a course with full role URIs.
type Member struct {
	User
	Roles []string
}

// Platform is an in-memory LTI 1.3 platform. It is safe for concurrent use.
type Platform struct {
	cfg Config
	// ahead is how far AdvanceClock moved the clock, in nanoseconds.
	ahead atomic.Int64
	key   *rsa.PrivateKey
	kid   string
	log   *slog.Logger

	mu        sync.RWMutex
	tools     map[string]Tool
	toolIDs   []string
	users     map[string]User
	userIDs   []string
	courses   map[string]Course
	courseIDs []string
	members   map[string][]enrolment // by course id, in enrolment order
	links     map[string]ResourceLink
	linkIDs   []string
	pending   map[string]*pendingLaunch // by lti_message_hint
	regTokens map[string]time.Time      // registration token → expiry
	regMode   RegistrationMode

	svc *services // LTI Advantage services state

	deepLinks map[string]*deepLinkRequest // by id, named in the return URL
	dlNonces  map[string]time.Time        // deep linking response nonces seen, until they expire
	dlResults map[string]*DeepLinkResult
	linkItems map[string]lti.ContentItem // deep-linked resource link → its content item
}

type enrolment struct {
	userID string
	roles  []string
}

// New makes a platform, loading or creating its signing key.
func New(cfg Config) (*Platform, error) {
	cfg.Issuer = strings.TrimRight(cfg.Issuer, "/")
	u, err := url.Parse(cfg.Issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("ltiplatform: issuer %q must be an absolute http(s) URL without query", cfg.Issuer)
	}
	if cfg.Name == "" {
		cfg.Name = DefaultName
	}
	if cfg.ProductFamilyCode == "" {
		cfg.ProductFamilyCode = DefaultProductFamilyCode
	}
	if cfg.GUID == "" {
		sum := sha256.Sum256([]byte(cfg.Issuer))
		cfg.GUID = hex.EncodeToString(sum[:16])
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	key, err := loadOrCreateKey(cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("ltiplatform: %w", err)
	}
	p := &Platform{
		cfg:     cfg,
		key:     key,
		kid:     Thumbprint(&key.PublicKey),
		log:     cfg.Logger.With(slog.String("component", "ltiplatform"), slog.String("issuer", cfg.Issuer)),
		tools:   map[string]Tool{},
		users:   map[string]User{},
		courses: map[string]Course{},
		members: map[string][]enrolment{},
		links:   map[string]ResourceLink{},
		pending: map[string]*pendingLaunch{},

		regTokens: map[string]time.Time{},
		svc:       newServices(),

		deepLinks: map[string]*deepLinkRequest{},
		dlNonces:  map[string]time.Time{},
		dlResults: map[string]*DeepLinkResult{},
		linkItems: map[string]lti.ContentItem{},
	}
	// The tools' keys are refetched on the platform's clock, so a test
	// that advances it needs not wait out the refetch limit.
	p.svc.keys.Now = p.now
	return p, nil
}

// Errors returned by the data model and StartLaunch.
var (
	ErrNotFound = errors.New("ltiplatform: not found")
	ErrInvalid  = errors.New("ltiplatform: invalid")
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

func notFound(what, id string) error {
	return fmt.Errorf("%w: %s %q", ErrNotFound, what, id)
}

// Issuer is the platform's iss.
func (p *Platform) Issuer() string { return p.cfg.Issuer }

// Name is the platform's display name.
func (p *Platform) Name() string { return p.cfg.Name }

// GUID identifies this platform instance in the tool_platform claim.
func (p *Platform) GUID() string { return p.cfg.GUID }

// ProductFamilyCode is sent in the tool_platform claim.
func (p *Platform) ProductFamilyCode() string { return p.cfg.ProductFamilyCode }

// URL joins the issuer and an absolute path.
func (p *Platform) URL(path string) string {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return p.cfg.Issuer + path
}

// JWKSURL is where the platform publishes its keys.
func (p *Platform) JWKSURL() string { return p.URL("/.well-known/jwks.json") }

// AuthURL is the OIDC authorization endpoint (the tool's auth login URL).
func (p *Platform) AuthURL() string { return p.URL("/auth") }

// TokenURL is the OAuth2 token endpoint for LTI Advantage services.
func (p *Platform) TokenURL() string { return p.URL("/token") }

// now is the injectable clock, moved ahead by AdvanceClock.
func (p *Platform) now() time.Time { return p.cfg.Now().Add(time.Duration(p.ahead.Load())) }

// AdvanceClock moves the platform's clock forward by d, for tests that wait
// out one of its limits (a tool's keys refetched at most once a second).
func (p *Platform) AdvanceClock(d time.Duration) { p.ahead.Add(int64(d)) }

// AddTool registers a tool, replacing one with the same client id.
func (p *Platform) AddTool(t Tool) error {
	switch {
	case t.ClientID == "":
		return invalid("tool needs a client id")
	case t.DeploymentID == "":
		return invalid("tool %q needs a deployment id", t.ClientID)
	case !isAbsURL(t.LoginURL):
		return invalid("tool %q: login URL %q is not an absolute URL", t.ClientID, t.LoginURL)
	case len(t.RedirectURIs) == 0:
		return invalid("tool %q needs at least one redirect URI", t.ClientID)
	}
	for _, r := range t.RedirectURIs {
		if !isAbsURL(r) {
			return invalid("tool %q: redirect URI %q is not an absolute URL", t.ClientID, r)
		}
	}
	if t.TargetLinkURI == "" {
		t.TargetLinkURI = t.RedirectURIs[0]
	}
	t.RedirectURIs = slices.Clone(t.RedirectURIs)
	if t.Scopes != nil {
		t.Scopes = slices.Clone(t.Scopes)
	}
	t.Custom = maps.Clone(t.Custom)
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.tools[t.ClientID]; !ok {
		p.toolIDs = append(p.toolIDs, t.ClientID)
	}
	p.tools[t.ClientID] = t
	return nil
}

// Tool finds a tool by client id.
func (p *Platform) Tool(clientID string) (Tool, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	t, ok := p.tools[clientID]
	if !ok {
		return Tool{}, notFound("tool", clientID)
	}
	t.RedirectURIs = slices.Clone(t.RedirectURIs)
	t.Custom = maps.Clone(t.Custom)
	return t, nil
}

// Tools lists tools in registration order.
func (p *Platform) Tools() []Tool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]Tool, 0, len(p.toolIDs))
	for _, id := range p.toolIDs {
		t := p.tools[id]
		t.RedirectURIs = slices.Clone(t.RedirectURIs)
		t.Custom = maps.Clone(t.Custom)
		out = append(out, t)
	}
	return out
}

// AddUser adds or replaces a user.
func (p *Platform) AddUser(u User) error {
	if u.ID == "" {
		return invalid("user needs an id")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.users[u.ID]; !ok {
		p.userIDs = append(p.userIDs, u.ID)
	}
	p.users[u.ID] = u
	return nil
}

// User finds a user by id.
func (p *Platform) User(id string) (User, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	u, ok := p.users[id]
	if !ok {
		return User{}, notFound("user", id)
	}
	return u, nil
}

// AddCourse adds or replaces a course.
func (p *Platform) AddCourse(c Course) error {
	if c.ID == "" {
		return invalid("course needs an id")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.courses[c.ID]; !ok {
		p.courseIDs = append(p.courseIDs, c.ID)
	}
	c.History = slices.Clone(c.History)
	p.courses[c.ID] = c
	return nil
}

// Course finds a course by id.
func (p *Platform) Course(id string) (Course, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	c, ok := p.courses[id]
	if !ok {
		return Course{}, notFound("course", id)
	}
	c.History = slices.Clone(c.History)
	return c, nil
}

// Courses lists courses in creation order.
func (p *Platform) Courses() []Course {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]Course, 0, len(p.courseIDs))
	for _, id := range p.courseIDs {
		c := p.courses[id]
		c.History = slices.Clone(c.History)
		out = append(out, c)
	}
	return out
}

// Enroll gives a user roles in a course, replacing earlier roles. Roles are
// LTI role URIs or their short forms ("Instructor", "Learner",
// "Instructor#TeachingAssistant"); short forms are stored as full URIs.
// No role at all is allowed: the user is then a member without a role.
func (p *Platform) Enroll(courseID, userID string, roles ...string) error {
	full := make([]string, 0, len(roles))
	for _, r := range roles {
		if r = strings.TrimSpace(r); r != "" {
			full = append(full, FullRole(r))
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.courses[courseID]; !ok {
		return notFound("course", courseID)
	}
	if _, ok := p.users[userID]; !ok {
		return notFound("user", userID)
	}
	list := p.members[courseID]
	for i := range list {
		if list[i].userID == userID {
			list[i].roles = full
			return nil
		}
	}
	p.members[courseID] = append(list, enrolment{userID: userID, roles: full})
	return nil
}

// Users lists the members of a course with their roles, in enrolment order.
func (p *Platform) Users(courseID string) ([]Member, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if _, ok := p.courses[courseID]; !ok {
		return nil, notFound("course", courseID)
	}
	list := p.members[courseID]
	out := make([]Member, 0, len(list))
	for _, e := range list {
		out = append(out, Member{User: p.users[e.userID], Roles: slices.Clone(e.roles)})
	}
	return out, nil
}

// rolesLocked returns a user's roles in a course; nil without a course.
func (p *Platform) rolesLocked(courseID, userID string) []string {
	for _, e := range p.members[courseID] {
		if e.userID == userID {
			return slices.Clone(e.roles)
		}
	}
	return nil
}

// AddResourceLink places an activity, replacing one with the same id.
func (p *Platform) AddResourceLink(l ResourceLink) error {
	if l.ID == "" {
		return invalid("resource link needs an id")
	}
	if len(l.ID) > 255 {
		return invalid("resource link id longer than 255 characters")
	}
	custom := make(map[string]string, len(l.Custom))
	for k, v := range l.Custom {
		custom[k] = v
	}
	l.Custom = custom
	if l.LineItem != nil {
		spec := *l.LineItem
		l.LineItem = &spec
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if l.CourseID != "" {
		if _, ok := p.courses[l.CourseID]; !ok {
			return notFound("course", l.CourseID)
		}
	}
	if l.ClientID != "" {
		if _, ok := p.tools[l.ClientID]; !ok {
			return notFound("tool", l.ClientID)
		}
	}
	if err := p.checkLineItemSpecLocked(l); err != nil {
		return err
	}
	if _, ok := p.links[l.ID]; !ok {
		p.linkIDs = append(p.linkIDs, l.ID)
	}
	p.links[l.ID] = l
	p.bindLineItemLocked(l)
	return nil
}

// Link finds a resource link by id.
func (p *Platform) Link(id string) (ResourceLink, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	l, ok := p.links[id]
	if !ok {
		return ResourceLink{}, notFound("resource link", id)
	}
	return l, nil
}

// RemoveResourceLink takes a link out of its course; removing an unknown
// link does nothing.
func (p *Platform) RemoveResourceLink(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.links[id]; !ok {
		return
	}
	delete(p.links, id)
	for i, lid := range p.linkIDs {
		if lid == id {
			p.linkIDs = append(p.linkIDs[:i], p.linkIDs[i+1:]...)
			break
		}
	}
}

// Links lists the resource links of a course ("" for links outside courses).
func (p *Platform) Links(courseID string) []ResourceLink {
	p.mu.RLock()
	defer p.mu.RUnlock()
	var out []ResourceLink
	for _, id := range p.linkIDs {
		if l := p.links[id]; l.CourseID == courseID {
			out = append(out, l)
		}
	}
	return out
}

// FullRole expands a short context role ("Instructor",
// "Instructor#TeachingAssistant") to its URI; URIs and URNs are kept as is.
func FullRole(r string) string {
	if strings.Contains(r, ":") {
		return r
	}
	switch r {
	case "TeachingAssistant":
		return lti.RoleTeachingAssistant
	}
	if strings.Contains(r, "#") {
		return "http://purl.imsglobal.org/vocab/lis/v2/membership/" + r
	}
	return "http://purl.imsglobal.org/vocab/lis/v2/membership#" + r
}

// RoleName is a short label for a role URI, for badges.
func RoleName(r string) string {
	if i := strings.LastIndexAny(r, "#/"); i >= 0 && i < len(r)-1 {
		return r[i+1:]
	}
	return r
}

func isAbsURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// Handler serves the platform: JWKS, OIDC authorization, dynamic
// registration and the demo pages.
func (p *Platform) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/jwks.json", p.handleJWKS)
	mux.HandleFunc("GET /auth", p.handleAuth)
	mux.HandleFunc("POST /auth", p.handleAuth)
	mux.HandleFunc("GET /{$}", p.handleHome)
	mux.HandleFunc("GET /courses/{id}", p.handleCourse)
	mux.HandleFunc("GET /courses/{id}/launch", p.handleLaunchPage)
	mux.HandleFunc("POST /courses/{id}/launch", p.handleLaunchPage)
	mux.HandleFunc("GET /courses/{id}/add", p.handleAddActivity)
	mux.HandleFunc("POST /deep-linking/return/{id}", p.handleDeepLinkReturn)
	mux.HandleFunc("POST /deep-linking/confirm/{id}", p.handleDeepLinkConfirm)
	mux.HandleFunc("GET /.well-known/openid-configuration", p.handleOpenIDConfiguration)
	mux.HandleFunc("POST /register", p.handleRegister)
	mux.HandleFunc("GET /admin/tools/register", p.handleRegisterToolPage)
	mux.HandleFunc("POST /admin/tools/register", p.handleRegisterToolPage)
	p.serviceRoutes(mux)
	return mux
}
