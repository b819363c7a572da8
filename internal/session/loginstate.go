package session

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/internal/tenant"
	"github.com/roundtable-lms/roundtable/lti"
)

// LoginState is what the tool remembers between an OIDC login initiation
// and the launch that answers it. Single use and short-lived.
type LoginState struct {
	State         string `gorm:"primaryKey"`
	Nonce         string
	PlatformID    string
	BrowserHash   string
	TargetLinkURI string
	StorageTarget string
	ExpiresAt     time.Time
}

func (LoginState) TableName() string { return "login_states" }

// LoginStateTTL bounds how long a person may take between the login
// redirect and the launch post.
const LoginStateTTL = 10 * time.Minute

// DefaultMaxPendingLogins is how many unfinished logins a platform may
// have at once unless the Store says otherwise.
const DefaultMaxPendingLogins = 10000

// ErrTooManyLogins refuses a login while its platform already has
// MaxPendingLogins unfinished ones: whoever starts logins without finishing
// them cannot fill the database, only wait until some expire.
var ErrTooManyLogins = errors.New("too many unfinished logins for this platform")

// pendingBelowMax is true while a platform (the first argument) has fewer
// unexpired login states (expiring after the second) than the maximum (the
// third and fourth). The count stops at the maximum, so it reads at most
// that many index entries, whatever the table holds.
const pendingBelowMax = `(SELECT COUNT(*) FROM (SELECT 1 FROM login_states WHERE platform_id = ? AND expires_at > ? LIMIT ?) pending) < ?`

// SaveLoginState stores a login state, unless its platform has too many
// unfinished logins already (ErrTooManyLogins).
func (s *Store) SaveLoginState(ctx context.Context, ls LoginState) error {
	now := s.Now().UTC()
	ls.ExpiresAt = now.Add(LoginStateTTL)
	max := s.PendingLoginLimit()
	// A login state lost in a crash only means opening the activity again.
	res, err := s.db.ExecRelaxed(ctx, `INSERT INTO login_states (state, nonce, platform_id, browser_hash, target_link_uri, storage_target, expires_at)
		SELECT ?, ?, ?, ?, ?, ?, ? WHERE `+pendingBelowMax,
		ls.State, ls.Nonce, ls.PlatformID, ls.BrowserHash, ls.TargetLinkURI, ls.StorageTarget, ls.ExpiresAt,
		ls.PlatformID, now, max, max)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return errors.Join(err, ErrTooManyLogins)
	}
	return nil
}

// PendingLoginLimit is how many unfinished logins one platform may have.
func (s *Store) PendingLoginLimit() int {
	if s.MaxPendingLogins > 0 {
		return s.MaxPendingLogins
	}
	return DefaultMaxPendingLogins
}

