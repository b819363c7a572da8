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
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/lti"
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

// Store reads and writes admin accounts and sessions.
type Store struct {
	db  *store.DB
	Now func() time.Time
	// Params are the cost of new password hashes.
	Params Params
	// AccountBackoff paces sign-in attempts per email address typed, and
	// AddressBackoff per client address (see signin.go).
	AccountBackoff Backoff
	AddressBackoff Backoff
	// MaxHashing is how many sign-ins may check a password at once (the
	// cores, by default); one more is refused with ErrBusy.
	MaxHashing int
	// Verify checks a password against a stored hash: CheckPassword,
	// which tests wrap to count or hold the checks.
	Verify func(encoded, password string) (bool, error)
	// A session ends after IdleTTL without a request, and AbsoluteTTL
	// after it began, whichever comes first.
	IdleTTL     time.Duration
	AbsoluteTTL time.Duration

	dummyOnce sync.Once
	dummyHash string
	slotsOnce sync.Once
	hashSlots chan struct{}
}

// NewStore returns an admin store on db with production settings.
func NewStore(db *store.DB) *Store {
	return &Store{db: db, Now: time.Now, Params: DefaultParams,
		AccountBackoff: DefaultAccountBackoff, AddressBackoff: DefaultAddressBackoff,
		MaxHashing: runtime.GOMAXPROCS(0), Verify: CheckPassword,
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

// SetPassword replaces an account's password and ends the waits its
// failed sign-ins set. Its sessions end.
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
		if err := tx.Model(&userRow{}).Where("id = ?", r.ID).Update("password_hash", hash).Error; err != nil {
			return err
		}
		if err := tx.Exec(`DELETE FROM admin_signin_attempts WHERE subject_hash = ?`, emailSubject(email, s.AccountBackoff).hash).Error; err != nil {
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

// Authenticate checks an email and password typed by a client at
// address. The attempt is counted first, under the email and under the
// address (see signin.go): when either must still wait, the answer is a
// *WaitError and no password is checked. When MaxHashing checks are
// running already, the answer is ErrBusy at once. An unknown email is
// counted and costs the same hashing work as a known one, and gets the
// same ErrBadCredentials. A success ends the email's waits.
func (s *Store) Authenticate(ctx context.Context, email, password, address string) (User, error) {
	email = NormalizeEmail(email)
	if !s.takeHashSlot() {
		return User{}, ErrBusy
	}
	defer s.releaseHashSlot()
	now := s.Now().UTC()
	account, client := emailSubject(email, s.AccountBackoff), addressSubject(address, s.AddressBackoff)
	if err := s.reserve(ctx, now, account, client); err != nil {
		return User{}, err
	}
	// The dummy hash is made before either path, so the first unknown
	// email does not take twice as long as a known one.
	s.dummyOnce.Do(func() { s.dummyHash, _ = HashPassword("not a real password", s.Params) })
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
	ok, err := s.Verify(r.PasswordHash, password)
	if err != nil {
		return User{}, fmt.Errorf("admin %s: %w", r.ID, err)
	}
	if !ok {
		// The attempt stays counted.
		return User{}, ErrBadCredentials
	}
	err = s.db.Tx(ctx, func(tx *gorm.DB) error {
		if err := s.signedIn(tx, account, client); err != nil {
			return err
		}
		return tx.Model(&userRow{}).Where("id = ?", r.ID).Update("last_login_at", now).Error
	})
	if err != nil {
		return User{}, err
	}
	return User{ID: r.ID, Email: r.Email, CreatedAt: r.CreatedAt, LastLoginAt: &now}, nil
}

// burn spends the time a password check would, so that a refusal does
// not tell whether the account exists.
func (s *Store) burn(password string) {
	s.Verify(s.dummyHash, password)
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
