// Package admin keeps the accounts and sessions of Roundtable's admin
// console: the people who register LMS platforms and rotate keys. They are
// not LMS users and never come in through a launch. The package knows
// nothing of HTTP; the web package turns its errors into pages.
package admin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/lti"
	"github.com/roundtable-lms/roundtable/store"
)

// MinPasswordLen is the shortest password an account accepts.
const MinPasswordLen = 12

// User is an admin account.
type User struct {
	ID          string
	Email       string
	CreatedAt   time.Time
	LastLoginAt *time.Time
}

// Session is a signed-in admin.
type Session struct {
	IDHash     string
	AdminID    string
	Email      string
	CSRFToken  string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastSeenAt time.Time
}

type userRow struct {
	ID           string `gorm:"primaryKey"`
	Email        string
	PasswordHash string
	FailedLogins int
	LockedUntil  *time.Time
	CreatedAt    time.Time
	LastLoginAt  *time.Time
}

func (userRow) TableName() string { return "admin_users" }

type sessionRow struct {
	IDHash     string `gorm:"primaryKey"`
	AdminID    string
	CSRFToken  string `gorm:"column:csrf_token"`
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastSeenAt time.Time
}

func (sessionRow) TableName() string { return "admin_sessions" }

var (
	// ErrBadCredentials means the email or the password is wrong; which
	// one is not said.
	ErrBadCredentials = &roundtable.Error{Code: roundtable.EFORBIDDEN, Message: "That email and password do not match an administrator account."}
	// ErrNoSession means the secret names no live session.
	ErrNoSession = errors.New("no admin session")
)

// LockedError refuses a sign-in to an account locked after repeated
// failures, even with the right password.
type LockedError struct {
	Until time.Time
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("account locked until %s after too many failed sign-ins", e.Until.UTC().Format(time.RFC3339))
}

// Store reads and writes admin accounts and sessions.
type Store struct {
	db  *store.DB
	Now func() time.Time
	// Params are the cost of new password hashes.
	Params Params
	// MaxFailures failed sign-ins in a row lock an account for LockFor.
	MaxFailures int
	LockFor     time.Duration
	// A session ends after IdleTTL without a request, and AbsoluteTTL
	// after it began, whichever comes first.
	IdleTTL     time.Duration
	AbsoluteTTL time.Duration

	dummyOnce sync.Once
	dummyHash string
}

// NewStore returns an admin store on db with production settings.
func NewStore(db *store.DB) *Store {
	return &Store{db: db, Now: time.Now, Params: DefaultParams, MaxFailures: 5, LockFor: 15 * time.Minute,
		IdleTTL: 8 * time.Hour, AbsoluteTTL: 24 * time.Hour}
}

// NormalizeEmail trims and lower-cases an email address.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// ValidateEmail checks the shape of an address: one plain addr-spec with a
// dotted domain, such as admin@example.edu.
func ValidateEmail(email string) error {
	if email == "" {
		return roundtable.Errorf(roundtable.EINVALID, "email is required")
	}
	a, err := mail.ParseAddress(email)
	at := strings.LastIndex(email, "@")
	if err != nil || a.Address != email || a.Name != "" || len(email) > 254 || at < 1 || !strings.Contains(email[at+1:], ".") ||
		strings.HasSuffix(email, ".") {
		return roundtable.Errorf(roundtable.EINVALID, "%q is not an email address like name@example.edu", email)
	}
	return nil
}

// ValidatePassword checks a new password's length.
func ValidatePassword(password string) error {
	if n := utf8.RuneCountInString(password); n < MinPasswordLen {
		return roundtable.Errorf(roundtable.EINVALID, "the password must be at least %d characters long (it has %d)", MinPasswordLen, n)
	}
	if len(password) > 1024 {
		return roundtable.Errorf(roundtable.EINVALID, "the password must be at most 1024 bytes long")
	}
	return nil
}

