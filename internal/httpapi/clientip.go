package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/labstack/echo/v4"
)

// Client address headers ClientIP reads.
const (
	HeaderXForwardedFor = "X-Forwarded-For"
	HeaderForwarded     = "Forwarded"
)

// ClientIP returns the Echo IPExtractor of the client address: the direct peer, unless the
// peer is one of the trusted proxies, in which case the address list of header (X-Forwarded-For,
// or the for= parameters of Forwarded) is walked from the right, past every trusted proxy, and
// the first address that is not one is the client. Anything left of it was written by the
// client itself and is ignored. With no trusted proxy the header is never read.
func ClientIP(trusted []netip.Prefix, header string) echo.IPExtractor {
	if header == "" {
		header = HeaderXForwardedFor
	}
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return func(r *http.Request) string {
		direct, ok := parseHop(r.RemoteAddr)
		if !ok {
			host, _, err := net.SplitHostPort(r.RemoteAddr)
			if err != nil {
				return r.RemoteAddr
			}
			return host
		}
		if len(trusted) == 0 || !isTrusted(direct) {
			return direct.String()
		}
		hops := forwardedHops(r.Header, header)
		client := direct
		for i := len(hops) - 1; i >= 0; i-- {
			a, ok := parseHop(hops[i])
			if !ok {
				// A malformed entry: the chain cannot be followed further; the last
				// address known good is the nearest one.
				break
			}
			client = a
			if !isTrusted(a) {
				break
			}
		}
		return client.String()
	}
}

// forwardedHops lists the addresses of header, leftmost (farthest) first, over every instance
// of the header.
func forwardedHops(h http.Header, header string) []string {
	var hops []string
	for _, line := range h.Values(header) {
		for _, elem := range strings.Split(line, ",") {
			elem = strings.TrimSpace(elem)
			if header != HeaderForwarded {
				hops = append(hops, elem)
				continue
			}
			// Forwarded: for=192.0.2.60;proto=http;by=203.0.113.43 (RFC 7239). An element
			// without for= names no address; it still counts as a hop we cannot read.
			found := ""
			for _, pair := range strings.Split(elem, ";") {
				k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if ok && strings.EqualFold(k, "for") {
					found = strings.Trim(v, `"`)
				}
			}
			hops = append(hops, found)
		}
	}
	return hops
}

// parseHop reads an address as a header or RemoteAddr writes it: 192.0.2.1, 192.0.2.1:4711,
// 2001:db8::1, [2001:db8::1] or [2001:db8::1]:4711.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}
