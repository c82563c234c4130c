package auth

import (
	"container/list"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"

	"github.com/casexchange/server/gen/db"
)

// The API key cache keeps, per process, the lookup row of recently used keys by key hash, so
// an authenticated Public API request needs no database round trip. It is coherent across
// processes through PostgreSQL notifications:
//
//   - Every change to what a key lookup answers (revocation, and any future change of tier,
//     expiry, key deletion or firm deactivation) calls NotifyKeysChangedTx in the writing
//     transaction; the notification on KeyChannel is delivered on commit.
//   - Every process runs RunKeyListener on a dedicated connection (not a pool connection). It
//     evicts the named keys (all of them for a payload it cannot parse) and acknowledges on a
//     second channel.
//   - The writer, after commit, waits (KeyNotice.Await, at most Config.KeyAckTimeout) until
//     the listener of every process has acknowledged, so a revocation is effective on every
//     process by the time the revoking request answers.
//   - While the listener is not connected the cache is bypassed: every request reads the
//     database. On (re)connection the cache is flushed, since notifications may have been
//     missed.
//   - Only keys that authenticate are cached (no negative cache: a flood of unknown keys
//     cannot grow memory and a new key works at once everywhere); the cache holds at most
//     Config.KeyCacheSize entries (least recently used evicted) and none older than
//     Config.KeyCacheTTL.
//   - A lookup that raced with an invalidation is not stored (a generation counter), so a row
//     read before a revocation committed cannot outlive the eviction.
//
// The plaintext key is never kept: entries are keyed by the SHA-256 hash, as in the table.

// Names of the key cache notifications.
const (
	// KeyChannel carries key invalidations: "<nonce> <change>...", where a change is
	// "key:<uuid>", "firm:<uuid>" or "all".
	KeyChannel = "cx_api_keys"
	// keyAckChannel carries acknowledgements: the nonce of an invalidation a listener applied.
	keyAckChannel = "cx_api_keys_ack"
	// KeyListenerApplicationName is the application_name of listener connections: writers
	// wait for the acknowledgement of each backend with this name.
	KeyListenerApplicationName = "casexchange-keycache"
)

// Defaults of the key cache settings in Config.
const (
	DefaultKeyCacheSize  = 10_000
	DefaultKeyCacheTTL   = time.Minute
	DefaultKeyAckTimeout = 2 * time.Second
)

const (
	// keyListenerPing is how long the listener waits for a notification before checking
	// that its connection still answers (a half-open connection would look idle forever).
	keyListenerPing       = 15 * time.Second
	keyListenerMaxBackoff = 5 * time.Second
	// maxNotifiedChanges bounds a payload (PostgreSQL allows 8000 bytes); more changes are
	// sent as "all".
	maxNotifiedChanges = 100
	// ackPrunePeriod is how often a waiting writer drops listeners that went away.
	ackPrunePeriod = 50 * time.Millisecond
	// staleWaiterAge drops waiters of transactions that never committed.
	staleWaiterAge = time.Minute
)

// KeyChange names keys whose lookup answer changed. Build one with KeyChanged,
// FirmKeysChanged or AllKeysChanged.
type KeyChange struct {
	kind string // "key", "firm" or "all"
	id   uuid.UUID
}

// KeyChanged names one key.
func KeyChanged(id uuid.UUID) KeyChange { return KeyChange{kind: "key", id: id} }

// FirmKeysChanged names every key of a firm (firm deactivation, a user's keys revoked).
func FirmKeysChanged(firmID uuid.UUID) KeyChange { return KeyChange{kind: "firm", id: firmID} }

// AllKeysChanged names every key.
func AllKeysChanged() KeyChange { return KeyChange{kind: "all"} }

func (c KeyChange) String() string {
	if c.kind == "all" {
		return "all"
	}
	return c.kind + ":" + c.id.String()
}

func (c KeyChange) matches(row db.ApiKeyGetByHashRow) bool {
	switch c.kind {
	case "key":
		return row.ID == c.id
	case "firm":
		return row.FirmID == c.id
	default:
		return true
	}
}

// keyPayload encodes a notification: the nonce, then the changes.
func keyPayload(nonce string, changes []KeyChange) string {
	if len(changes) > maxNotifiedChanges {
		changes = []KeyChange{AllKeysChanged()}
	}
	var b strings.Builder
	b.WriteString(nonce)
	for _, c := range changes {
		b.WriteByte(' ')
		b.WriteString(c.String())
	}
	return b.String()
}