// Create adds an admin account.
func (s *Store) Create(ctx context.Context, email, password string) (User, error) {
	email = NormalizeEmail(email)
	if err := ValidateEmail(email); err != nil {
		return User{}, err
	}
	if err := ValidatePassword(password); err != nil {
		return User{}, err
	}
	hash, err := HashPassword(password, s.Params)
	if err != nil {
		return User{}, err
	}
	r := userRow{ID: store.NewID(), Email: email, PasswordHash: hash, CreatedAt: s.Now().UTC()}
	if err := s.db.WithContext(ctx).Create(&r).Error; err != nil {
		if store.IsUniqueViolation(err) {
			return User{}, roundtable.Errorf(roundtable.ECONFLICT, "an administrator with email %s already exists", email)
		}
		return User{}, fmt.Errorf("create admin: %w", err)
	}
	return User{ID: r.ID, Email: r.Email, CreatedAt: r.CreatedAt}, nil
}

// SetPassword replaces an account's password and unlocks it. Its sessions
// end.
func (s *Store) SetPassword(ctx context.Context, email, password string) error {
	email = NormalizeEmail(email)
	if err := ValidatePassword(password); err != nil {
		return err
	}
	hash, err := HashPassword(password, s.Params)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		var r userRow
		if err := tx.Where("email = ?", email).First(&r).Error; err != nil {
			return fmt.Errorf("admin %s: %w", email, store.Translate(err))
		}
		if err := tx.Model(&userRow{}).Where("id = ?", r.ID).
			Updates(map[string]any{"password_hash": hash, "failed_logins": 0, "locked_until": nil}).Error; err != nil {
			return err
		}
		return tx.Where("admin_id = ?", r.ID).Delete(&sessionRow{}).Error
	})
}

// List returns every account by email.
func (s *Store) List(ctx context.Context) ([]User, error) {
	var rows []userRow
	if err := s.db.WithContext(ctx).Order("email").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]User, len(rows))
	for i, r := range rows {
		out[i] = User{ID: r.ID, Email: r.Email, CreatedAt: r.CreatedAt, LastLoginAt: r.LastLoginAt}
	}
	return out, nil
}

// Authenticate checks an email and password. MaxFailures wrong passwords
// in a row lock the account for LockFor; while locked, even the right
// password is refused with a *LockedError. An unknown email costs the same
// hashing work as a known one and gets the same ErrBadCredentials.
func (s *Store) Authenticate(ctx context.Context, email, password string) (User, error) {
	email = NormalizeEmail(email)
	var rows []userRow
	if email != "" && len(password) <= 1024 {
		if err := s.db.WithContext(ctx).Where("email = ?", email).Limit(1).Find(&rows).Error; err != nil {
			return User{}, err
		}
	}
	if len(rows) == 0 {
		s.burn(password)
		return User{}, ErrBadCredentials
	}
	r := rows[0]
	now := s.Now().UTC()
	if r.LockedUntil != nil && now.Before(*r.LockedUntil) {
		s.burn(password)
		return User{}, &LockedError{Until: *r.LockedUntil}
	}
	ok, err := CheckPassword(r.PasswordHash, password)
	if err != nil {
		return User{}, fmt.Errorf("admin %s: %w", r.ID, err)
	}
	if ok {
		err := s.db.WithContext(ctx).Model(&userRow{}).Where("id = ?", r.ID).
			Updates(map[string]any{"failed_logins": 0, "locked_until": nil, "last_login_at": now}).Error
		if err != nil {
			return User{}, err
		}
		return User{ID: r.ID, Email: r.Email, CreatedAt: r.CreatedAt, LastLoginAt: &now}, nil
	}
	var locked *time.Time
	err = s.db.Tx(ctx, func(tx *gorm.DB) error {
		// Count in the database, so that guesses sent in parallel or to
		// several replicas all count.
		if err := tx.Exec(`UPDATE admin_users SET failed_logins = failed_logins + 1 WHERE id = ?`, r.ID).Error; err != nil {
			return err
		}
		var n int
		if err := tx.Raw(`SELECT failed_logins FROM admin_users WHERE id = ?`, r.ID).Scan(&n).Error; err != nil {
			return err
		}
		if n < s.MaxFailures {
			return nil
		}
		until := now.Add(s.LockFor)
		locked = &until
		return tx.Exec(`UPDATE admin_users SET failed_logins = 0, locked_until = ? WHERE id = ?`, until, r.ID).Error
	})
	if err != nil {
		return User{}, err
	}
	if locked != nil {
		return User{}, &LockedError{Until: *locked}
	}
	return User{}, ErrBadCredentials
}

