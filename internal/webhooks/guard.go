package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"

	"github.com/casexchange/server/internal/apperr"
)

// This file keeps deliveries away from the server's own network (SSRF). A subscription URL is
// checked when it is set, and its host is resolved again before every attempt: the connection is
// made to the very address that was checked, so a DNS answer that changes between the check and
// the connection (rebinding) cannot reach a private address.

// MaxURLLength is the longest subscription URL accepted.
const MaxURLLength = 2048

// Resolver looks up the addresses of a host; *net.Resolver implements it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// notPublic lists the ranges a delivery may never reach, beyond what netip's predicates cover
// (loopback, private, link-local, multicast, unspecified).
var notPublic = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",       // "this network"
		"100.64.0.0/10",   // shared address space (CGNAT)
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation (TEST-NET-1)
		"192.88.99.0/24",  // 6to4 relay anycast (deprecated)
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation (TEST-NET-2)
		"203.0.113.0/24",  // documentation (TEST-NET-3)
		"240.0.0.0/4",     // reserved, and the broadcast address
		"::/128",          // unspecified
		"::ffff:0:0/96",   // IPv4-mapped (checked as IPv4 after unmapping; listed for safety)
		"64:ff9b::/96",    // NAT64: may translate to any IPv4 address
		"64:ff9b:1::/48",  // local-use NAT64
		"100::/64",        // discard-only
		"2001::/23",       // IETF protocol assignments (Teredo, ORCHID, benchmarking, ...)
		"2001:db8::/32",   // documentation
		"2002::/16",       // 6to4: embeds an IPv4 address
		"3fff::/20",       // documentation
		"5f00::/16",       // segment routing SIDs
		"fc00::/7",        // unique local
		"fe80::/10",       // link-local
		"fec0::/10",       // site-local (deprecated)
		"ff00::/8",        // multicast
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// PublicAddr reports whether a may receive deliveries: a global unicast address outside every
// special-purpose range, IPv4 or IPv6.
func PublicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.Zone() != "" {
		return false
	}
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() || !a.IsGlobalUnicast() {
		return false
	}
	for _, p := range notPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// Resolution failures, told apart in delivery errors.
var (
	errAddrNotAllowed = errors.New("address not allowed")
	errDNS            = errors.New("dns")
)

// guard checks URLs and resolves hosts for deliveries.
type guard struct {
	resolver     Resolver
	allowPrivate bool
}

// checkURL validates a subscription URL: syntax, scheme, port, credentials, length, and that
// every address of its host is public. field names the input in the error.
//
// Errors: ErrValidation with code invalid_webhook_url.
func (g guard) checkURL(ctx context.Context, field, raw string) (string, error) {
	bad := func(msg string) (string, error) {
		return "", &apperr.Error{Kind: apperr.ErrValidation, Code: "invalid_webhook_url", Message: msg,
			Details: []apperr.FieldError{{Field: field, Message: msg}}}
	}
	raw = strings.TrimSpace(raw)
	switch {
	case raw == "":
		return bad("The webhook URL is required")
	case len(raw) > MaxURLLength:
		return bad(fmt.Sprintf("The webhook URL must be at most %d characters", MaxURLLength))
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return bad("The webhook URL is not a valid absolute URL")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && g.allowPrivate:
	default:
		return bad("The webhook URL must use https")
	}
	if u.User != nil {
		return bad("The webhook URL must not contain a user name or password")
	}
	if u.Fragment != "" {
		return bad("The webhook URL must not contain a fragment")
	}
	if p := u.Port(); p != "" && p != "443" && !g.allowPrivate {
		return bad("The webhook URL must use port 443")
	}
	host := u.Hostname()
	if host == "" {
		return bad("The webhook URL has no host")
	}
	if _, err := g.resolve(ctx, host); err != nil {
		if errors.Is(err, errAddrNotAllowed) {
			return bad("The webhook URL's host must resolve only to public addresses")
		}
		return bad("The webhook URL's host could not be resolved")
	}
	return u.String(), nil
}

// resolve returns the addresses of host, all of which must be public (unless private
// addresses are allowed). A literal IP address is not looked up.
func (g guard) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		addrs = []netip.Addr{a}
	} else {
		r := g.resolver
		if r == nil {
			r = net.DefaultResolver
		}
		addrs, err = r.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", errDNS, host, err)
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("%w: %s has no addresses", errDNS, host)
		}
	}
	if !g.allowPrivate {
		for _, a := range addrs {
			if !PublicAddr(a) {
				return nil, fmt.Errorf("%w: %s resolves to %s", errAddrNotAllowed, host, a)
			}
		}
	}
	return addrs, nil
}

// dialContext connects to one of the checked addresses of addr's host, in order.
func (g guard) dialContext(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		addrs, err := g.resolve(ctx, host)
		if err != nil {
			return nil, err
		}
		var firstErr error
		for _, a := range addrs {
			conn, err := d.DialContext(ctx, network, net.JoinHostPort(a.Unmap().String(), port))
			if err == nil {
				return conn, nil
			}
			if firstErr == nil {
				firstErr = err
			}
		}
		return nil, firstErr
	}
}
