// Package embedded holds the built web app inside the binary when built with
// -tags embedsite, so `diffuir serve` runs from anywhere (and the Worker can
// be built without Workers static assets).
//
// The embedded files are those in this package's dist/ directory at compile
// time. build.sh fills it from the built app (dist/site, never dist/ itself,
// which holds the CLI binary) and then builds with the tag:
//
//	rm -rf site/server/embedded/dist
//	cp -R dist/site site/server/embedded/dist
//	go build -tags embedsite -trimpath -ldflags="-s -w" -o dist/diffuir ./tools/diffuir
//
// dist/ here is ignored by git. Without the tag nothing is embedded, FS
// returns nil and the directory need not exist; with the tag and no
// directory the build fails ("pattern all:dist: no matching files found").
package embedded

import "io/fs"

// site is set by embed_on.go when built with -tags embedsite.
var site fs.FS

// FS returns the embedded site rooted at its index.html, or nil when the
// binary was built without -tags embedsite.
func FS() fs.FS { return site }
