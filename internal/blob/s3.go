package blob

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// The environment variables holding the bucket's access keys, read when
// the blob store URL names a bucket; AWS's own names are the fallback.
const (
	EnvS3AccessKey = "ROUNDTABLE_BLOB_ACCESS_KEY"
	EnvS3SecretKey = "ROUNDTABLE_BLOB_SECRET_KEY"
)

// S3Config says where a bucket is and how to sign in to it.
type S3Config struct {
	// Endpoint is host[:port] of the S3 API (default s3.amazonaws.com).
	Endpoint string
	Bucket   string
	// Prefix begins every key in the bucket (e.g. "roundtable/"), so that
	// one bucket can hold other things too.
	Prefix string
	Region string
	// Insecure speaks plain HTTP to the endpoint (a bucket on the same
	// private network).
	Insecure bool
	// PathStyle names the bucket in the path rather than the host name:
	// most S3-compatible servers (MinIO, Garage, Ceph) want it.
	PathStyle bool
	AccessKey string
	SecretKey string
}

// ParseS3 reads s3://bucket?endpoint=host:port&region=r&prefix=p&insecure=1&path_style=1,
// with the access keys from the environment.
func ParseS3(u *url.URL, getenv func(string) string) (S3Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	q := u.Query()
	cfg := S3Config{Bucket: u.Host, Endpoint: q.Get("endpoint"), Region: q.Get("region"), Prefix: q.Get("prefix"),
		AccessKey: firstOf(getenv(EnvS3AccessKey), getenv("AWS_ACCESS_KEY_ID")),
		SecretKey: firstOf(getenv(EnvS3SecretKey), getenv("AWS_SECRET_ACCESS_KEY"))}
	if cfg.Bucket == "" {
		return cfg, fmt.Errorf("blob store URL: s3://BUCKET names the bucket")
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") {
		return cfg, fmt.Errorf("blob store URL: s3://%s takes neither credentials nor a path (the keys come from %s and %s; a key prefix from ?prefix=)", cfg.Bucket, EnvS3AccessKey, EnvS3SecretKey)
	}
	for k := range q {
		switch k {
		case "endpoint", "region", "prefix", "insecure", "path_style":
		default:
			return cfg, fmt.Errorf("blob store URL: unknown parameter %q (endpoint, region, prefix, insecure, path_style)", k)
		}
	}
	var err error
	if cfg.Insecure, err = flag(q, "insecure"); err != nil {
		return cfg, err
	}
	if cfg.PathStyle, err = flag(q, "path_style"); err != nil {
		return cfg, err
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = "s3.amazonaws.com"
	}
	if strings.Contains(cfg.Endpoint, "/") {
		return cfg, fmt.Errorf("blob store URL: endpoint is host[:port], without a scheme or path (insecure=1 for plain HTTP)")
	}
	if cfg.AccessKey == "" || cfg.SecretKey == "" {
		return cfg, fmt.Errorf("blob store URL names a bucket: set %s and %s", EnvS3AccessKey, EnvS3SecretKey)
	}
	return cfg, nil
}

func flag(q url.Values, name string) (bool, error) {
	v := q.Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("blob store URL: %s=%q is not 1/0/true/false", name, v)
	}
	return b, nil
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// S3 keeps blobs in a bucket.
type S3 struct {
	client *minio.Client
	cfg    S3Config
}

// NewS3 makes the bucket's client; it does not reach the bucket yet.
func NewS3(cfg S3Config) (*S3, error) {
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: !cfg.Insecure, Region: cfg.Region, BucketLookup: lookup,
	})
	if err != nil {
		return nil, fmt.Errorf("blob bucket: %w", err)
	}
	return &S3{client: c, cfg: cfg}, nil
}

// Put spools the blob to a temporary file first: the bucket wants its
// size up front, and the limit must hold before anything is sent.
func (s *S3) Put(ctx context.Context, r io.Reader, limit int64) (string, int64, error) {
	tmp, err := os.CreateTemp("", "roundtable-blob-*")
	if err != nil {
		return "", 0, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	n, err := io.Copy(tmp, io.LimitReader(r, limit+1))
	if err != nil {
		return "", 0, err
	}
	if n > limit {
		return "", 0, ErrTooLarge
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return "", 0, err
	}
	key := newKey()
	if _, err := s.client.PutObject(ctx, s.cfg.Bucket, s.cfg.Prefix+key, tmp, n,
		minio.PutObjectOptions{ContentType: "application/octet-stream", DisableMultipart: n < 64<<20}); err != nil {
		return "", 0, fmt.Errorf("blob bucket: put: %w", err)
	}
	return key, n, nil
}

type s3Blob struct {
	*minio.Object
	size int64
}

func (b s3Blob) Size() int64 { return b.size }

func (s *S3) Open(ctx context.Context, key string) (Blob, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, s.cfg.Prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.translate(err)
	}
	st, err := obj.Stat()
	if err != nil {
		obj.Close()
		return nil, s.translate(err)
	}
	return s3Blob{Object: obj, size: st.Size}, nil
}

func (s *S3) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return nil
	}
	return s.translate(s.client.RemoveObject(ctx, s.cfg.Bucket, s.cfg.Prefix+key, minio.RemoveObjectOptions{}))
}

func (s *S3) translate(err error) error {
	if err == nil {
		return nil
	}
	if r := minio.ToErrorResponse(err); r.Code == minio.NoSuchKey || r.StatusCode == 404 && r.Code != minio.NoSuchBucket {
		return ErrNotFound
	}
	return fmt.Errorf("blob bucket: %w", err)
}