// parseKeyPayload decodes a notification. ok is false for anything malformed, which the
// listener treats as "all".
func parseKeyPayload(p string) (nonce string, changes []KeyChange, ok bool) {
	fields := strings.Fields(p)
	if len(fields) < 2 {
		return "", nil, false
	}
	nonce = fields[0]
	for _, f := range fields[1:] {
		if f == "all" {
			changes = append(changes, AllKeysChanged())
			continue
		}
		kind, id, found := strings.Cut(f, ":")
		if !found || (kind != "key" && kind != "firm") {
			return nonce, nil, false
		}
		u, err := uuid.Parse(id)
		if err != nil {
			return nonce, nil, false
		}
		changes = append(changes, KeyChange{kind: kind, id: u})
	}
	return nonce, changes, true
}

type cachedKey struct {
	hash   string
	row    db.ApiKeyGetByHashRow
	loaded time.Time
}

type ackWaiter struct {
	pending map[int32]bool
	done    chan struct{}
	created time.Time
}

// keyCache is the in-process cache; all methods are safe for concurrent use.
type keyCache struct {
	size int
	ttl  time.Duration
	now  func() time.Time

	mu      sync.Mutex
	live    bool   // the listener is connected and listening
	gen     uint64 // bumped by every invalidation and state change
	entries map[string]*list.Element
	lru     *list.List // of *cachedKey, most recent first
	waiters map[string]*ackWaiter

	hits, lookups atomic.Int64
	listenerPID   atomic.Int32
	reconnects    atomic.Int64
}

func newKeyCache(size int, ttl time.Duration, now func() time.Time) *keyCache {
	return &keyCache{
		size: size, ttl: ttl, now: now,
		entries: make(map[string]*list.Element), lru: list.New(), waiters: make(map[string]*ackWaiter),
	}
}

// get returns the cached row of hash. It misses whenever the listener is down.
func (c *keyCache) get(hash string) (db.ApiKeyGetByHashRow, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live {
		return db.ApiKeyGetByHashRow{}, false
	}
	el := c.entries[hash]
	if el == nil {
		return db.ApiKeyGetByHashRow{}, false
	}
	e := el.Value.(*cachedKey)
	if c.now().Sub(e.loaded) >= c.ttl {
		c.lru.Remove(el)
		delete(c.entries, hash)
		return db.ApiKeyGetByHashRow{}, false
	}
	c.lru.MoveToFront(el)
	return e.row, true
}

// generation is read before a database lookup and passed to put.
func (c *keyCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put stores row unless the listener is down or an invalidation happened since gen was read
// (the row may predate it).
func (c *keyCache) put(hash string, row db.ApiKeyGetByHashRow, gen uint64) {
	loaded := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live || gen != c.gen || c.size <= 0 {
		return
	}
	if el := c.entries[hash]; el != nil {
		el.Value = &cachedKey{hash: hash, row: row, loaded: loaded}
		c.lru.MoveToFront(el)
		return
	}
	c.entries[hash] = c.lru.PushFront(&cachedKey{hash: hash, row: row, loaded: loaded})
	for c.lru.Len() > c.size {
		last := c.lru.Back()
		c.lru.Remove(last)
		delete(c.entries, last.Value.(*cachedKey).hash)
	}
}

// invalidate evicts the entries the changes name.
func (c *keyCache) invalidate(changes []KeyChange) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, ch := range changes {
		if ch.kind == "all" {
			c.clearLocked()
			return
		}
	}
	for el := c.lru.Front(); el != nil; {
		next := el.Next()
		e := el.Value.(*cachedKey)
		for _, ch := range changes {
			if ch.matches(e.row) {
				c.lru.Remove(el)
				delete(c.entries, e.hash)
				break
			}
		}
		el = next
	}
}

// setLive records the listener state and flushes: entries are only trusted while the
// listener runs, and a reconnected listener may have missed notifications.
func (c *keyCache) setLive(live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.live = live
	c.clearLocked()
}

func (c *keyCache) clearLocked() {
	clear(c.entries)
	c.lru.Init()
}

func (c *keyCache) isLive() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live
}

