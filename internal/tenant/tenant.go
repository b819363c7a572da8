// Package tenant keeps the organisations (tenants), the LMS registrations
// (platforms) each holds and their deployments. Every course row belongs to
// an organisation; every launch comes through one of its registrations.
package tenant

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/lms"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/lti"
)

// Status of a platform registration.
const (
	StatusActive   = "active"
	StatusPending  = "pending"
	StatusDisabled = "disabled"
)

// Platform is one registration: an issuer and the client id it gave us.
type Platform struct {
	ID string `gorm:"primaryKey"`
	// OrgID is the organisation the registration belongs to: its launches
	// record people and courses there. Add starts a new one when empty.
	OrgID         string `gorm:"column:org_id"`
	Name          string
	Issuer        string
	ClientID      string
	AuthURL       string
	TokenURL      string
	TokenAudience string
	JWKSURL       string `gorm:"column:jwks_url"`
	Status        string
	LMSFamily     string `gorm:"column:lms_family"`
	LastLaunchAt  *time.Time
	// LastErrorReason is the lti.Reason of the latest refusal recorded;
	// LastError the values its request carried, as GivenText writes them:
	// the request's words, never Roundtable's.
	LastErrorReason string
	LastError       string
	LastErrorAt     *time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time

	// RegisteredBy is RegisteredManually or RegisteredDynamically; the
	// announced scopes, product version and registration client URI come
	// from LTI Dynamic Registration (see dynreg.go).
	RegisteredBy string `gorm:"default:manual"`
	// AnnouncedScopes are the service scopes the LMS named in its answer
	// to the dynamic registration (space separated): what it announced,
	// which its administrator may still change.
	AnnouncedScopes       string
	ProductVersion        string
	RegistrationClientURI string
	// GrantedScopes are the scopes the LMS granted in its token answers,
	// gathered as they come (space separated), and when they last changed.
	GrantedScopes   string
	ScopesGrantedAt *time.Time

	Deployments []string `gorm:"-"`
}

type deploymentRow struct {
	PlatformID   string `gorm:"primaryKey"`
	DeploymentID string `gorm:"primaryKey"`
	CreatedAt    time.Time
}

func (deploymentRow) TableName() string { return "deployments" }

// Registration is the platform as the LTI protocol code sees it. Its
// TokenAudience is only the extra audience the LMS family needs in client
// assertions (see assertionAudience), never the only one.
func (p Platform) Registration() lti.Registration {
	return lti.Registration{
		ID: p.ID, Issuer: p.Issuer, ClientID: p.ClientID, AuthURL: p.AuthURL,
		TokenURL: p.TokenURL, TokenAudience: p.assertionAudience(), JWKSURL: p.JWKSURL,
	}
}

// Files is the blob store of the files in posts (blob.Store).
type Files interface {
	// Delete removes the blob under key; a missing one is no error.
	Delete(ctx context.Context, key string) error
}

// Keys gives each registration signing keys of its own (toolkey.Store).
type Keys interface {
	// EnsureKey makes the registration's first key when it has none, and
	// reports whether it made one.
	EnsureKey(ctx context.Context, platformID string) (bool, error)
	// Forget deletes every key of the registration.
	Forget(ctx context.Context, platformID string) error
}

// Registry reads and writes platform registrations. It caches nothing, so a
// registration added or removed by another process takes effect at once.
type Registry struct {
	db  *store.DB
	Now func() time.Time
	// Keys, when set, gives every registration Add saves its own signing
	// key, and Remove deletes them.
	Keys Keys
	// Files, when set, is where the files people put in posts are kept:
	// deleting an organisation deletes its files there too.
	Files Files
	// JoinDynamic, when set, names the organisation a dynamic registration
	// joins ("" for a new one). Only the demo sets it, for the LMS it runs
	// itself on this machine; a registration from anywhere else always
	// starts an organisation of its own.
	JoinDynamic func(p Platform) string

	touches  touchLog
	refusals touchLog
}

