// Package toolkey keeps Roundtable's signing keys: RSA key pairs whose
// private parts are encrypted at rest with the operator's secret.
//
// Every LMS registration has keys of its own, published at its own JWKS
// URL, so that what Roundtable signs for one LMS (a service token's client
// assertion, a deep linking response) never verifies at another LMS. The
// newest key of a registration signs; its keys not yet retired stay
// published so that an LMS holding an older one keeps verifying during a
// rotation.
//
// Registrations made before keys were per registration were given copies
// of the keys Roundtable then shared among all LMSs (shared keys): those
// stay published at the old shared URL too, for LMSs configured with it,
// until every registration holding them has retired them.
package toolkey

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/internal/store"
)

// Info describes a key without its private part.
type Info struct {
	PlatformID string
	KID        string
	CreatedAt  time.Time
	RetiredAt  *time.Time
	Signing    bool
	// Shared keys were adopted from the keys all LMSs shared before
	// keys were per registration; they are also published at the shared
	// JWKS URL, which other registrations' LMSs may trust too.
	Shared bool
}

// Store reads and writes registration keys. It caches the decrypted keys
// briefly so that a rotation done by another process shows up within
// CacheTTL.
type Store struct {
	db       *store.DB
	aead     cipher.AEAD
	Now      func() time.Time
	CacheTTL time.Duration
	// Bits is the RSA key size of new keys.
	Bits int
	// NewKey, when set, makes new keys in place of generating one of Bits
	// bits: tests hand out keys made once per test process.
	NewKey func() (*rsa.PrivateKey, error)

	mu   sync.Mutex
	sets map[string]*keySet // by platform id; sharedSet for the shared URL
}

// sharedSet is the cache key of the shared JWKS (never a platform id).
const sharedSet = "\x00shared"

type keySet struct {
	loadedAt time.Time
	signing  jwk.Key
	public   jwk.Set
}

type keyRow struct {
	PlatformID string `gorm:"column:platform_id;primaryKey"`
	KID        string `gorm:"column:kid;primaryKey"`
	PrivateKey string
	Shared     bool
	CreatedAt  time.Time
	RetiredAt  *time.Time
}

func (keyRow) TableName() string { return "registration_keys" }

// sealAD binds sealed keys to their purpose; the shared keys were sealed
// with it in tool_keys and adopted unchanged.
var sealAD = []byte("tool_keys")

// New returns a key store whose private keys are sealed with secret.
func New(db *store.DB, secret []byte) (*Store, error) {
	if len(secret) < 16 {
		return nil, errors.New("secret must be at least 16 bytes")
	}
	sum := sha256.Sum256(append([]byte("roundtable tool keys v1\x00"), secret...))
	block, err := aes.NewCipher(sum[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Store{db: db, aead: aead, Now: time.Now, CacheTTL: 30 * time.Second, Bits: 2048, sets: map[string]*keySet{}}, nil
}

// ErrNoPlatform refuses a key operation without a registration.
var ErrNoPlatform = roundtable.Errorf(roundtable.EINVALID, "a key belongs to one LMS registration: name its platform id")

// EnsureKey gives the registration its first key when it has none, and
// reports whether it made one. It may run before the registration is
// saved (dynamic registration gives the LMS the key's URL first).
func (s *Store) EnsureKey(ctx context.Context, platformID string) (bool, error) {
	if platformID == "" {
		return false, ErrNoPlatform
	}
	n, err := s.live(ctx, s.db.DB, platformID)
	if err != nil || n > 0 {
		return false, err
	}
	if _, err := s.Rotate(ctx, platformID); err != nil {
		return false, err
	}
	return true, nil
}

func (s *Store) live(ctx context.Context, tx *gorm.DB, platformID string) (int64, error) {
	var n int64
	err := tx.WithContext(ctx).Model(&keyRow{}).Where("platform_id = ? AND retired_at IS NULL", platformID).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("count keys of platform %s: %w", platformID, err)
	}
	return n, nil
}

// Rotate adds a new key to the registration, which becomes its signing
// key. Its older keys stay published until retired.
func (s *Store) Rotate(ctx context.Context, platformID string) (Info, error) {
	if platformID == "" {
		return Info{}, ErrNoPlatform
	}
	newKey := s.NewKey
	if newKey == nil {
		newKey = func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, s.Bits) }
	}
	priv, err := newKey()
	if err != nil {
		return Info{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return Info{}, err
	}
	now := s.Now().UTC()
	// The kid is the key's RFC 7638 thumbprint prefixed with its date, so
	// admins can tell keys apart at a glance; it is unique across
	// registrations.
	pub, err := jwk.FromRaw(priv.Public())
	if err != nil {
		return Info{}, err
	}
	tp, err := pub.Thumbprint(0x5)
	if err != nil {
		return Info{}, err
	}
	kid := now.Format("20060102") + "-" + base64.RawURLEncoding.EncodeToString(tp)[:16]
	row := keyRow{PlatformID: platformID, KID: kid, PrivateKey: s.seal(der), CreatedAt: now}
	if err := store.Translate(s.db.WithContext(ctx).Create(&row).Error); err != nil {
		return Info{}, fmt.Errorf("save key: %w", err)
	}
	s.invalidate(platformID)
	return Info{PlatformID: platformID, KID: kid, CreatedAt: now, Signing: true}, nil
}

