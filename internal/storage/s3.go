package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config configures an S3-compatible store.
type S3Config struct {
	// Endpoint is host[:port], or a URL whose scheme decides TLS. Empty means AWS S3.
	Endpoint  string
	Bucket    string
	AccessKey string
	SecretKey string
	// Region defaults to us-east-1. Setting it spares a bucket-location request.
	Region string
	// PathStyle puts the bucket in the path instead of the host name.
	PathStyle bool
	// Insecure talks plain HTTP (only when Endpoint has no scheme).
	Insecure bool
	// Transport replaces the HTTP transport (tests).
	Transport http.RoundTripper
}

// S3 stores objects in one bucket of an S3-compatible service; links are pre-signed GET URLs.
type S3 struct {
	client *minio.Client
	bucket string
}

// streamPartSize is the buffer of an upload of unknown length: it is sent in parts of this
// size (the S3 minimum is 5 MiB), so memory stays bounded whatever the file size.
const streamPartSize = 8 << 20

// NewS3 builds the client. It makes no request: a wrong endpoint or credential shows up on first
// use.
func NewS3(cfg S3Config) (*S3, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("storage: " + EnvBucket + " is required for the s3 backend")
	}
	if cfg.AccessKey == "" || cfg.SecretKey == "" {
		return nil, errors.New("storage: " + EnvAccessKey + " and " + EnvSecretKey + " are required for the s3 backend")
	}
	endpoint, secure := cfg.Endpoint, !cfg.Insecure
	if endpoint == "" {
		endpoint = "s3.amazonaws.com"
	}
	if strings.Contains(endpoint, "://") {
		u, err := url.Parse(endpoint)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("storage: %s: want host[:port] or an http(s) URL, got %q", EnvEndpoint, cfg.Endpoint)
		}
		endpoint, secure = u.Host, u.Scheme == "https"
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       secure,
		Region:       region,
		BucketLookup: lookup,
		Transport:    cfg.Transport,
		MaxRetries:   3,
	})
	if err != nil {
		return nil, fmt.Errorf("storage: s3 client: %w", err)
	}
	return &S3{client: client, bucket: cfg.Bucket}, nil
}

// Client exposes the underlying client (tests create buckets with it).
func (s *S3) Client() *minio.Client { return s.client }

// Put uploads the object; an upload of unknown length goes in parts and is aborted on error.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if !ValidKey(key) {
		return ErrInvalidKey
	}
	// Parts are hashed with MD5 rather than signed chunk by chunk: streaming signatures are
	// not understood by every S3-compatible server, and a Content-MD5 still lets the store
	// reject a damaged part.
	opts := minio.PutObjectOptions{ContentType: contentType, DisableContentSha256: true, SendContentMd5: true}
	if size < 0 {
		opts.PartSize = streamPartSize
	}
	if _, err := s.client.PutObject(ctx, s.bucket, key, r, size, opts); err != nil {
		// A half-done single PUT leaves nothing; make sure of it for every path.
		_ = s.client.RemoveObject(context.WithoutCancel(ctx), s.bucket, key, minio.RemoveObjectOptions{})
		return fmt.Errorf("storage: put %s: %w", key, err)
	}
	return nil
}

// Get opens the object.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	if !ValidKey(key) {
		return nil, Info{}, ErrInvalidKey
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, Info{}, s.mapErr(key, err)
	}
	st, err := obj.Stat()
	if err != nil {
		_ = obj.Close()
		return nil, Info{}, s.mapErr(key, err)
	}
	return obj, Info{Size: st.Size, ContentType: st.ContentType}, nil
}

// Delete removes the object (S3 answers success for a missing key).
func (s *S3) Delete(ctx context.Context, key string) error {
	if !ValidKey(key) {
		return ErrInvalidKey
	}
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		if errors.Is(s.mapErr(key, err), ErrNotExist) {
			return nil
		}
		return fmt.Errorf("storage: delete %s: %w", key, err)
	}
	return nil
}

// PresignGet returns a pre-signed GET URL that makes the store answer with contentType and an
// attachment disposition naming fileName.
func (s *S3) PresignGet(ctx context.Context, key, fileName, contentType string, ttl time.Duration) (string, time.Time, error) {
	if !ValidKey(key) {
		return "", time.Time{}, ErrInvalidKey
	}
	params := url.Values{}
	if contentType != "" {
		params.Set("response-content-type", contentType)
	}
	if fileName != "" {
		params.Set("response-content-disposition", ContentDisposition(fileName))
	}
	now := time.Now()
	u, err := s.client.PresignedGetObject(ctx, s.bucket, key, ttl, params)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("storage: presign %s: %w", key, err)
	}
	return u.String(), now.Add(ttl).Truncate(time.Second), nil
}

func (s *S3) mapErr(key string, err error) error {
	resp := minio.ToErrorResponse(err)
	if resp.Code == "NoSuchKey" || resp.StatusCode == http.StatusNotFound {
		return ErrNotExist
	}
	return fmt.Errorf("storage: %s: %w", key, err)
}

// ContentDisposition is the attachment header value for fileName: a quoted ASCII fallback and
// the exact UTF-8 name (RFC 6266, RFC 8187).
func ContentDisposition(fileName string) string {
	var fb, ext strings.Builder
	for _, r := range fileName {
		if r < 0x20 || r >= 0x7f || r == '"' || r == '\\' {
			fb.WriteByte('_')
		} else {
			fb.WriteRune(r)
		}
	}
	for i := 0; i < len(fileName); i++ {
		c := fileName[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			ext.WriteByte(c)
		} else {
			fmt.Fprintf(&ext, "%%%02X", c)
		}
	}
	return `attachment; filename="` + fb.String() + `"; filename*=UTF-8''` + ext.String()
}