// ValidID reports whether id has the form of a registration id, so that
// one chosen before the registration is saved (its keys' URL is given to
// the LMS first) can be checked.
func ValidID(id string) bool {
	u, err := uuid.Parse(id)
	return err == nil && u.String() == id
}

// ClientIDTaken refuses a second registration of an issuer with a client
// id another registration of that issuer holds: a client id names one
// registration, and its service tokens and launches belong to it alone.
// It is a roundtable.ECONFLICT error; IsClientIDTaken tells it apart.
func ClientIDTaken(issuer, clientID string) error {
	return &clientIDTaken{roundtable.Errorf(roundtable.ECONFLICT,
		"another registration of the LMS with issuer %s already holds client id %s; an LMS gives each registration its own client id", issuer, clientID)}
}

type clientIDTaken struct{ err *roundtable.Error }

func (e *clientIDTaken) Error() string { return e.err.Error() }
func (e *clientIDTaken) Unwrap() error { return e.err }

// IsClientIDTaken reports whether err refuses a client id another
// registration of the issuer holds (ClientIDTaken).
func IsClientIDTaken(err error) bool {
	var e *clientIDTaken
	return errors.As(err, &e)
}

// clientIDHolder returns the id of the registration of issuer that holds
// clientID, other than self, or "".
func clientIDHolder(tx *gorm.DB, issuer, clientID, self string) (string, error) {
	var ids []string
	err := tx.Raw(`SELECT id FROM platforms WHERE issuer = ? AND client_id = ? AND id <> ? LIMIT 1`, issuer, clientID, self).Scan(&ids).Error
	if err != nil || len(ids) == 0 {
		return "", err
	}
	return ids[0], nil
}

// NewRegistry returns a registry on db.
func NewRegistry(db *store.DB) *Registry {
	return &Registry{db: db, Now: time.Now}
}

// Validate checks a registration before it is saved.
func (p *Platform) Validate() error {
	p.Name = strings.TrimSpace(p.Name)
	p.Issuer = strings.TrimSpace(p.Issuer)
	p.ClientID = strings.TrimSpace(p.ClientID)
	if p.Name == "" {
		return roundtable.Errorf(roundtable.EINVALID, "name is required")
	}
	if p.ClientID == "" {
		return roundtable.Errorf(roundtable.EINVALID, "client id is required")
	}
	for _, f := range []struct {
		name, value string
		required    bool
	}{
		{"issuer", p.Issuer, true}, {"auth URL", p.AuthURL, true}, {"JWKS URL", p.JWKSURL, true},
		{"token URL", p.TokenURL, false}, {"registration client URI", p.RegistrationClientURI, false},
	} {
		if f.value == "" && !f.required {
			continue
		}
		if err := checkURL(f.value); err != nil {
			return roundtable.Errorf(roundtable.EINVALID, "%s: %v", f.name, err)
		}
	}
	switch p.Status {
	case "":
		p.Status = StatusActive
	case StatusActive, StatusPending, StatusDisabled:
	default:
		return roundtable.Errorf(roundtable.EINVALID, "status %q is not active, pending or disabled", p.Status)
	}
	return nil
}

// checkURL checks a registration's URL with the one check every URL from
// an LMS or an administrator goes through (lti.CheckWebURL): https, or http
// on a loopback host (a local LMS); a host of DNS labels or an IP address.
func checkURL(s string) error {
	_, err := lti.CheckWebURL(s)
	return err
}