// expect registers a waiter for the acknowledgements of nonce by the listeners pids.
func (c *keyCache) expect(nonce string, pids []int32) *ackWaiter {
	w := &ackWaiter{pending: make(map[int32]bool, len(pids)), done: make(chan struct{}), created: c.now()}
	for _, p := range pids {
		w.pending[p] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for n, old := range c.waiters {
		if c.now().Sub(old.created) > staleWaiterAge {
			delete(c.waiters, n)
		}
	}
	if len(w.pending) == 0 {
		close(w.done)
	}
	c.waiters[nonce] = w
	return w
}

// ack records that listener pid applied the invalidation nonce.
func (c *keyCache) ack(nonce string, pid int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if w := c.waiters[nonce]; w != nil {
		c.doneLocked(w, func() { delete(w.pending, pid) })
	}
}

// prune stops waiting for listeners that are no longer connected: one that went away
// flushes its cache when it comes back.
func (c *keyCache) prune(w *ackWaiter, present []int32) {
	alive := make(map[int32]bool, len(present))
	for _, p := range present {
		alive[p] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.doneLocked(w, func() {
		for p := range w.pending {
			if !alive[p] {
				delete(w.pending, p)
			}
		}
	})
}

func (c *keyCache) doneLocked(w *ackWaiter, change func()) {
	if len(w.pending) == 0 {
		return // already done
	}
	change()
	if len(w.pending) == 0 {
		close(w.done)
	}
}

func (c *keyCache) forget(nonce string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.waiters, nonce)
}

// KeyCacheStats describes the API key cache of this process.
type KeyCacheStats struct {
	Live        bool  // the listener is connected: the cache is in use
	Entries     int   // keys cached
	Hits        int64 // authentications answered from the cache
	Lookups     int64 // authentications that read the database (misses, bypasses, unknown keys)
	ListenerPID int32 // backend pid of the listener connection, 0 before the first one
	Connects    int64 // listener connections made (1 + reconnections)
}

// KeyCacheStats returns counters of the key cache, for metrics and tests.
func (s *Service) KeyCacheStats() KeyCacheStats {
	c := s.keys
	c.mu.Lock()
	live, n := c.live, c.lru.Len()
	c.mu.Unlock()
	return KeyCacheStats{
		Live: live, Entries: n, Hits: c.hits.Load(), Lookups: c.lookups.Load(),
		ListenerPID: c.listenerPID.Load(), Connects: c.reconnects.Load(),
	}
}

// lookupKey returns the lookup row of hash, from the cache when it can. cached tells whether
// it did; gen is to be passed to keys.put when the row is to be cached.
func (s *Service) lookupKey(ctx context.Context, hash string) (row db.ApiKeyGetByHashRow, cached bool, gen uint64, err error) {
	if row, ok := s.keys.get(hash); ok {
		s.keys.hits.Add(1)
		return row, true, 0, nil
	}
	gen = s.keys.generation()
	s.keys.lookups.Add(1)
	row, err = s.q.ApiKeyGetByHash(ctx, hash)
	return row, false, gen, err
}

// KeyNotice is a key invalidation queued in a transaction by NotifyKeysChangedTx. After the
// transaction commits, call Await; if it rolls back, drop the notice.
type KeyNotice struct {
	s       *Service
	nonce   string
	changes []KeyChange
	waiter  *ackWaiter
}

// NotifyKeysChangedTx queues, in the caller's transaction q, the notification that the lookup
// answer of the named keys changed (revoked, tier or expiry changed, deleted, firm or creator
// deactivated). Every change to api_keys or firms that alters what an API key authenticates
// as must call it, in the same transaction, and call Await on the result after commit.
// Errors: those of the database.
func (s *Service) NotifyKeysChangedTx(ctx context.Context, q *db.Queries, changes ...KeyChange) (*KeyNotice, error) {
	if len(changes) == 0 {
		return nil, nil
	}
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("read random bytes: %w", err)
	}
	nonce := hex.EncodeToString(b)
	// The listeners connected now are the ones that may cache the keys; one that connects
	// later starts empty.
	pids, err := q.ApiKeyCacheListeners(ctx, KeyListenerApplicationName)
	if err != nil {
		return nil, fmt.Errorf("list key cache listeners: %w", err)
	}
	if err := q.ApiKeyNotify(ctx, db.ApiKeyNotifyParams{Channel: KeyChannel, Payload: keyPayload(nonce, changes)}); err != nil {
		return nil, fmt.Errorf("notify key change: %w", err)
	}
	return &KeyNotice{s: s, nonce: nonce, changes: changes, waiter: s.keys.expect(nonce, pids)}, nil
}

