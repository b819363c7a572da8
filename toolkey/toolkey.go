// Package toolkey keeps Roundtable's own signing keys: RSA key pairs whose
// private parts are encrypted at rest with the operator's secret. The newest
// key signs; every key not yet retired stays published in the JWKS so that
// platforms holding an older key keep verifying during a rotation.
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

	"github.com/roundtable-lms/roundtable"
	"github.com/roundtable-lms/roundtable/store"
)

// Info describes a key without its private part.
type Info struct {
	KID       string
	CreatedAt time.Time
	RetiredAt *time.Time
	Signing   bool
}

// Store reads and writes tool keys. It caches the decrypted keys briefly so
// that a rotation done by another process shows up within CacheTTL.
type Store struct {
	db       *store.DB
	aead     cipher.AEAD
	Now      func() time.Time
	CacheTTL time.Duration
	// Bits is the RSA key size of new keys.
	Bits int

	mu       sync.Mutex
	loadedAt time.Time
	signing  jwk.Key
	public   jwk.Set
}

type keyRow struct {
	KID        string `gorm:"column:kid;primaryKey"`
	PrivateKey string
	CreatedAt  time.Time
	RetiredAt  *time.Time
}

func (keyRow) TableName() string { return "tool_keys" }

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
	return &Store{db: db, aead: aead, Now: time.Now, CacheTTL: 30 * time.Second, Bits: 2048}, nil
}

// EnsureKey creates the first key when there is none.
func (s *Store) EnsureKey(ctx context.Context) error {
	var n int64
	if err := s.db.WithContext(ctx).Model(&keyRow{}).Where("retired_at IS NULL").Count(&n).Error; err != nil {
		return fmt.Errorf("count tool keys: %w", err)
	}
	if n > 0 {
		return nil
	}
	_, err := s.Rotate(ctx)
	return err
}

// Rotate adds a new key, which becomes the signing key. Older keys stay
// published until retired.
func (s *Store) Rotate(ctx context.Context) (Info, error) {
	priv, err := rsa.GenerateKey(rand.Reader, s.Bits)
	if err != nil {
		return Info{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return Info{}, err
	}
	now := s.Now().UTC()
	// The kid is the key's RFC 7638 thumbprint prefixed with its date, so
	// admins can tell keys apart at a glance.
	pub, err := jwk.FromRaw(priv.Public())
	if err != nil {
		return Info{}, err
	}
	tp, err := pub.Thumbprint(0x5)
	if err != nil {
		return Info{}, err
	}
	kid := now.Format("20060102") + "-" + base64.RawURLEncoding.EncodeToString(tp)[:16]
	row := keyRow{KID: kid, PrivateKey: s.seal(der), CreatedAt: now}
	if err := store.Translate(s.db.WithContext(ctx).Create(&row).Error); err != nil {
		return Info{}, fmt.Errorf("save tool key: %w", err)
	}
	s.invalidate()
	return Info{KID: kid, CreatedAt: now, Signing: true}, nil
}

// ErrSigningKey refuses to retire the key that signs now.
var ErrSigningKey = &roundtable.Error{Code: roundtable.ECONFLICT,
	Message: "This key signs Roundtable's messages now and cannot be retired. Rotate first, wait until every LMS has fetched the new key, then retire this one."}

// Retire stops publishing a key. The signing key cannot be retired
// (ErrSigningKey); an unknown kid is store.ErrNotFound.
func (s *Store) Retire(ctx context.Context, kid string) error {
	infos, err := s.List(ctx)
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
		err := s.db.WithContext(ctx).Model(&keyRow{}).Where("kid = ?", kid).Update("retired_at", now).Error
		s.invalidate()
		return err
	}
	return fmt.Errorf("key %q: %w", kid, store.ErrNotFound)
}

// List returns every key, newest first.
func (s *Store) List(ctx context.Context) ([]Info, error) {
	var rows []keyRow
	if err := s.db.WithContext(ctx).Order("created_at DESC, kid DESC").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]Info, 0, len(rows))
	signing := false
	for _, r := range rows {
		in := Info{KID: r.KID, CreatedAt: r.CreatedAt, RetiredAt: r.RetiredAt}
		if !signing && r.RetiredAt == nil {
			in.Signing, signing = true, true
		}
		out = append(out, in)
	}
	return out, nil
}

// Signing returns the private key that signs messages, with kid and alg set.
func (s *Store) Signing(ctx context.Context) (jwk.Key, error) {
	if err := s.load(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.signing, nil
}

// PublicSet returns the JWKS of every key not retired.
func (s *Store) PublicSet(ctx context.Context) (jwk.Set, error) {
	if err := s.load(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.public, nil
}

func (s *Store) invalidate() {
	s.mu.Lock()
	s.loadedAt = time.Time{}
	s.mu.Unlock()
}

func (s *Store) load(ctx context.Context) error {
	s.mu.Lock()
	fresh := !s.loadedAt.IsZero() && s.Now().Sub(s.loadedAt) < s.CacheTTL
	s.mu.Unlock()
	if fresh {
		return nil
	}
	var rows []keyRow
	if err := s.db.WithContext(ctx).Where("retired_at IS NULL").Order("created_at DESC, kid DESC").Find(&rows).Error; err != nil {
		return fmt.Errorf("load tool keys: %w", err)
	}
	if len(rows) == 0 {
		return errors.New("no tool key: run migrations and start the service once, or `roundtable keys rotate`")
	}
	public := jwk.NewSet()
	var signing jwk.Key
	for i, r := range rows {
		priv, err := s.open(r.PrivateKey)
		if err != nil {
			return fmt.Errorf("tool key %s: %w (is ROUNDTABLE_SECRET the one the key was made with?)", r.KID, err)
		}
		key, err := jwk.FromRaw(priv)
		if err != nil {
			return err
		}
		for _, kv := range [][2]any{{jwk.KeyIDKey, r.KID}, {jwk.AlgorithmKey, jwa.RS256}, {jwk.KeyUsageKey, "sig"}} {
			if err := key.Set(kv[0].(string), kv[1]); err != nil {
				return err
			}
		}
		pub, err := key.PublicKey()
		if err != nil {
			return err
		}
		if err := public.AddKey(pub); err != nil {
			return err
		}
		if i == 0 {
			signing = key
		}
	}
	s.mu.Lock()
	s.signing, s.public, s.loadedAt = signing, public, s.Now()
	s.mu.Unlock()
	return nil
}

func (s *Store) seal(plain []byte) string {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, []byte("tool_keys")))
}

func (s *Store) open(sealed string) (*rsa.PrivateKey, error) {
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(raw) < s.aead.NonceSize() {
		return nil, errors.New("stored key is corrupt")
	}
	der, err := s.aead.Open(nil, raw[:s.aead.NonceSize()], raw[s.aead.NonceSize():], []byte("tool_keys"))
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