// Add saves a new registration with its deployments and, when the
// registry has Keys, its own signing key. p.ID may be chosen beforehand
// (ValidID), when the LMS was given the registration's JWKS URL before it
// gave a client id; otherwise Add picks one. A client id another
// registration of the same issuer holds is refused (ClientIDTaken).
func (r *Registry) Add(ctx context.Context, p Platform) (Platform, error) {
	if err := p.Validate(); err != nil {
		return Platform{}, err
	}
	now := r.Now().UTC()
	if p.ID == "" {
		p.ID = store.NewID() // never starts with "-", so it is safe as a command-line argument
	} else if !ValidID(p.ID) {
		return Platform{}, roundtable.Errorf(roundtable.EINVALID, "%q is not a registration id", p.ID)
	}
	p.CreatedAt, p.UpdatedAt = now, now
	keyMade := false
	if r.Keys != nil {
		var err error
		if keyMade, err = r.Keys.EnsureKey(ctx, p.ID); err != nil {
			return Platform{}, fmt.Errorf("signing key of the new registration: %w", err)
		}
	}
	err := r.db.Tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Raw(`SELECT COUNT(*) FROM platforms WHERE id = ?`, p.ID).Scan(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return roundtable.Errorf(roundtable.ECONFLICT, "Registration %s is already saved (was the form sent twice?)", p.ID)
		}
		if holder, err := clientIDHolder(tx, p.Issuer, p.ClientID, p.ID); err != nil || holder != "" {
			return orRefuse(err, ClientIDTaken(p.Issuer, p.ClientID))
		}
		if p.OrgID == "" {
			id, err := newOrganisation(tx, p.ID, p.Name, now)
			if err != nil {
				return err
			}
			p.OrgID = id
		} else if ok, err := orgExists(tx, p.OrgID); err != nil || !ok {
			return orRefuse(err, roundtable.Errorf(roundtable.EINVALID, "There is no organisation %s.", p.OrgID))
		}
		if err := tx.Create(&p).Error; err != nil {
			if store.IsUniqueViolation(err) {
				return ClientIDTaken(p.Issuer, p.ClientID)
			}
			return err
		}
		return addDeployments(tx, p.ID, p.Deployments, now)
	})
	if err != nil {
		if keyMade {
			// Keep nothing of a registration that was not saved.
			err = errors.Join(err, r.Keys.Forget(ctx, p.ID))
		}
		return Platform{}, err
	}
	return p, nil
}

// orRefuse is err when there is one, else refusal.
func orRefuse(err, refusal error) error {
	if err != nil {
		return err
	}
	return refusal
}

func addDeployments(tx *gorm.DB, platformID string, ids []string, now time.Time) error {
	for _, d := range ids {
		d = strings.TrimSpace(d)
		if d == "" {
			continue
		}
		row := deploymentRow{PlatformID: platformID, DeploymentID: d, CreatedAt: now}
		if err := tx.Where(row).FirstOrCreate(&row).Error; err != nil {
			return err
		}
	}
	return nil
}

// AddDeployment registers one more deployment of a platform.
func (r *Registry) AddDeployment(ctx context.Context, platformID, deploymentID string) error {
	if strings.TrimSpace(deploymentID) == "" {
		return roundtable.Errorf(roundtable.EINVALID, "deployment id is required")
	}
	return r.db.Tx(ctx, func(tx *gorm.DB) error {
		return addDeployments(tx, platformID, []string{deploymentID}, r.Now().UTC())
	})
}

// List returns every registration with its deployments, by name.
func (r *Registry) List(ctx context.Context) ([]Platform, error) {
	var ps []Platform
	if err := r.db.WithContext(ctx).Order("name, issuer, client_id").Find(&ps).Error; err != nil {
		return nil, err
	}
	var deps []deploymentRow
	if err := r.db.WithContext(ctx).Order("deployment_id").Find(&deps).Error; err != nil {
		return nil, err
	}
	byPlatform := map[string][]string{}
	for _, d := range deps {
		byPlatform[d.PlatformID] = append(byPlatform[d.PlatformID], d.DeploymentID)
	}
	for i := range ps {
		ps[i].Deployments = byPlatform[ps[i].ID]
	}
	return ps, nil
}