// ErrSigningKey refuses to retire the key that signs now.
var ErrSigningKey = &roundtable.Error{Code: roundtable.ECONFLICT,
	Message: "This key signs Roundtable's messages to this LMS now and cannot be retired. Rotate first, wait until the LMS has fetched the new key, then retire this one."}

// Retire stops publishing one of the registration's keys. The signing key
// cannot be retired (ErrSigningKey); an unknown kid is store.ErrNotFound.
func (s *Store) Retire(ctx context.Context, platformID, kid string) error {
	infos, err := s.List(ctx, platformID)
	if err != nil {
		return err
	}
	for _, in := range infos {
		if in.KID != kid {
			continue
		}
		if in.Signing {
			return ErrSigningKey
		}
		if in.RetiredAt != nil {
			return nil
		}
		now := s.Now().UTC()
		err := s.db.WithContext(ctx).Model(&keyRow{}).Where("platform_id = ? AND kid = ?", platformID, kid).Update("retired_at", now).Error
		s.invalidate(platformID)
		return err
	}
	return fmt.Errorf("key %q of platform %s: %w", kid, platformID, store.ErrNotFound)
}

// Forget deletes every key of a registration: one removed, or one whose
// dynamic registration failed.
func (s *Store) Forget(ctx context.Context, platformID string) error {
	err := s.db.WithContext(ctx).Where("platform_id = ?", platformID).Delete(&keyRow{}).Error
	s.invalidate(platformID)
	return err
}

// ForgetAbandoned deletes the keys of registrations that do not exist and
// were made before cutoff: a dynamic registration interrupted between
// making its key and saving the registration, or a removed registration.
func (s *Store) ForgetAbandoned(ctx context.Context, cutoff time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Exec(`DELETE FROM registration_keys WHERE created_at < ?
		AND NOT EXISTS (SELECT 1 FROM platforms p WHERE p.id = registration_keys.platform_id)`, cutoff.UTC())
	if res.RowsAffected > 0 {
		s.invalidateAll()
	}
	return res.RowsAffected, res.Error
}

// List returns the registration's keys, newest first.
func (s *Store) List(ctx context.Context, platformID string) ([]Info, error) {
	var rows []keyRow
	if err := s.db.WithContext(ctx).Where("platform_id = ?", platformID).Order("created_at DESC, kid DESC").Find(&rows).Error; err != nil {
		return nil, err
	}
	return infos(rows), nil
}

// All returns every registration's keys, by platform id, newest first.
func (s *Store) All(ctx context.Context) ([]Info, error) {
	var rows []keyRow
	if err := s.db.WithContext(ctx).Order("platform_id, created_at DESC, kid DESC").Find(&rows).Error; err != nil {
		return nil, err
	}
	return infos(rows), nil
}

// infos turns rows ordered by platform, newest first, into Info with the
// signing key of each platform marked.
func infos(rows []keyRow) []Info {
	out := make([]Info, 0, len(rows))
	signing := map[string]bool{}
	for _, r := range rows {
		in := Info{PlatformID: r.PlatformID, KID: r.KID, CreatedAt: r.CreatedAt, RetiredAt: r.RetiredAt, Shared: r.Shared}
		if !signing[r.PlatformID] && r.RetiredAt == nil {
			in.Signing, signing[r.PlatformID] = true, true
		}
		out = append(out, in)
	}
	return out
}

// Signing returns the private key that signs the registration's messages,
// with kid and alg set. A registration that has no key at all (saved by an
// older Roundtable while this one was being deployed) adopts the shared
// keys, which its LMS was told to trust, or gets a key of its own when
// there are none.
func (s *Store) Signing(ctx context.Context, platformID string) (jwk.Key, error) {
	set, err := s.load(ctx, platformID)
	if errors.Is(err, store.ErrNotFound) {
		if err := s.adopt(ctx, platformID); err != nil {
			return nil, err
		}
		set, err = s.load(ctx, platformID)
	}
	if err != nil {
		return nil, err
	}
	return set.signing, nil
}

