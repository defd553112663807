//go:build embedsite

package embedded

import (
	"embed"
	"io/fs"
)

// all: keeps files whose names start with "." or "_" (e.g. _headers).
//
//go:embed all:dist
var dist embed.FS

func init() {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic("embedded site: " + err.Error()) // unreachable: "dist" is a valid name
	}
	site = sub
}
