package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Dir keeps blobs as files in a directory, two levels of subdirectories
// deep by the key's first characters so that no directory grows huge.
type Dir struct {
	root string
}

// NewDir opens (and makes) the directory root.
func NewDir(root string) (*Dir, error) {
	if err := os.MkdirAll(root, 0o750); err != nil {
		return nil, fmt.Errorf("blob directory: %w", err)
	}
	return &Dir{root: root}, nil
}

func (d *Dir) path(key string) string {
	return filepath.Join(d.root, key[:2], key)
}

// Put writes the blob to a temporary file in the directory, then renames
// it into place: a reader never sees half a blob, and a crash leaves at
// most a temporary file.
func (d *Dir) Put(ctx context.Context, r io.Reader, limit int64) (string, int64, error) {
	key := newKey()
	dir := filepath.Dir(d.path(key))
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", 0, err
	}
	tmp, err := os.CreateTemp(dir, ".put-*")
	if err != nil {
		return "", 0, err
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	n, err := io.Copy(tmp, io.LimitReader(r, limit+1))
	if err != nil {
		return "", 0, err
	}
	if n > limit {
		return "", 0, ErrTooLarge
	}
	if err := ctx.Err(); err != nil {
		return "", 0, err
	}
	if err := tmp.Sync(); err != nil {
		return "", 0, err
	}
	if err := tmp.Close(); err != nil {
		return "", 0, err
	}
	if err := os.Rename(tmp.Name(), d.path(key)); err != nil {
		return "", 0, err
	}
	done = true
	return key, n, nil
}

type dirBlob struct {
	*os.File
	size int64
}

func (b dirBlob) Size() int64 { return b.size }

func (d *Dir) Open(_ context.Context, key string) (Blob, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	f, err := os.Open(d.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return dirBlob{File: f, size: st.Size()}, nil
}

func (d *Dir) Delete(_ context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return nil
	}
	if err := os.Remove(d.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
