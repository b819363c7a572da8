// Package session keeps the server-side sessions of launched users. A
// session is found by the secret in its cookie or, when the LMS iframe
// blocks that cookie, by a short-lived signed token carried in links and
// forms. See docs/sessions.md.
package session

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/internal/course"
	"github.com/roundtable-lms/roundtable/internal/memo"
	"github.com/roundtable-lms/roundtable/internal/store"
	"github.com/roundtable-lms/roundtable/lti"
)

// Session is one launched person in one activity: the person of the
// organisation OrgID, come through the registration PlatformID (whose
// services, frame origins and status the session uses).
type Session struct {
	IDHash     string
	OrgID      string
	PlatformID string
	UserID     string
	CourseID   string
	LinkID     string
	CohortID   string
	Roles      course.Roles
	// FrameOrigins are the web origins of the session's own LMS, which
	// may show its pages in a frame (see tenant.FrameOrigins).
	FrameOrigins []string
	CreatedAt    time.Time
	ExpiresAt    time.Time
}

type row struct {
	IDHash         string `gorm:"primaryKey"`
	OrgID          string
	PlatformID     string
	UserID         string
	CourseID       string
	ResourceLinkID string
	CohortID       string
	Roles          string
	FrameOrigins   string
	CreatedAt      time.Time
	ExpiresAt      time.Time
}

func (row) TableName() string { return "sessions" }

// ErrNoSession means the secret or token names no live session.
var ErrNoSession = errors.New("no session")

// Store creates and finds sessions.
type Store struct {
	db  *store.DB
	key []byte
	// stateKey seals login states (see NewLoginState).
	stateKey []byte
	// ticketKey signs platform-storage tickets (see StorageTicket).
	ticketKey []byte
	// TTL is a session's lifetime; TokenTTL a link token's.
	TTL      time.Duration
	TokenTTL time.Duration
	Now      func() time.Time

	cache memo.Map[string, Session]
}

// cacheTTL is how long this process keeps a session it has just created
// or read, so that page views do not each ask the database. Sessions never
// change after creation; a session removed elsewhere stays usable here
// for at most cacheTTL.
const cacheTTL = 30 * time.Second

// cached returns the session kept for idHash, while it and its keeping
// last.
func (s *Store) cached(idHash string, now time.Time) (Session, bool) {
	sess, ok := s.cache.Get(idHash, now)
	if !ok || !now.Before(sess.ExpiresAt) {
		return Session{}, false
	}
	return sess, true
}

func (s *Store) keep(sess Session, now time.Time) { s.cache.Put(sess.IDHash, sess, now.Add(cacheTTL)) }

// Remember caches a session whose creation has been committed.
func (s *Store) Remember(sess Session) { s.keep(sess, s.Now()) }

// DefaultTokenTTL is a link token's lifetime: a token copied out of a URL
// is soon worthless, while every page served, and the page script every
// few minutes (see RefreshEvery), hands a fresh one to the person using it.
const DefaultTokenTTL = 15 * time.Minute

// RefreshEvery is how often an open page asks for a fresh link token: well
// inside TokenTTL, so a person who reads or writes for a long while is not
// cut off.
const RefreshEvery = 5 * time.Minute

// NewStore returns a session store whose link tokens, login states and
// platform-storage tickets are signed with keys derived from secret, one
// for each.
func NewStore(db *store.DB, secret []byte) *Store {
	return &Store{db: db, key: deriveKey(secret, "roundtable session tokens v1"), stateKey: deriveKey(secret, loginStateLabel),
		ticketKey: deriveKey(secret, "roundtable platform storage ticket v1"),
		TTL:       12 * time.Hour, TokenTTL: DefaultTokenTTL, Now: time.Now}
}

// deriveKey is the key of one purpose, named by label, derived from the
// server's secret: a value signed for one purpose is no use for another.
func deriveKey(secret []byte, label string) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(label))
	return mac.Sum(nil)
}