// Get returns one registration by id.
func (r *Registry) Get(ctx context.Context, id string) (Platform, error) {
	var p Platform
	if err := r.db.WithContext(ctx).Where("id = ?", id).First(&p).Error; err != nil {
		return Platform{}, fmt.Errorf("platform %q: %w", id, store.Translate(err))
	}
	var deps []deploymentRow
	if err := r.db.WithContext(ctx).Where("platform_id = ?", id).Order("deployment_id").Find(&deps).Error; err != nil {
		return Platform{}, err
	}
	for _, d := range deps {
		p.Deployments = append(p.Deployments, d.DeploymentID)
	}
	return p, nil
}

// Remove deletes a registration and what belongs to the registration
// alone: its deployments, keys, unfinished logins and open sessions. Its
// organisation keeps its people, courses and discussions while another of
// its registrations reaches them; removing its last registration deletes
// the organisation with all of it (DeleteOrganisation), as nothing could
// reach it any more.
func (r *Registry) Remove(ctx context.Context, id string) error {
	p, err := r.Get(ctx, id)
	if err != nil {
		return err
	}
	var others int64
	if err := r.db.WithContext(ctx).Raw(`SELECT COUNT(*) FROM platforms WHERE org_id = ? AND id <> ?`, p.OrgID, id).Scan(&others).Error; err != nil {
		return err
	}
	if others == 0 {
		return r.DeleteOrganisation(ctx, p.OrgID)
	}
	res := r.db.WithContext(ctx).Where("id = ?", id).Delete(&Platform{})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("platform %q: %w", id, store.ErrNotFound)
	}
	if r.Keys != nil {
		// Its JWKS URL stops publishing at once.
		return r.Keys.Forget(ctx, id)
	}
	return nil
}

// Registration is the platform's registration by id, for calls to its
// services.
func (r *Registry) Registration(ctx context.Context, id string) (lti.Registration, error) {
	p, err := r.Get(ctx, id)
	if err != nil {
		return lti.Registration{}, err
	}
	return p.Registration(), nil
}

// FindRegistration implements lti.Registrations.
func (r *Registry) FindRegistration(ctx context.Context, issuer, clientID string) (lti.Registration, error) {
	reg, _, err := r.FindForLogin(ctx, issuer, clientID, "")
	return reg, err
}

// FindForLogin is FindRegistration that also tells, in the same query,
// whether deploymentID is one of the registration's deployments (false when
// deploymentID is empty).
func (r *Registry) FindForLogin(ctx context.Context, issuer, clientID, deploymentID string) (lti.Registration, bool, error) {
	q := `SELECT p.id, p.issuer, p.client_id, p.auth_url, p.token_url, p.token_audience, p.jwks_url, p.status,
			EXISTS (SELECT 1 FROM deployments d WHERE d.platform_id = p.id AND d.deployment_id = ?)
		FROM platforms p WHERE p.issuer = ?`
	args := []any{deploymentID, issuer}
	if clientID != "" {
		q += ` AND p.client_id = ?`
		args = append(args, clientID)
	}
	// The login's one statement: straight through database/sql.
	rows, err := r.db.SQL.QueryContext(ctx, r.db.Rebind(q+` LIMIT 2`), args...)
	if err != nil {
		return lti.Registration{}, false, err
	}
	defer rows.Close()
	var found []Platform
	var hasDeployment bool
	for rows.Next() {
		var p Platform
		if err := rows.Scan(&p.ID, &p.Issuer, &p.ClientID, &p.AuthURL, &p.TokenURL, &p.TokenAudience, &p.JWKSURL, &p.Status, &hasDeployment); err != nil {
			return lti.Registration{}, false, err
		}
		found = append(found, p)
	}
	if err := rows.Err(); err != nil {
		return lti.Registration{}, false, err
	}
	return ChooseForLogin(found, hasDeployment, issuer, clientID, deploymentID)
}

