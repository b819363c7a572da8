// Package tenant keeps the LMS platforms registered with Roundtable and
// their deployments. Every course row belongs to one of these platforms.
package tenant

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/store"
)

// Status of a platform registration.
const (
	StatusActive   = "active"
	StatusPending  = "pending"
	StatusDisabled = "disabled"
)

// Platform is one registration: an issuer and the client id it gave us.
type Platform struct {
	ID            string `gorm:"primaryKey"`
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
	// other three come from LTI Dynamic Registration (see dynreg.go).
	RegisteredBy          string `gorm:"default:manual"`
	Scopes                string
	ProductVersion        string
	RegistrationClientURI string

	Deployments []string `gorm:"-"`
}

type deploymentRow struct {
	PlatformID   string `gorm:"primaryKey"`
	DeploymentID string `gorm:"primaryKey"`
	CreatedAt    time.Time
}

func (deploymentRow) TableName() string { return "deployments" }

// Registration is the platform as the LTI protocol code sees it.
func (p Platform) Registration() lti.Registration {
	return lti.Registration{
		ID: p.ID, Issuer: p.Issuer, ClientID: p.ClientID, AuthURL: p.AuthURL,
		TokenURL: p.TokenURL, TokenAudience: p.TokenAudience, JWKSURL: p.JWKSURL,
	}
}

// Registry reads and writes platform registrations. It caches nothing, so a
// registration added or removed by another process takes effect at once.
type Registry struct {
	db  *store.DB
	Now func() time.Time

	touches  touchLog
	refusals touchLog
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
		{"token URL", p.TokenURL, false},
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

// checkURL accepts https URLs, and http only on loopback hosts (a local LMS).
func checkURL(s string) error {
	if s == "" {
		return errors.New("is required")
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", s)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		h := u.Hostname()
		if h == "localhost" || h == "127.0.0.1" || h == "::1" || strings.HasSuffix(h, ".localhost") {
			return nil
		}
		return fmt.Errorf("%q must use https", s)
	}
	return fmt.Errorf("%q must use https", s)
}

// Add saves a new registration with its deployments.
func (r *Registry) Add(ctx context.Context, p Platform) (Platform, error) {
	if err := p.Validate(); err != nil {
		return Platform{}, err
	}
	now := r.Now().UTC()
	p.ID = store.NewID() // never starts with "-", so it is safe as a command-line argument
	p.CreatedAt, p.UpdatedAt = now, now
	err := r.db.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&p).Error; err != nil {
			if store.IsUniqueViolation(err) {
				return roundtable.Errorf(roundtable.ECONFLICT, "a platform with issuer %s and client id %s is already registered", p.Issuer, p.ClientID)
			}
			return err
		}
		return addDeployments(tx, p.ID, p.Deployments, now)
	})
	if err != nil {
		return Platform{}, err
	}
	return p, nil
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

// Remove deletes a registration and, through the foreign keys, everything
// that belongs to it.
func (r *Registry) Remove(ctx context.Context, id string) error {
	res := r.db.WithContext(ctx).Where("id = ?", id).Delete(&Platform{})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("platform %q: %w", id, store.ErrNotFound)
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
			Message: "Roundtable has been turned off for this LMS by its administrator.",
			Detail:  fmt.Sprintf("platform %s is disabled", p.ID)}
	case StatusPending:
		return lti.Registration{}, &lti.Error{Reason: lti.ReasonPlatformPending,
			Message: "This LMS is waiting for the Roundtable administrator to approve it. Please try again later.",
			Detail:  fmt.Sprintf("platform %s is pending approval", p.ID)}
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

// FrameOrigins lists the web origins of every active platform (issuer and
// authorization URL), which may embed Roundtable in a frame.
func (r *Registry) FrameOrigins(ctx context.Context) ([]string, error) {
	var ps []Platform
	if err := r.db.WithContext(ctx).Select("issuer, auth_url").Where("status = ?", StatusActive).Find(&ps).Error; err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	add := func(o string) {
		if !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	for _, p := range ps {
		for _, raw := range []string{p.Issuer, p.AuthURL} {
			if u, err := url.Parse(raw); err == nil && u.Host != "" {
				add(u.Scheme + "://" + u.Host)
			}
		}
		for _, o := range extraFrameOrigins(p.Issuer) {
			add(o)
		}
	}
	return out, nil
}
