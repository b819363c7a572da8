package ltiplatform

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
)

const keyBits = 2048

// loadOrCreateKey reads the platform's RSA key from a PEM file, creating the
// file when it does not exist, so the kid a tool has cached survives restarts.
// An empty path means a fresh key for this process only.
func loadOrCreateKey(path string) (*rsa.PrivateKey, error) {
	if path == "" {
		return rsa.GenerateKey(rand.Reader, keyBits)
	}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		return parseKeyPEM(data)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read platform key: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return nil, err
	}
	out, err := KeyPEM(key)
	if err != nil {
		return nil, err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create key directory: %w", err)
		}
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		return nil, fmt.Errorf("write platform key: %w", err)
	}
	return key, nil
}

// KeyPEM encodes key as Config.KeyFile holds it (PKCS #8 in PEM).
func KeyPEM(key *rsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func parseKeyPEM(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("platform key: no PEM block")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("platform key: %w", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("platform key: %T is not an RSA key", k)
		}
		return rk, nil
	default:
		return nil, fmt.Errorf("platform key: unexpected PEM block %q", block.Type)
	}
}

// NewForeignKey returns a fresh RSA key that no platform publishes: tests sign
// with it to play another platform or an attacker.
func NewForeignKey() *rsa.PrivateKey {
	key, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		// crypto/rand does not fail on supported systems.
		panic(err)
	}
	return key
}

// JWK is one public key as published in a JWKS.
type JWK struct {
	KTY string `json:"kty"`
	KID string `json:"kid,omitempty"`
	Alg string `json:"alg,omitempty"`
	Use string `json:"use,omitempty"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// PublicJWK describes an RSA public key as a JWK (kid, RS256, sig).
func PublicJWK(pub *rsa.PublicKey, kid string) JWK {
	return JWK{
		KTY: "RSA",
		KID: kid,
		Alg: "RS256",
		Use: "sig",
		N:   b64(pub.N.Bytes()),
		E:   b64(big.NewInt(int64(pub.E)).Bytes()),
	}
}

// Thumbprint is the RFC 7638 JWK thumbprint of an RSA public key. Used as
// the kid, it is stable for as long as the key is.
func Thumbprint(pub *rsa.PublicKey) string {
	j := PublicJWK(pub, "")
	// RFC 7638: the required members in lexicographic order, no whitespace.
	canon := fmt.Sprintf(`{"e":%q,"kty":"RSA","n":%q}`, j.E, j.N)
	sum := sha256.Sum256([]byte(canon))
	return b64(sum[:])
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// KID is the key id in every token header and in the JWKS.
func (p *Platform) KID() string { return p.kid }

// PublicKey is the platform's signing key, public half.
func (p *Platform) PublicKey() *rsa.PublicKey { return &p.key.PublicKey }

// Signer is the platform's private signing key; tests use it to sign tokens
// the platform would never issue itself.
func (p *Platform) Signer() crypto.Signer { return p.key }

// PublicKeyPEM is the public key as a PKIX PEM block, the form some LMS
// registration screens ask for, and the bytes of the classic HS256
// algorithm-confusion attack.
func (p *Platform) PublicKeyPEM() []byte {
	der, err := x509.MarshalPKIXPublicKey(&p.key.PublicKey)
	if err != nil {
		panic(err) // an RSA public key always marshals
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func (p *Platform) handleJWKS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_ = json.NewEncoder(w).Encode(struct {
		Keys []JWK `json:"keys"`
	}{[]JWK{PublicJWK(&p.key.PublicKey, p.kid)}})
}