// ChooseForLogin judges what a login's registration lookup found: exactly
// one usable platform, or the error that explains why not; known tells
// whether deploymentID is one of its deployments. A platform that was found
// but cannot launch (disabled, pending) comes with the error as a
// registration that holds only its id, so the refusal can be noted on it.
func ChooseForLogin(found []Platform, hasDeployment bool, issuer, clientID, deploymentID string) (lti.Registration, bool, error) {
	switch {
	case len(found) == 0:
		return lti.Registration{}, false, &lti.Error{Reason: lti.ReasonUnknownPlatform,
			Message: "This LMS is not registered with Roundtable. Please ask your LMS administrator to register it.",
			Detail:  fmt.Sprintf("no registration for issuer %q client_id %q", issuer, clientID)}
	case len(found) > 1:
		return lti.Registration{}, false, &lti.Error{Reason: lti.ReasonAmbiguousPlatform,
			Message: "Roundtable could not tell which registration of your LMS this launch belongs to. Please ask your LMS administrator to include the client id in the login request.",
			Detail:  fmt.Sprintf("issuer %q has several registrations and the login named no client_id", issuer)}
	}
	reg, err := Usable(found[0])
	if err != nil {
		reg = lti.Registration{ID: found[0].ID}
	}
	return reg, hasDeployment && deploymentID != "", err
}

// Usable returns the registration of an active platform, or the error that
// tells why a disabled or pending one cannot launch.
func Usable(p Platform) (lti.Registration, error) {
	switch p.Status {
	case StatusDisabled:
		return lti.Registration{}, &lti.Error{Reason: lti.ReasonPlatformDisabled,
			Message:        "Roundtable has been turned off for this LMS by its administrator.",
			Detail:         fmt.Sprintf("platform %s is disabled", p.ID),
			RegistrationID: p.ID}
	case StatusPending:
		return lti.Registration{}, &lti.Error{Reason: lti.ReasonPlatformPending,
			Message:        "This LMS is waiting for the Roundtable administrator to approve it. Please try again later.",
			Detail:         fmt.Sprintf("platform %s is pending approval", p.ID),
			RegistrationID: p.ID}
	}
	return p.Registration(), nil
}

// HasDeployment implements lti.Registrations.
func (r *Registry) HasDeployment(ctx context.Context, registrationID, deploymentID string) (bool, error) {
	var n int64
	err := r.db.WithContext(ctx).Raw(`SELECT COUNT(*) FROM deployments WHERE platform_id = ? AND deployment_id = ?`,
		registrationID, deploymentID).Scan(&n).Error
	return n > 0, err
}

// FrameOrigins lists the web origins that show a platform's pages with
// Roundtable in a frame: its issuer's and its authorization URL's, those its
// LMS family's cloud service frames from (lms.Family CloudFrameOrigins), and the
// origins of URLs from its signed launches (launch_presentation.return_url,
// the deep-linking return URL), which name the host the course is on when
// that is neither (a Canvas school on its own domain). Every origin is
// checked with lti.CheckFrameOrigin; what fails is left out.
func FrameOrigins(issuer, authURL string, launchURLs ...string) []string {
	var out []string
	add := func(o string, err error) {
		if err != nil {
			return
		}
		if o, err = lti.CheckFrameOrigin(o); err == nil && !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	for _, raw := range append([]string{issuer, authURL}, launchURLs...) {
		if raw != "" {
			add(lti.WebOrigin(raw))
		}
	}
	for _, o := range lms.ByIssuer(issuer).CloudFrameOrigins() {
		add(o, nil)
	}
	return out
}

// PlatformFrameOrigins is FrameOrigins of a registration by id, whatever
// its status (a pending or disabled platform shows the page that says so
// in its own frame), with the URLs of one of its signed launches.
func (r *Registry) PlatformFrameOrigins(ctx context.Context, id string, launchURLs ...string) ([]string, error) {
	var ps []Platform
	if err := r.db.WithContext(ctx).Select("issuer, auth_url").Where("id = ?", id).Limit(1).Find(&ps).Error; err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, nil
	}
	return FrameOrigins(ps[0].Issuer, ps[0].AuthURL, launchURLs...), nil
}
