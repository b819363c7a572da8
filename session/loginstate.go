package session

import (
	"context"
	"time"

	"gorm.io/gorm"
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
	return s.db.Relaxed().WithContext(ctx).Create(&ls).Error
}

// PeekLoginState returns a live login state without using it up.
func (s *Store) PeekLoginState(ctx context.Context, state string) (LoginState, bool, error) {
	var rows []LoginState
	if err := s.db.WithContext(ctx).Raw(`SELECT * FROM login_states WHERE state = ? AND expires_at > ?`, state, s.Now().UTC()).Scan(&rows).Error; err != nil {
		return LoginState{}, false, err
	}
	if len(rows) == 0 {
		return LoginState{}, false, nil
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