// burn spends the time a password check would, so that a refusal does
// not tell whether the account exists.
func (s *Store) burn(password string) {
	s.dummyOnce.Do(func() { s.dummyHash, _ = HashPassword("not a real password", s.Params) })
	CheckPassword(s.dummyHash, password)
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// CreateSession starts a session for an account and returns the secret
// the cookie carries; only its hash is stored.
func (s *Store) CreateSession(ctx context.Context, adminID string) (string, Session, error) {
	secret := lti.RandomToken(32)
	now := s.Now().UTC()
	r := sessionRow{IDHash: hashSecret(secret), AdminID: adminID, CSRFToken: lti.RandomToken(32),
		CreatedAt: now, ExpiresAt: now.Add(s.AbsoluteTTL), LastSeenAt: now}
	if err := s.db.WithContext(ctx).Create(&r).Error; err != nil {
		return "", Session{}, fmt.Errorf("create admin session: %w", store.Translate(err))
	}
	sess, err := s.FindSession(ctx, secret)
	return secret, sess, err
}

// FindSession returns the live session of a cookie secret and notes that
// it was seen, or ErrNoSession.
func (s *Store) FindSession(ctx context.Context, secret string) (Session, error) {
	if secret == "" || len(secret) > 100 {
		return Session{}, ErrNoSession
	}
	var rows []struct {
		IDHash     string
		AdminID    string
		CSRFToken  string `gorm:"column:csrf_token"`
		CreatedAt  time.Time
		ExpiresAt  time.Time
		LastSeenAt time.Time
		Email      string
	}
	err := s.db.WithContext(ctx).Raw(`SELECT s.id_hash, s.admin_id, s.csrf_token, s.created_at, s.expires_at, s.last_seen_at, u.email FROM admin_sessions s JOIN admin_users u ON u.id = s.admin_id WHERE s.id_hash = ?`,
		hashSecret(secret)).Scan(&rows).Error
	if err != nil {
		return Session{}, err
	}
	now := s.Now().UTC()
	if len(rows) == 0 || !now.Before(rows[0].ExpiresAt) || !now.Before(rows[0].LastSeenAt.Add(s.IdleTTL)) {
		return Session{}, ErrNoSession
	}
	r := rows[0]
	if now.Sub(r.LastSeenAt) > time.Minute {
		if err := s.db.WithContext(ctx).Model(&sessionRow{}).Where("id_hash = ?", r.IDHash).Update("last_seen_at", now).Error; err != nil {
			return Session{}, err
		}
		r.LastSeenAt = now
	}
	return Session{IDHash: r.IDHash, AdminID: r.AdminID, Email: r.Email, CSRFToken: r.CSRFToken,
		CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt, LastSeenAt: r.LastSeenAt}, nil
}

// DeleteSession ends the session of a cookie secret (sign out).
func (s *Store) DeleteSession(ctx context.Context, secret string) error {
	return s.db.WithContext(ctx).Where("id_hash = ?", hashSecret(secret)).Delete(&sessionRow{}).Error
}

// DeleteExpired removes sessions past their absolute or idle end.
func (s *Store) DeleteExpired(ctx context.Context) (int64, error) {
	now := s.Now().UTC()
	res := s.db.WithContext(ctx).Where("expires_at <= ? OR last_seen_at <= ?", now, now.Add(-s.IdleTTL)).Delete(&sessionRow{})
	return res.RowsAffected, res.Error
}
