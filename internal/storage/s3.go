package storage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
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
	// Transport replaces the HTTP transport (tests). The default one bounds connecting
	// (DialTimeout) and waiting for a reply (ReplyTimeout).
	Transport http.RoundTripper
	// DialTimeout bounds connecting, TLS handshake included (default 5 s).
	DialTimeout time.Duration
	// ReplyTimeout bounds the wait for the reply headers once the request body is sent, so
	// it does not limit the time spent uploading a large file (default 10 s).
	ReplyTimeout time.Duration
}

// A store that is down or hung must turn into a prompt error (503 to the API client), not a
// request hanging for minutes: minio's own transport waits 30 s to connect and a minute for a
// reply, per attempt. With these defaults and s3Retries, a store that accepts connections but
// never answers fails a request within about 45 s; one that refuses them, within 2 s.
const (
	s3DialTimeout  = 5 * time.Second
	s3ReplyTimeout = 10 * time.Second
	// s3Retries is how many times a failed request is sent again (minio backs off 200 ms,
	// 400 ms, ... up to 1 s between attempts).
	s3Retries = 3
)

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
		return nil, errors.New("storage: the s3 backend needs a bucket")
	}
	if cfg.AccessKey == "" || cfg.SecretKey == "" {
		return nil, errors.New("storage: the s3 backend needs an access key and a secret key")
	}
	endpoint, secure := cfg.Endpoint, !cfg.Insecure
	if endpoint == "" {
		endpoint = "s3.amazonaws.com"
	}
	if strings.Contains(endpoint, "://") {
		u, err := url.Parse(endpoint)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("storage: s3 endpoint: want host[:port] or an http(s) URL, got %q", cfg.Endpoint)
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
	transport := cfg.Transport
	if transport == nil {
		tr, err := minio.DefaultTransport(secure)
		if err != nil {
			return nil, fmt.Errorf("storage: s3 transport: %w", err)
		}
		dial := cmp.Or(cfg.DialTimeout, s3DialTimeout)
		tr.DialContext = (&net.Dialer{Timeout: dial, KeepAlive: 30 * time.Second}).DialContext
		tr.TLSHandshakeTimeout = dial
		tr.ResponseHeaderTimeout = cmp.Or(cfg.ReplyTimeout, s3ReplyTimeout)
		tr.ExpectContinueTimeout = time.Second
		transport = tr
	}
	client, err := minio.New(endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       secure,
		Region:       region,
		BucketLookup: lookup,
		Transport:    transport,
		MaxRetries:   s3Retries,
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
	// A stream (a request body) is wrapped to tell its errors from the store's. Files and
	// byte readers are passed as they are: minio seeks them to retry and reads them in
	// parallel parts, and their read errors are rare enough to count as the store's.
	body, src := r, &sourceReader{r: r}
	_, seeks := r.(io.Seeker)
	_, readsAt := r.(io.ReaderAt)
	if !seeks && !readsAt {
		body = src
	}
	if _, err := s.client.PutObject(ctx, s.bucket, key, body, size, opts); err != nil {
		// A half-done single PUT leaves nothing and minio aborts a failed multipart upload,
		// but a PUT whose reply was lost may have stored the object: remove it. When no
		// connection could be made at all nothing reached the store, and the removal (with
		// its own retries) would only delay the answer while the store is down.
		if !neverConnected(err) {
			_ = s.client.RemoveObject(context.WithoutCancel(ctx), s.bucket, key, minio.RemoveObjectOptions{})
		}
		err = fmt.Errorf("storage: put %s: %w", key, err)
		if src.err != nil {
			return err // the caller's reader failed, not the store
		}
		return s.failed(ctx, err)
	}
	return nil
}

// neverConnected reports whether err is a failure to connect (refused, unreachable, dial
// timeout, unknown host), after which no byte of the request can have reached the store.
func neverConnected(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// Get opens the object.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	if !ValidKey(key) {
		return nil, Info{}, ErrInvalidKey
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, Info{}, s.mapErr(ctx, key, err)
	}
	st, err := obj.Stat()
	if err != nil {
		_ = obj.Close()
		return nil, Info{}, s.mapErr(ctx, key, err)
	}
	return obj, Info{Size: st.Size, ContentType: st.ContentType}, nil
}

// Delete removes the object (S3 answers success for a missing key).
func (s *S3) Delete(ctx context.Context, key string) error {
	if !ValidKey(key) {
		return ErrInvalidKey
	}
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		if errors.Is(s.mapErr(ctx, key, err), ErrNotExist) {
			return nil
		}
		return s.failed(ctx, fmt.Errorf("storage: delete %s: %w", key, err))
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
		return "", time.Time{}, s.failed(ctx, fmt.Errorf("storage: presign %s: %w", key, err))
	}
	return u.String(), now.Add(ttl).Truncate(time.Second), nil
}

func (s *S3) mapErr(ctx context.Context, key string, err error) error {
	resp := minio.ToErrorResponse(err)
	if resp.Code == "NoSuchKey" || resp.StatusCode == http.StatusNotFound {
		return ErrNotExist
	}
	return s.failed(ctx, fmt.Errorf("storage: %s: %w", key, err))
}

// failed marks an error of the object store as apperr.ErrUnavailable: the service is down,
// unreachable, overloaded or refusing us. An error caused by ctx ending (the caller gave up)
// is returned as it is.
func (s *S3) failed(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return err
	}
	return unavailable(err)
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