// Await applies a committed invalidation to this process at once, then waits until the
// listener of every process has applied it, at most Config.KeyAckTimeout (or until ctx ends).
// A listener that disconnects meanwhile is not waited for: it flushes its cache when it
// reconnects. While this process's own listener is down it cannot see acknowledgements and
// returns after the local eviction; the other processes still receive the notification. A nil
// notice does nothing.
func (n *KeyNotice) Await(ctx context.Context) {
	if n == nil {
		return
	}
	s := n.s
	s.keys.invalidate(n.changes)
	defer s.keys.forget(n.nonce)
	if !s.keys.isLive() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.KeyAckTimeout)
	defer cancel()
	tick := time.NewTicker(ackPrunePeriod)
	defer tick.Stop()
	for {
		select {
		case <-n.waiter.done:
			return
		case <-ctx.Done():
			s.report(fmt.Errorf("api key invalidation %s: not acknowledged by every process within %s", n.nonce, s.cfg.KeyAckTimeout))
			return
		case <-tick.C:
			if pids, err := s.q.ApiKeyCacheListeners(ctx, KeyListenerApplicationName); err == nil {
				s.keys.prune(n.waiter, pids)
			}
		}
	}
}

// WithKeyListenerDial replaces how the key cache listener connects (tests use it to keep the
// listener down). The default is pgx.ConnectConfig.
func WithKeyListenerDial(fn func(ctx context.Context, cfg *pgx.ConnConfig) (*pgx.Conn, error)) Option {
	return func(s *Service) { s.dialListener = fn }
}

// RunKeyListener keeps this process's API key cache coherent until ctx ends: it holds a
// dedicated connection (not one of the pool's) listening on KeyChannel and applies the
// invalidations it hears. Until it is connected, and whenever the connection is lost, the
// cache is bypassed and flushed; it reconnects with a backoff of up to 5 seconds. Connection
// failures go to the error handler (WithErrorHandler). Without a running listener the cache is
// never used.
func (s *Service) RunKeyListener(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		wasLive, err := s.listenOnce(ctx)
		s.keys.setLive(false)
		if ctx.Err() != nil {
			return
		}
		s.report(fmt.Errorf("api key cache listener: %w (the cache is bypassed until it reconnects)", err))
		if wasLive {
			backoff = 100 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, keyListenerMaxBackoff)
	}
}

func (s *Service) listenOnce(ctx context.Context) (wasLive bool, err error) {
	cc := s.pool.Config().ConnConfig.Copy()
	params := make(map[string]string, len(cc.RuntimeParams))
	for k, v := range cc.RuntimeParams {
		params[k] = v
	}
	// The name is taken before LISTEN: a writer that sees this backend waits for its
	// acknowledgement. A listener named after LISTEN could go live, and cache a key, between a
	// writer's listing of listeners and its commit without being waited for. (A writer that
	// lists it before LISTEN ran waits for the timeout: correct, merely slow, and only during
	// a connection's first milliseconds.)
	params["application_name"] = KeyListenerApplicationName
	cc.RuntimeParams = params
	// A timed-out wait must leave the connection usable (no cancel request that could hit
	// the next statement).
	cc.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: pc.Conn()}
	}
	dial := s.dialListener
	if dial == nil {
		dial = pgx.ConnectConfig
	}
	conn, err := dial(ctx, cc)
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	s.keys.reconnects.Add(1)
	if _, err := conn.Exec(ctx, "LISTEN "+KeyChannel+"; LISTEN "+keyAckChannel); err != nil {
		return false, fmt.Errorf("listen: %w", err)
	}
	s.keys.listenerPID.Store(int32(conn.PgConn().PID()))
	s.keys.setLive(true)
	q := db.New(conn)
	for {
		wctx, cancel := context.WithTimeout(ctx, keyListenerPing)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if n != nil {
			if herr := s.handleKeyNotification(ctx, q, n); herr != nil {
				return true, herr
			}
		}
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return true, ctx.Err()
		case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err):
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, perr := conn.Exec(pctx, "SELECT 1")
			cancel()
			if perr != nil {
				return true, fmt.Errorf("ping: %w", perr)
			}
		default:
			return true, fmt.Errorf("wait for notification: %w", err)
		}
	}
}

func (s *Service) handleKeyNotification(ctx context.Context, q *db.Queries, n *pgconn.Notification) error {
	switch n.Channel {
	case keyAckChannel:
		s.keys.ack(n.Payload, int32(n.PID))
		return nil
	case KeyChannel:
		nonce, changes, ok := parseKeyPayload(n.Payload)
		if !ok {
			changes = []KeyChange{AllKeysChanged()}
		}
		s.keys.invalidate(changes)
		if nonce == "" {
			return nil
		}
		if err := q.ApiKeyNotify(ctx, db.ApiKeyNotifyParams{Channel: keyAckChannel, Payload: nonce}); err != nil {
			return fmt.Errorf("acknowledge: %w", err)
		}
	}
	return nil
}
