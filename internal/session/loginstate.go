package session

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable/internal/tenant"
)

// LoginState is what the tool remembers between an OIDC login initiation
// and the launch that answers it. It is kept nowhere: the login hands it
// to the platform, sealed, as the OIDC state, and the launch gets it back
// (see NewLoginState). Single use and short-lived: a launch spends it by
// recording its ID in used_login_states.
type LoginState struct {
	// State is the sealed form, as posted by the platform.
	State string
	// ID names the state once it is spent.
	ID            string
	Nonce         string
	PlatformID    string
	BrowserHash   string
	StorageTarget string
	ExpiresAt     time.Time
}

// LoginStateTTL bounds how long a person may take between the login
// redirect and the launch post.
const LoginStateTTL = 10 * time.Minute

// usedGrace keeps a spent state's record a little past its expiry, so that
// a server whose clock is behind the janitor's still finds it.
const usedGrace = 2 * time.Minute

// The sealed state is base64url of
//
//	version (1) | expiry, unix seconds (8) | id (16) | nonce (24) |
//	browser hash (32) | len(platform id) (1) | platform id |
//	len(storage target) (1) | storage target | HMAC-SHA256 (32)
//
// the MAC taken under a key of its own (loginStateLabel) over everything
// before it. Nothing in it is secret from the browser or the platform:
// the nonce goes to the platform in the same redirect, and the browser
// hash is a SHA-256 of a random cookie. A MAC is enough; a cipher would
// only hide what both already see.
const (
	loginStateVersion = 1
	loginStateLabel   = "roundtable oidc login state v1"
	loginStateFixed   = 1 + 8 + 16 + 24 + 32
	loginStateMAC     = sha256.Size
	// maxLoginStateField bounds the platform id and storage target.
	maxLoginStateField = 255
	// MaxLoginStateLen bounds a sealed state's length.
	MaxLoginStateLen = (loginStateFixed + 2 + 2*maxLoginStateField + loginStateMAC + 2) / 3 * 4
)

// ErrLoginStateField refuses to seal a platform id or storage target
// longer than a state carries.
var ErrLoginStateField = errors.New("login state field too long")

// NewLoginState returns a fresh login state for a platform: a random id
// and nonce, expiring after LoginStateTTL, sealed.
func (s *Store) NewLoginState(platformID, browserHash, storageTarget string) (LoginState, error) {
	var id [16]byte
	var nonce [24]byte
	rand.Read(id[:])
	rand.Read(nonce[:])
	bh, err := hex.DecodeString(browserHash)
	if err != nil || len(bh) != sha256.Size {
		return LoginState{}, errors.New("login state: browser hash is not a hex SHA-256")
	}
	if len(platformID) > maxLoginStateField || len(storageTarget) > maxLoginStateField {
		return LoginState{}, ErrLoginStateField
	}
	exp := s.Now().Add(LoginStateTTL).Truncate(time.Second)
	b := make([]byte, 0, loginStateFixed+2+len(platformID)+len(storageTarget)+loginStateMAC)
	b = append(b, loginStateVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(exp.Unix()))
	b = append(b, id[:]...)
	b = append(b, nonce[:]...)
	b = append(b, bh...)
	b = append(b, byte(len(platformID)))
	b = append(b, platformID...)
	b = append(b, byte(len(storageTarget)))
	b = append(b, storageTarget...)
	b = s.loginStateMAC(b)
	return LoginState{
		State:         base64.RawURLEncoding.EncodeToString(b),
		ID:            base64.RawURLEncoding.EncodeToString(id[:]),
		Nonce:         base64.RawURLEncoding.EncodeToString(nonce[:]),
		PlatformID:    platformID,
		BrowserHash:   browserHash,
		StorageTarget: storageTarget,
		ExpiresAt:     exp.UTC(),
	}, nil
}

// loginStateMAC appends the MAC of b to it.
func (s *Store) loginStateMAC(b []byte) []byte {
	mac := hmac.New(sha256.New, s.stateKey)
	mac.Write(b)
	return mac.Sum(b)
}

// ErrBadLoginState means a state that this server did not seal (or sealed
// with another secret), that was altered, or that has expired.
var ErrBadLoginState = errors.New("login state forged, altered or expired")