// BeginLogin finds the registration a login names and, when it is usable
// and the deployment is one of its own (or none was named), saves the login
// state for it: on Postgres in one statement. saved is false when the state
// still needs saving (an unknown deployment that the caller may accept);
// err explains an unknown, ambiguous, disabled or pending platform (reg
// then names the platform when there is one), or is ErrTooManyLogins.
func (s *Store) BeginLogin(ctx context.Context, registry *tenant.Registry, issuer, clientID, deploymentID string, ls LoginState) (reg lti.Registration, deploymentKnown, saved bool, err error) {
	now := s.Now().UTC()
	ls.ExpiresAt = now.Add(LoginStateTTL)
	if s.db.Dialect != store.Postgres {
		reg, deploymentKnown, err = registry.FindForLogin(ctx, issuer, clientID, deploymentID)
		if err != nil || (deploymentID != "" && !deploymentKnown) {
			return reg, deploymentKnown, false, err
		}
		ls.PlatformID = reg.ID
		err = s.SaveLoginState(ctx, ls)
		return reg, deploymentKnown, err == nil, err
	}
	q := `WITH p AS (
			SELECT id, issuer, client_id, auth_url, token_url, token_audience, jwks_url, status,
				EXISTS (SELECT 1 FROM deployments d WHERE d.platform_id = platforms.id AND d.deployment_id = ?) AS has_deployment
			FROM platforms WHERE issuer = ? AND (? = '' OR client_id = ?) LIMIT 2
		), ins AS (
			INSERT INTO login_states (state, nonce, platform_id, browser_hash, target_link_uri, storage_target, expires_at)
			SELECT ?, ?, p.id, ?, ?, ?, ? FROM p
			WHERE (SELECT COUNT(*) FROM p) = 1 AND p.status = 'active' AND (? = '' OR p.has_deployment)
				AND (SELECT COUNT(*) FROM (SELECT 1 FROM login_states WHERE platform_id = p.id AND expires_at > ? LIMIT ?) pending) < ?
			RETURNING platform_id
		)
		SELECT p.id, p.issuer, p.client_id, p.auth_url, p.token_url, p.token_audience, p.jwks_url, p.status, p.has_deployment,
			EXISTS (SELECT 1 FROM ins)
		FROM p`
	max := s.PendingLoginLimit()
	rows, err := s.db.RelaxedSQL().QueryContext(ctx, s.db.Rebind(q), deploymentID, issuer, clientID, clientID,
		ls.State, ls.Nonce, ls.BrowserHash, ls.TargetLinkURI, ls.StorageTarget, ls.ExpiresAt, deploymentID, now, max, max)
	if err != nil {
		return lti.Registration{}, false, false, err
	}
	defer rows.Close()
	var found []tenant.Platform
	var hasDeployment bool
	for rows.Next() {
		var p tenant.Platform
		if err := rows.Scan(&p.ID, &p.Issuer, &p.ClientID, &p.AuthURL, &p.TokenURL, &p.TokenAudience, &p.JWKSURL, &p.Status, &hasDeployment, &saved); err != nil {
			return lti.Registration{}, false, false, err
		}
		found = append(found, p)
	}
	if err := rows.Err(); err != nil {
		return lti.Registration{}, false, false, err
	}
	reg, deploymentKnown, err = tenant.ChooseForLogin(found, hasDeployment, issuer, clientID, deploymentID)
	if err == nil && !saved && (deploymentID == "" || deploymentKnown) {
		// Everything else allowed the insert: the platform is full.
		err = ErrTooManyLogins
	}
	return reg, deploymentKnown, saved && err == nil, err
}

// PendingLaunch is a live login state with the platform it belongs to.
type PendingLaunch struct {
	LoginState
	Platform tenant.Platform
	// DeploymentKnown tells whether the deployment asked about is one of the
	// platform's registered deployments.
	DeploymentKnown bool
}

// PeekLaunch returns a live login state, without using it up, with its
// platform and whether deploymentID is registered for that platform: all
// that a launch needs before it verifies the token, in one query.
func (s *Store) PeekLaunch(ctx context.Context, state, deploymentID string) (PendingLaunch, bool, error) {
	var pl PendingLaunch
	ls, p := &pl.LoginState, &pl.Platform
	err := s.db.QueryRow(ctx, `SELECT ls.state, ls.nonce, ls.platform_id, ls.browser_hash, ls.target_link_uri, ls.storage_target, ls.expires_at,
			p.id, p.org_id, p.issuer, p.client_id, p.auth_url, p.token_url, p.token_audience, p.jwks_url, p.status,
			EXISTS (SELECT 1 FROM deployments d WHERE d.platform_id = ls.platform_id AND d.deployment_id = ?)
		FROM login_states ls JOIN platforms p ON p.id = ls.platform_id
		WHERE ls.state = ? AND ls.expires_at > ?`, deploymentID, state, s.Now().UTC()).
		Scan(&ls.State, &ls.Nonce, &ls.PlatformID, &ls.BrowserHash, &ls.TargetLinkURI, &ls.StorageTarget, &ls.ExpiresAt,
			&p.ID, &p.OrgID, &p.Issuer, &p.ClientID, &p.AuthURL, &p.TokenURL, &p.TokenAudience, &p.JWKSURL, &p.Status, &pl.DeploymentKnown)
	if errors.Is(err, sql.ErrNoRows) {
		return PendingLaunch{}, false, nil
	}
	if err != nil {
		return PendingLaunch{}, false, err
	}
	return pl, true, nil
}

// ConsumeLoginState deletes the state inside tx and reports whether this
// call was the one that used it: of two concurrent launches with the same
// state, exactly one gets true.
func (s *Store) ConsumeLoginState(ctx context.Context, tx *gorm.DB, state string) (bool, error) {
	res := tx.WithContext(ctx).Exec(`DELETE FROM login_states WHERE state = ? AND expires_at > ?`, state, s.Now().UTC())
	return res.RowsAffected == 1, res.Error
}

// DeleteExpiredLoginStates removes abandoned logins.
func (s *Store) DeleteExpiredLoginStates(ctx context.Context) (int64, error) {
	res := s.db.WithContext(ctx).Where("expires_at < ?", s.Now().UTC()).Delete(&LoginState{})
	return res.RowsAffected, res.Error
}