// adopt gives a registration without keys copies of the shared keys, or
// a new key when there are none.
func (s *Store) adopt(ctx context.Context, platformID string) error {
	if platformID == "" {
		return ErrNoPlatform
	}
	var n int64
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		if live, err := s.live(ctx, tx, platformID); err != nil || live > 0 {
			return err
		}
		res := tx.Exec(`INSERT INTO registration_keys (platform_id, kid, private_key, shared, created_at)
			SELECT ?, k.kid, k.private_key, ?, k.created_at FROM tool_keys k WHERE k.retired_at IS NULL
			ON CONFLICT DO NOTHING`, platformID, true)
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return fmt.Errorf("adopt the shared keys for platform %s: %w", platformID, err)
	}
	s.invalidate(platformID)
	if n == 0 {
		_, err = s.EnsureKey(ctx, platformID)
	}
	return err
}

// Check decrypts the newest key, if there is one, so that a wrong
// ROUNDTABLE_SECRET stops the service at start instead of failing its
// first grade delivery.
func (s *Store) Check(ctx context.Context) error {
	var rows []keyRow
	if err := s.db.WithContext(ctx).Order("created_at DESC, kid DESC").Limit(1).Find(&rows).Error; err != nil {
		return fmt.Errorf("read keys: %w", err)
	}
	for _, r := range rows {
		if _, err := s.open(r.PrivateKey); err != nil {
			return fmt.Errorf("key %s: %w (is ROUNDTABLE_SECRET the one the key was made with?)", r.KID, err)
		}
	}
	return nil
}

// PublicSet returns the JWKS of the registration: its keys not retired.
// A registration without keys is store.ErrNotFound.
func (s *Store) PublicSet(ctx context.Context, platformID string) (jwk.Set, error) {
	set, err := s.load(ctx, platformID)
	if err != nil {
		return nil, err
	}
	return set.public, nil
}

// SharedSet returns the JWKS at the shared URL: the shared keys that some
// registration has not retired. It is empty on an installation that never
// shared keys.
func (s *Store) SharedSet(ctx context.Context) (jwk.Set, error) {
	set, err := s.load(ctx, sharedSet)
	if errors.Is(err, store.ErrNotFound) {
		return jwk.NewSet(), nil
	}
	if err != nil {
		return nil, err
	}
	return set.public, nil
}

func (s *Store) invalidate(platformID string) {
	s.mu.Lock()
	delete(s.sets, platformID)
	delete(s.sets, sharedSet)
	s.mu.Unlock()
}

func (s *Store) invalidateAll() {
	s.mu.Lock()
	clear(s.sets)
	s.mu.Unlock()
}

// load returns the cached or freshly read keys of a registration (or of
// the shared URL); store.ErrNotFound when it has none.
func (s *Store) load(ctx context.Context, id string) (*keySet, error) {
	s.mu.Lock()
	cached := s.sets[id]
	s.mu.Unlock()
	if cached != nil && s.Now().Sub(cached.loadedAt) < s.CacheTTL {
		return cached, nil
	}
	var rows []keyRow
	q := s.db.WithContext(ctx).Where("retired_at IS NULL")
	if id == sharedSet {
		q = q.Where("shared = ?", true)
	} else {
		q = q.Where("platform_id = ?", id)
	}
	if err := q.Order("created_at DESC, kid DESC").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load keys: %w", err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("no signing key for platform %s: %w", id, store.ErrNotFound)
	}
	set := &keySet{loadedAt: s.Now(), public: jwk.NewSet()}
	seen := map[string]bool{}
	for _, r := range rows {
		if seen[r.KID] {
			continue // a shared key held by several registrations
		}
		seen[r.KID] = true
		priv, err := s.open(r.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w (is ROUNDTABLE_SECRET the one the key was made with?)", r.KID, err)
		}
		key, err := jwk.FromRaw(priv)
		if err != nil {
			return nil, err
		}
		for _, kv := range [][2]any{{jwk.KeyIDKey, r.KID}, {jwk.AlgorithmKey, jwa.RS256}, {jwk.KeyUsageKey, "sig"}} {
			if err := key.Set(kv[0].(string), kv[1]); err != nil {
				return nil, err
			}
		}
		pub, err := key.PublicKey()
		if err != nil {
			return nil, err
		}
		if err := set.public.AddKey(pub); err != nil {
			return nil, err
		}
		if set.signing == nil {
			set.signing = key
		}
	}
	if id == sharedSet {
		set.signing = nil // the shared URL publishes; it never signs
	}
	s.mu.Lock()
	s.sets[id] = set
	s.mu.Unlock()
	return set, nil
}

func (s *Store) seal(plain []byte) string {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, sealAD))
}

func (s *Store) open(sealed string) (*rsa.PrivateKey, error) {
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(raw) < s.aead.NonceSize() {
		return nil, errors.New("stored key is corrupt")
	}
	der, err := s.aead.Open(nil, raw[:s.aead.NonceSize()], raw[s.aead.NonceSize():], sealAD)
	if err != nil {
		return nil, errors.New("cannot decrypt the stored key")
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("stored key is not RSA")
	}
	return rk, nil
}