// OpenLoginState checks a sealed state's MAC, in constant time, and its
// expiry, and returns what it carries. It reads nothing: whether the state
// was already spent is learnt when it is spent.
func (s *Store) OpenLoginState(state string) (LoginState, error) {
	if len(state) > MaxLoginStateLen {
		return LoginState{}, ErrBadLoginState
	}
	// One encoding only: no stray padding bits, no line breaks.
	b, err := base64.RawURLEncoding.Strict().DecodeString(state)
	if err != nil || len(b) < loginStateFixed+2+loginStateMAC || base64.RawURLEncoding.EncodedLen(len(b)) != len(state) {
		return LoginState{}, ErrBadLoginState
	}
	body, sum := b[:len(b)-loginStateMAC], b[len(b)-loginStateMAC:]
	want := s.loginStateMAC(body[:len(body):len(body)])[len(body):]
	if !hmac.Equal(sum, want) {
		return LoginState{}, ErrBadLoginState
	}
	// Sealed by this server: the layout is its own.
	if body[0] != loginStateVersion {
		return LoginState{}, ErrBadLoginState
	}
	exp := time.Unix(int64(binary.BigEndian.Uint64(body[1:9])), 0).UTC()
	if !s.Now().Before(exp) {
		return LoginState{}, ErrBadLoginState
	}
	ls := LoginState{State: state, ExpiresAt: exp,
		ID:          base64.RawURLEncoding.EncodeToString(body[9:25]),
		Nonce:       base64.RawURLEncoding.EncodeToString(body[25:49]),
		BrowserHash: hex.EncodeToString(body[49:81]),
	}
	rest := body[loginStateFixed:]
	var ok bool
	if ls.PlatformID, rest, ok = field(rest); !ok {
		return LoginState{}, ErrBadLoginState
	}
	if ls.StorageTarget, rest, ok = field(rest); !ok || len(rest) != 0 {
		return LoginState{}, ErrBadLoginState
	}
	return ls, nil
}

// StorageTicket proves that the launch page this server rendered, and not
// a forged form, posts the launch confirmed from platform storage for the
// login state ls.
func (s *Store) StorageTicket(ls LoginState) string {
	mac := hmac.New(sha256.New, s.ticketKey)
	mac.Write([]byte(ls.State + "\x00" + ls.Nonce))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// field reads a length-prefixed string.
func field(b []byte) (string, []byte, bool) {
	if len(b) == 0 || len(b) < 1+int(b[0]) {
		return "", nil, false
	}
	n := int(b[0])
	return string(b[1 : 1+n]), b[1+n:], true
}

// PendingLaunch is a live login state with the platform it belongs to.
type PendingLaunch struct {
	LoginState
	Platform tenant.Platform
	// DeploymentKnown tells whether the deployment asked about is one of the
	// platform's registered deployments.
	DeploymentKnown bool
}

// PeekLaunch returns the platform of an opened login state and whether
// deploymentID is registered for that platform: all that a launch needs
// before it verifies the token, in one query. found is false when the
// platform is gone.
func (s *Store) PeekLaunch(ctx context.Context, ls LoginState, deploymentID string) (PendingLaunch, bool, error) {
	pl := PendingLaunch{LoginState: ls}
	p := &pl.Platform
	err := s.db.QueryRow(ctx, `SELECT p.id, p.org_id, p.issuer, p.client_id, p.auth_url, p.token_url, p.token_audience, p.jwks_url, p.status,
			EXISTS (SELECT 1 FROM deployments d WHERE d.platform_id = p.id AND d.deployment_id = ?)
		FROM platforms p WHERE p.id = ?`, deploymentID, ls.PlatformID).
		Scan(&p.ID, &p.OrgID, &p.Issuer, &p.ClientID, &p.AuthURL, &p.TokenURL, &p.TokenAudience, &p.JWKSURL, &p.Status, &pl.DeploymentKnown)
	if errors.Is(err, sql.ErrNoRows) {
		return PendingLaunch{}, false, nil
	}
	if err != nil {
		return PendingLaunch{}, false, err
	}
	return pl, true, nil
}

// spendable reports whether a state may still be spent: opened, and not
// expired since.
func (s *Store) spendable(ls LoginState) bool { return ls.ID != "" && s.Now().Before(ls.ExpiresAt) }

// spendState records a login state as spent; the statements after it in
// consumeAndCreate take effect only if this was its first spending.
const spendState = `INSERT INTO used_login_states (id, expires_at) VALUES (?, ?) ON CONFLICT DO NOTHING`

// ConsumeLoginState spends the state inside tx and reports whether this
// call was the one that spent it: of two concurrent launches with the
// same state, exactly one gets true (the other waits for the first to
// commit, then finds its id taken). An expired state is never spent.
func (s *Store) ConsumeLoginState(ctx context.Context, tx *gorm.DB, ls LoginState) (bool, error) {
	if !s.spendable(ls) {
		return false, nil
	}
	res := tx.WithContext(ctx).Exec(spendState, ls.ID, ls.ExpiresAt.UTC())
	return res.RowsAffected == 1, res.Error
}

// DeleteExpiredLoginStates forgets spent states once they have expired:
// an expired state is refused before anything looks for it.
func (s *Store) DeleteExpiredLoginStates(ctx context.Context) (int64, error) {
	res := s.db.WithContext(ctx).Exec(`DELETE FROM used_login_states WHERE expires_at < ?`, s.Now().UTC().Add(-usedGrace))
	return res.RowsAffected, res.Error
}
