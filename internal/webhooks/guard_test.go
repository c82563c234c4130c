package webhooks_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/webhooks"
)

func TestPublicAddr(t *testing.T) {
	t.Parallel()
	public := []string{"93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001:82b::200e"}
	private := []string{
		"127.0.0.1", "127.1.2.3", "::1", // loopback
		"10.0.0.1", "172.16.5.4", "192.168.1.1", "fd00::1", "fc00::1", // private and unique local
		"169.254.169.254", "fe80::1", // link-local (cloud metadata)
		"100.64.0.1", "100.127.255.254", // CGNAT
		"224.0.0.1", "239.255.255.250", "ff02::1", // multicast
		"0.0.0.0", "0.1.2.3", "::", // unspecified and "this network"
		"240.0.0.1", "255.255.255.255", // reserved and broadcast
		"192.0.2.10", "198.51.100.7", "203.0.113.9", "2001:db8::1", "3fff::1", // documentation
		"198.18.0.1", "192.0.0.8", // benchmarking, protocol assignments
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", // IPv4-mapped private
		"64:ff9b::a00:1", "2002:a00:1::1", "2001::1", // NAT64, 6to4, Teredo
	}
	for _, a := range public {
		require.True(t, webhooks.PublicAddr(netip.MustParseAddr(a)), a)
	}
	for _, a := range private {
		require.False(t, webhooks.PublicAddr(netip.MustParseAddr(a)), a)
	}
}
