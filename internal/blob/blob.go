// Package blob keeps the bytes of files people upload (images and files in
// posts, later submissions for peer review): a directory under the data
// directory for one process, or an S3-compatible bucket that several
// replicas share. What a file is, who may read it and where it is used
// lives in the database; a blob is only bytes under a key the store chose,
// never a name or path a person supplied.
package blob

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
)

// Store keeps blobs under keys it makes.
type Store interface {
	// Put stores what r holds, at most limit bytes, under a new key.
	// Past limit it stores nothing and returns ErrTooLarge.
	Put(ctx context.Context, r io.Reader, limit int64) (key string, size int64, err error)
	// Open returns the blob under key, or ErrNotFound.
	Open(ctx context.Context, key string) (Blob, error)
	// Delete removes the blob under key; a missing blob is no error.
	Delete(ctx context.Context, key string) error
}

// Blob is a stored blob, readable from any offset (a browser asks a
// large PDF for ranges).
type Blob interface {
	io.ReadSeekCloser
	Size() int64
}

var (
	// ErrTooLarge refuses a blob past the limit Put was given.
	ErrTooLarge = errors.New("blob: too large")
	// ErrNotFound says no blob has the key.
	ErrNotFound = errors.New("blob: not found")
)

// newKey is a random key: 26 base32 characters (130 bits).
func newKey() string { return strings.ToLower(rand.Text()) }

// validKey matches the keys newKey makes; Open and Delete refuse any
// other, so that no key can name a path outside the store.
var validKey = regexp.MustCompile(`^[a-z2-7]{26}$`)

func checkKey(key string) error {
	if !validKey.MatchString(key) {
		return ErrNotFound
	}
	return nil
}

// Open opens the store a URL names: empty for the directory "files" under
// dataDir; file:///path for another directory; s3://bucket?endpoint=host
// for a bucket (see S3Config for its parameters, and the access keys it
// takes from the environment through getenv).
func Open(rawURL, dataDir string, getenv func(string) string) (Store, error) {
	if strings.TrimSpace(rawURL) == "" {
		return NewDir(filepath.Join(dataDir, "files"))
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("blob store URL: %w", err)
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" || u.Path == "" {
			return nil, fmt.Errorf("blob store URL %q: a directory is file:///absolute/path", rawURL)
		}
		return NewDir(u.Path)
	case "s3":
		cfg, err := ParseS3(u, getenv)
		if err != nil {
			return nil, err
		}
		return NewS3(cfg)
	}
	return nil, fmt.Errorf("blob store URL %q: the scheme is file or s3", rawURL)
}
