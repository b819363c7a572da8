package session

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/tenant"
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

// SaveLoginState stores a login state.
func (s *Store) SaveLoginState(ctx context.Context, ls LoginState) error {
	ls.ExpiresAt = s.Now().UTC().Add(LoginStateTTL)
	// A login state lost in a crash only means opening the activity again.
	return s.db.Relaxed().WithContext(ctx).Exec(`INSERT INTO login_states (state, nonce, platform_id, browser_hash, target_link_uri, storage_target, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, ls.State, ls.Nonce, ls.PlatformID, ls.BrowserHash, ls.TargetLinkURI, ls.StorageTarget, ls.ExpiresAt).Error
}

// PendingLaunch is a live login state with the platform it belongs to.
type PendingLaunch struct {
	LoginState `gorm:"embedded"`
	Platform   tenant.Platform `gorm:"embedded"`
	// DeploymentKnown tells whether the deployment asked about is one of the
	// platform's registered deployments.
	DeploymentKnown bool
}

// PeekLaunch returns a live login state, without using it up, with its
// platform and whether deploymentID is registered for that platform: all
// that a launch needs before it verifies the token, in one query.
func (s *Store) PeekLaunch(ctx context.Context, state, deploymentID string) (PendingLaunch, bool, error) {
	var rows []PendingLaunch
	err := s.db.WithContext(ctx).Raw(`SELECT ls.*, p.*,
			EXISTS (SELECT 1 FROM deployments d WHERE d.platform_id = ls.platform_id AND d.deployment_id = ?) AS deployment_known
		FROM login_states ls JOIN platforms p ON p.id = ls.platform_id
		WHERE ls.state = ? AND ls.expires_at > ?`, deploymentID, state, s.Now().UTC()).Scan(&rows).Error
	if err != nil || len(rows) == 0 {
		return PendingLaunch{}, false, err
	}
	return rows[0], true, nil
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
