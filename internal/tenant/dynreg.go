package tenant

import (
	"context"
	"net/url"
	"strings"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/internal/lms"
	"github.com/roundtable-lms/roundtable/lti"
)

// How a platform came to be registered.
const (
	RegisteredManually    = "manual"
	RegisteredDynamically = "dynamic"
)

// FromDynamicRegistration is the platform that a finished LTI Dynamic
// Registration describes: the platform's configuration and its answer to
// the client registration. status is StatusActive under the open
// registration policy, StatusPending under approval.
func FromDynamicRegistration(cfg *lti.PlatformConfiguration, answer *lti.ClientRegistration, requestedScope, status string) Platform {
	p := Platform{
		Issuer:                cfg.Issuer,
		ClientID:              answer.ClientID,
		AuthURL:               cfg.AuthorizationEndpoint,
		TokenURL:              cfg.TokenEndpoint,
		TokenAudience:         cfg.AuthorizationServer,
		JWKSURL:               cfg.JWKSURI,
		Status:                status,
		RegisteredBy:          RegisteredDynamically,
		AnnouncedScopes:       strings.Join(answer.AnnouncedScopes(requestedScope), " "),
		RegistrationClientURI: answer.RegistrationClientURI,
	}
	if cfg.LTI != nil {
		p.ProductVersion = cfg.LTI.Version
	}
	family := lms.FromConfiguration(cfg)
	p.LMSFamily = family.Code()
	p.Name = platformName(family, cfg.Issuer)
	if d := answer.DeploymentID(); d != "" {
		p.Deployments = []string{d}
	}
	return p
}

// platformName is a readable name for a platform that did not give one:
// its family and host, "Moodle (moodle.example.edu)".
func platformName(family lms.Family, issuer string) string {
	host := issuer
	if u, err := url.Parse(issuer); err == nil && u.Host != "" {
		host = u.Host
	}
	name := family.Name()
	if name == "" {
		return host
	}
	return name + " (" + host + ")"
}

// AddDynamic saves a platform that registered itself by LTI Dynamic
// Registration. It is called only once the platform has accepted the
// registration, so a failed registration leaves nothing behind.
func (r *Registry) AddDynamic(ctx context.Context, p Platform) (Platform, error) {
	p.RegisteredBy = RegisteredDynamically
	// An organisation of its own: a registration that claims an issuer
	// another customer's registration has (cloud LMSs share one) must never
	// reach that customer's people.
	p.OrgID = ""
	if r.JoinDynamic != nil {
		p.OrgID = r.JoinDynamic(p)
	}
	return r.Add(ctx, p)
}

// AwaitsFirstDeployment reports whether the platform registered
// dynamically without a deployment id and has none yet: its first verified
// launch will bring one (older Canvas does not return it at registration).
func (r *Registry) AwaitsFirstDeployment(ctx context.Context, platformID string) (bool, error) {
	var n int64
	err := r.db.WithContext(ctx).Raw(`SELECT COUNT(*) FROM platforms p WHERE p.id = ? AND p.registered_by = ?
		AND NOT EXISTS (SELECT 1 FROM deployments d WHERE d.platform_id = p.id)`, platformID, RegisteredDynamically).Scan(&n).Error
	return n > 0, err
}

// AcceptDeployment records deploymentID as the platform's first deployment
// when the platform registered dynamically and has no deployment yet, and
// reports whether the deployment is now registered. Call it only with a
// deployment id from a verified id_token. Two first launches racing with
// different deployments cannot both win: the platform row is locked first.
func (r *Registry) AcceptDeployment(ctx context.Context, platformID, deploymentID string) (bool, error) {
	deploymentID = strings.TrimSpace(deploymentID)
	if deploymentID == "" {
		return false, nil
	}
	accepted := false
	err := r.db.Tx(ctx, func(tx *gorm.DB) error {
		now := r.Now().UTC()
		// Take the platform row's write lock (Postgres row lock; SQLite
		// write lock) before reading the deployments.
		res := tx.Exec(`UPDATE platforms SET updated_at = ? WHERE id = ? AND registered_by = ?`, now, platformID, RegisteredDynamically)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		var ids []string
		if err := tx.Raw(`SELECT deployment_id FROM deployments WHERE platform_id = ?`, platformID).Scan(&ids).Error; err != nil {
			return err
		}
		switch {
		case len(ids) == 0:
			accepted = true
			return tx.Create(&deploymentRow{PlatformID: platformID, DeploymentID: deploymentID, CreatedAt: now}).Error
		case len(ids) == 1 && ids[0] == deploymentID:
			accepted = true // a concurrent first launch recorded it
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	return accepted, nil
}

// RegistrationFrameOrigins lists the origins that may show the tool's
// registration page in a frame while a platform registers: the origin of
// its configuration URL (a Canvas school on its own domain frames the page
// from there) and, for LMS families that serve their pages on other hosts
// than their issuer, those hosts. A configuration URL that fails
// lti.CheckWebURL gives none.
func RegistrationFrameOrigins(configURL string) []string {
	o, err := lti.WebOrigin(configURL)
	if err != nil {
		return nil
	}
	return FrameOrigins(o, "")
}
