// Package buildinfo says which build of the server is running. `make build` stamps the version
// (git describe) and the commit with the linker:
//
//	-ldflags "-X github.com/casexchange/server/internal/buildinfo.version=v1.2.0-3-gabc1234
//	          -X github.com/casexchange/server/internal/buildinfo.revision=abc1234..."
//
// A plain `go build` leaves them empty; the module and VCS information Go embeds is used
// instead, and "dev" when there is none.
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"sync"
)

// Set with -ldflags -X; see the package comment.
var (
	version  string
	revision string
)

// Info describes this build.
type Info struct {
	Version   string // git describe of the source, e.g. v1.2.0-3-gabc1234-dirty; "dev" when unknown
	Revision  string // full commit hash; "unknown" when unknown
	GoVersion string // the Go toolchain that built the binary
}

var (
	once sync.Once
	info Info
)

// Get returns the information about this build.
func Get() Info {
	once.Do(func() {
		info = Info{Version: version, Revision: revision, GoVersion: runtime.Version()}
		if bi, ok := debug.ReadBuildInfo(); ok {
			if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
				info.Version = bi.Main.Version
			}
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" && info.Revision == "" {
					info.Revision = s.Value
				}
			}
		}
		if info.Version == "" {
			info.Version = "dev"
		}
		if info.Revision == "" {
			info.Revision = "unknown"
		}
	})
	return info
}

// Version returns Get().Version.
func Version() string { return Get().Version }