// HashSecret is the hash a session is stored and named under.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Create stores a new session inside tx and returns the secret that the
// cookie carries. Only its hash is stored.
func (s *Store) Create(ctx context.Context, tx *gorm.DB, sess Session) (string, Session, error) {
	secret, r := s.newRow(sess)
	if err := insertRow(tx.WithContext(ctx), r); err != nil {
		return "", Session{}, fmt.Errorf("create session: %w", err)
	}
	return secret, r.session(), nil
}

// consumeUsed spends a login state; the statements after it in
// consumeAndCreate take effect only if this was its first spending.
const consumeUsed = `WITH used AS (` + spendState + ` RETURNING id)`

// consumeAndCreate uses up a login state and opens a session in one
// Postgres statement.
const consumeAndCreate = consumeUsed + `
	INSERT INTO sessions (id_hash, org_id, platform_id, user_id, course_id, resource_link_id, cohort_id, roles, frame_origins, created_at, expires_at)
	SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM used`

// ConsumeAndCreate uses up a login state and opens a session in one atomic
// step, committed without waiting for the disk (see store.TxRelaxed). used
// is false, and nothing is created, when the state was already used or has
// expired. Each of also, an UPDATE ending in its WHERE clause, is written
// in the same step only when the state is used: on Postgres all of it is
// one statement.
func (s *Store) ConsumeAndCreate(ctx context.Context, state LoginState, sess Session, also ...store.Stmt) (secret string, created Session, used bool, err error) {
	if !s.spendable(state) {
		return "", Session{}, false, nil
	}
	if s.db.Dialect == store.Postgres {
		secret, r := s.newRow(sess)
		q, args := consumeAndCreate, []any{state.ID, state.ExpiresAt.UTC()}
		if len(also) > 0 {
			var b strings.Builder
			b.WriteString(consumeAndCreate[:len(consumeUsed)])
			for i, st := range also {
				fmt.Fprintf(&b, ", also%d AS (%s AND EXISTS (SELECT 1 FROM used))", i, st.SQL)
				args = append(args, st.Args...)
			}
			b.WriteString(consumeAndCreate[len(consumeUsed):])
			q = b.String()
		}
		args = append(args, r.IDHash, r.OrgID, r.PlatformID, r.UserID, r.CourseID, r.ResourceLinkID, r.CohortID, r.Roles, r.FrameOrigins, r.CreatedAt, r.ExpiresAt)
		res, err := s.db.ExecRelaxed(ctx, q, args...)
		if err != nil {
			return "", Session{}, false, err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return "", Session{}, false, err
		}
		return secret, r.session(), true, nil
	}
	err = s.db.TxRelaxed(ctx, func(tx *gorm.DB) error {
		secret, created, used, err = s.ConsumeAndCreateIn(ctx, tx, state, sess)
		if err != nil || !used {
			return err
		}
		for _, st := range also {
			if err := tx.WithContext(ctx).Exec(st.SQL, st.Args...).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || !used {
		return "", Session{}, false, err
	}
	return secret, created, true, nil
}

// ConsumeAndCreateIn is ConsumeAndCreate inside tx, the caller's
// transaction, as the last step of a launch that records something: on
// Postgres one statement, saving the launch a round trip. Of two launches
// with the same state, the second waits for the first to commit and finds
// the state used; its caller rolls back what it wrote.
func (s *Store) ConsumeAndCreateIn(ctx context.Context, tx *gorm.DB, state LoginState, sess Session) (secret string, created Session, used bool, err error) {
	if !s.spendable(state) {
		return "", Session{}, false, nil
	}
	secret, r := s.newRow(sess)
	tx = tx.WithContext(ctx)
	if s.db.Dialect == store.Postgres {
		res := tx.Exec(consumeAndCreate,
			state.ID, state.ExpiresAt.UTC(), r.IDHash, r.OrgID, r.PlatformID, r.UserID, r.CourseID, r.ResourceLinkID, r.CohortID, r.Roles, r.FrameOrigins, r.CreatedAt, r.ExpiresAt)
		if res.Error != nil || res.RowsAffected != 1 {
			return "", Session{}, false, res.Error
		}
		return secret, r.session(), true, nil
	}
	if used, err = s.ConsumeLoginState(ctx, tx, state); err != nil || !used {
		return "", Session{}, false, err
	}
	if err := insertRow(tx, r); err != nil {
		return "", Session{}, false, fmt.Errorf("create session: %w", err)
	}
	return secret, r.session(), true, nil
}

func (s *Store) newRow(sess Session) (string, row) {
	secret := lti.RandomToken(32)
	now := s.Now().UTC()
	return secret, row{IDHash: HashSecret(secret), OrgID: sess.OrgID, PlatformID: sess.PlatformID, UserID: sess.UserID, CourseID: sess.CourseID,
		ResourceLinkID: sess.LinkID, CohortID: sess.CohortID, Roles: sess.Roles.String(),
		FrameOrigins: strings.Join(sess.FrameOrigins, " "), CreatedAt: now, ExpiresAt: now.Add(s.TTL)}
}

func insertRow(tx *gorm.DB, r row) error {
	return tx.Exec(`INSERT INTO sessions (id_hash, org_id, platform_id, user_id, course_id, resource_link_id, cohort_id, roles, frame_origins, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.IDHash, r.OrgID, r.PlatformID, r.UserID, r.CourseID, r.ResourceLinkID, r.CohortID, r.Roles, r.FrameOrigins, r.CreatedAt, r.ExpiresAt).Error
}

func (r row) session() Session {
	return Session{IDHash: r.IDHash, OrgID: r.OrgID, PlatformID: r.PlatformID, UserID: r.UserID, CourseID: r.CourseID,
		LinkID: r.ResourceLinkID, CohortID: r.CohortID, Roles: course.ParseRoles(r.Roles),
		FrameOrigins: strings.Fields(r.FrameOrigins), CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt}
}

// FromSecret finds the live session of a cookie secret.
func (s *Store) FromSecret(ctx context.Context, secret string) (Session, error) {
	if secret == "" || len(secret) > 100 {
		return Session{}, ErrNoSession
	}
	return s.byHash(ctx, HashSecret(secret))
}

func (s *Store) byHash(ctx context.Context, idHash string) (Session, error) {
	if sess, ok := s.cached(idHash, s.Now()); ok {
		return sess, nil
	}
	var rows []row
	if err := s.db.WithContext(ctx).Raw(`SELECT * FROM sessions WHERE id_hash = ?`, idHash).Scan(&rows).Error; err != nil {
		return Session{}, err
	}
	if len(rows) == 0 || !s.Now().Before(rows[0].ExpiresAt) {
		return Session{}, ErrNoSession
	}
	sess := rows[0].session()
	s.keep(sess, s.Now())
	return sess, nil
}

// Token returns a link token for sess, valid for TokenTTL (never past the
// session's own end). It names the session by its hash, never its secret.
func (s *Store) Token(sess Session) string {
	exp := s.Now().Add(s.TokenTTL)
	if exp.After(sess.ExpiresAt) {
		exp = sess.ExpiresAt
	}
	idHash, err := hex.DecodeString(sess.IDHash)
	if err != nil || len(idHash) != sha256.Size {
		return ""
	}
	payload := make([]byte, 0, 8+sha256.Size)
	payload = binary.BigEndian.AppendUint64(payload, uint64(exp.Unix()))
	payload = append(payload, idHash...)
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(s.sign(payload))
}

func (s *Store) sign(payload []byte) []byte {
	mac := hmac.New(sha256.New, s.key)
	mac.Write(payload)
	return mac.Sum(nil)
}

// FromToken finds the live session a link token names.
func (s *Store) FromToken(ctx context.Context, token string) (Session, error) {
	idHash, exp, ok := s.readToken(token)
	if !ok || !s.Now().Before(exp) {
		return Session{}, ErrNoSession
	}
	return s.byHash(ctx, idHash)
}

// FromStaleToken finds the live session a link token names even after the
// token itself expired: not to let anyone in, but to tell which LMS may
// show the page that says the session has ended.
func (s *Store) FromStaleToken(ctx context.Context, token string) (Session, error) {
	idHash, _, ok := s.readToken(token)
	if !ok {
		return Session{}, ErrNoSession
	}
	return s.byHash(ctx, idHash)
}

// readToken checks a link token's signature and returns the session hash
// and expiry it carries.
func (s *Store) readToken(token string) (idHash string, exp time.Time, ok bool) {
	if token == "" || len(token) > 200 {
		return "", time.Time{}, false
	}
	p64, sig64, found := strings.Cut(token, ".")
	if !found {
		return "", time.Time{}, false
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p64)
	sig, err2 := base64.RawURLEncoding.DecodeString(sig64)
	if err1 != nil || err2 != nil || len(payload) != 8+sha256.Size {
		return "", time.Time{}, false
	}
	if subtle.ConstantTimeCompare(sig, s.sign(payload)) != 1 {
		return "", time.Time{}, false
	}
	exp = time.Unix(int64(binary.BigEndian.Uint64(payload[:8])), 0)
	return hex.EncodeToString(payload[8:]), exp, true
}

// End ends a session at once (signing out): its row goes, so neither its
// cookie nor any of its link tokens finds it again. This process forgets
// it now; another replica that read it in the last cacheTTL may serve it
// until its cached copy expires.
func (s *Store) End(ctx context.Context, sess Session) error {
	s.cache.Delete(sess.IDHash)
	if err := s.db.WithContext(ctx).Exec(`DELETE FROM sessions WHERE id_hash = ?`, sess.IDHash).Error; err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	// A request still reading the row when it went may have cached it.
	s.cache.Delete(sess.IDHash)
	return nil
}

// DeleteExpired removes sessions past their end.
func (s *Store) DeleteExpired(ctx context.Context) (int64, error) {
	res := s.db.WithContext(ctx).Where("expires_at < ?", s.Now().UTC()).Delete(&row{})
	return res.RowsAffected, res.Error
}

// CSRFToken is the value every state-changing form of a session carries: an
// HMAC of the session's id hash under the key that signs link tokens, so it
// is bound to the session and cannot be made without the server's secret.
func (s *Store) CSRFToken(sess Session) string {
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte("csrf\x00"))
	mac.Write([]byte(sess.IDHash))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// CheckCSRF reports whether token is sess's CSRF token.
func (s *Store) CheckCSRF(sess Session, token string) bool {
	if token == "" || sess.IDHash == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(token), []byte(s.CSRFToken(sess))) == 1
}

// SwitchCohort moves a staff member's view of the activity to another
// cohort of the course. It issues a new session for it, with the same
// person, activity, roles and end, rather than changing the old one in
// place: every replica's cache holds sessions by id for up to cacheTTL and
// a changed row would show the old cohort there until it expired, while a
// new id is read fresh by whichever replica serves the next request. The
// old session keeps its cohort (a tab still open on it stays consistent)
// and ends as it would have. The caller checks that the person is staff
// and the cohort is the course's.
func (s *Store) SwitchCohort(ctx context.Context, old Session, cohortID string) (string, Session, error) {
	sess := old
	sess.CohortID = cohortID
	secret, r := s.newRow(sess)
	r.ExpiresAt = old.ExpiresAt
	if err := insertRow(s.db.DB.WithContext(ctx), r); err != nil {
		return "", Session{}, fmt.Errorf("switch cohort: %w", err)
	}
	created := r.session()
	s.Remember(created)
	return secret, created, nil
}
