package blob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/roundtable-lms/roundtable/internal/blob"
)

// exercise runs what every store must do.
func exercise(t *testing.T, s blob.Store) {
	t.Helper()
	ctx := context.Background()
	data := bytes.Repeat([]byte("roundtable "), 1000)
	key, n, err := s.Put(ctx, bytes.NewReader(data), int64(len(data)))
	if err != nil || n != int64(len(data)) {
		t.Fatalf("Put = %q, %d, %v", key, n, err)
	}
	key2, _, err := s.Put(ctx, strings.NewReader("x"), 1)
	if err != nil || key2 == key {
		t.Fatalf("second Put = %q, %v: keys must differ", key2, err)
	}
	b, err := s.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if b.Size() != int64(len(data)) {
		t.Errorf("Size = %d", b.Size())
	}
	if _, err := b.Seek(11, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(b)
	b.Close()
	if err != nil || !bytes.Equal(got, data[11:]) {
		t.Fatalf("read from 11: %d bytes, %v", len(got), err)
	}

	if _, _, err := s.Put(ctx, bytes.NewReader(data), int64(len(data)-1)); !errors.Is(err, blob.ErrTooLarge) {
		t.Errorf("Put past the limit: %v, want ErrTooLarge", err)
	}
	for _, bad := range []string{"", "../../etc/passwd", strings.Repeat("a", 25), strings.ToUpper(key), "nosuchkeyaaaaaaaaaaaaaaaaa"} {
		if _, err := s.Open(ctx, bad); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Open(%q) = %v, want ErrNotFound", bad, err)
		}
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(ctx, key); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Open after Delete = %v", err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Errorf("second Delete = %v", err)
	}
}

func TestBlobDirectory(t *testing.T) {
	root := t.TempDir()
	s, err := blob.Open("", root, nil)
	if err != nil {
		t.Fatal(err)
	}
	exercise(t, s)
	// The refused blob left no temporary file behind.
	var left []string
	filepath.WalkDir(filepath.Join(root, "files"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			left = append(left, p)
		}
		return nil
	})
	if len(left) != 1 { // the one-byte blob
		t.Errorf("files left: %v", left)
	}
}

func TestBlobDirectoryByURL(t *testing.T) {
	dir := t.TempDir()
	s, err := blob.Open("file://"+dir, "/nowhere", nil)
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := s.Put(context.Background(), strings.NewReader("hello"), 5)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, key[:2], key)); err != nil {
		t.Errorf("blob not under the URL's directory: %v", err)
	}
}

func TestBlobBucket(t *testing.T) {
	fake := httptest.NewServer(gofakes3.New(s3mem.New(), gofakes3.WithAutoBucket(true)).Server())
	defer fake.Close()
	host := strings.TrimPrefix(fake.URL, "http://")
	env := map[string]string{blob.EnvS3AccessKey: "id", blob.EnvS3SecretKey: "secret"}
	s, err := blob.Open("s3://files?endpoint="+host+"&insecure=1&path_style=1&region=us-east-1&prefix=rt/", "", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	exercise(t, s)
}

func TestBlobBucketURL(t *testing.T) {
	env := map[string]string{blob.EnvS3AccessKey: "id", blob.EnvS3SecretKey: "secret"}
	getenv := func(k string) string { return env[k] }
	u, _ := url.Parse("s3://bucket?endpoint=minio:9000&insecure=true&path_style=1&prefix=p/&region=eu")
	cfg, err := blob.ParseS3(u, getenv)
	if err != nil {
		t.Fatal(err)
	}
	want := blob.S3Config{Endpoint: "minio:9000", Bucket: "bucket", Prefix: "p/", Region: "eu", Insecure: true, PathStyle: true, AccessKey: "id", SecretKey: "secret"}
	if cfg != want {
		t.Errorf("config = %+v, want %+v", cfg, want)
	}
	u, _ = url.Parse("s3://bucket")
	if cfg, err := blob.ParseS3(u, getenv); err != nil || cfg.Endpoint != "s3.amazonaws.com" || cfg.Insecure {
		t.Errorf("defaults = %+v, %v", cfg, err)
	}
	aws := map[string]string{"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}
	if cfg, err := blob.ParseS3(u, func(k string) string { return aws[k] }); err != nil || cfg.AccessKey != "a" || cfg.SecretKey != "b" {
		t.Errorf("AWS keys = %+v, %v", cfg, err)
	}
	for _, bad := range []string{
		"s3://", "s3://bucket/path", "s3://user:pw@bucket", "s3://bucket?endpoint=https://host",
		"s3://bucket?insecure=maybe", "s3://bucket?acl=public", "ftp://bucket", "file://host/dir", "file://",
	} {
		if _, err := blob.Open(bad, t.TempDir(), getenv); err == nil {
			t.Errorf("Open(%q) accepted", bad)
		}
	}
	if _, err := blob.Open("s3://bucket", "", func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), blob.EnvS3AccessKey) {
		t.Errorf("no keys: %v", err)
	}
}
