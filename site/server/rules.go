package server

import (
	"path"
	"strings"
)

// Cache-Control values.
const (
	// CacheImmutable is sent for content-hashed files: a new build gives
	// them a new name, so a cached copy can never be stale.
	CacheImmutable = "public, max-age=31536000, immutable"
	// CacheRevalidate is sent for everything else: browsers and the service
	// worker may keep a copy but must revalidate it (a cheap 304) before use.
	CacheRevalidate = "no-cache"
)

// types is the whole MIME table: a fixed list instead of mime.TypeByExtension,
// whose answers depend on the host's /etc/mime.types.
var types = map[string]string{
	".html":        "text/html; charset=utf-8",
	".htm":         "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".json":        "application/json",
	".map":         "application/json",
	".webmanifest": "application/manifest+json",
	".wasm":        "application/wasm",
	".duir":        "application/octet-stream",
	".wgsl":        "text/wgsl; charset=utf-8",
	".txt":         "text/plain; charset=utf-8",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".jpg":         "image/jpeg",
	".jpeg":        "image/jpeg",
	".gif":         "image/gif",
	".webp":        "image/webp",
	".avif":        "image/avif",
	".ico":         "image/x-icon",
	".woff2":       "font/woff2",
	".woff":        "font/woff",
	".xml":         "application/xml",
}

// ContentType is the Content-Type sent for a file name; unknown extensions
// get application/octet-stream (with nosniff, a browser never executes them).
func ContentType(name string) string {
	if t, ok := types[strings.ToLower(path.Ext(name))]; ok {
		return t
	}
	return "application/octet-stream"
}

// IsHashed reports whether a file name carries a content hash: a
// dot-separated segment of at least 8 hex digits immediately before the
// extension, e.g. app.3f2a9c1d.wasm or 9f86d081884c7d65.duir. Only the base
// name counts; directories are ignored.
func IsHashed(name string) bool {
	base := path.Base(name)
	dot := strings.LastIndexByte(base, '.')
	if dot <= 0 {
		return false
	}
	stem := base[:dot]
	seg := stem[strings.LastIndexByte(stem, '.')+1:]
	if len(seg) < 8 {
		return false
	}
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// alwaysRevalidate reports files that must never be cached as immutable,
// whatever their name: documents, the service worker (browsers check it for
// updates but an immutable copy would pin the old app) and the manifest.
func alwaysRevalidate(name string) bool {
	base := strings.ToLower(path.Base(name))
	switch path.Ext(base) {
	case ".html", ".htm", ".webmanifest":
		return true
	}
	return base == "sw.js" || base == "manifest.json"
}

// CacheControl is the Cache-Control value sent for a file name.
func CacheControl(name string) string {
	if IsHashed(name) && !alwaysRevalidate(name) {
		return CacheImmutable
	}
	return CacheRevalidate
}

// isHTML reports the documents that get frame-ancestors and, with
// Options.Isolation, are where COOP matters.
func isHTML(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".html", ".htm":
		return true
	}
	return false
}

// getsCSP reports the files whose response policy the browser applies:
// documents (HTML, and SVG opened directly) and scripts that may run as a
// Worker or service worker, whose policy comes from their own response.
func getsCSP(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".html", ".htm", ".svg", ".js", ".mjs":
		return true
	}
	return false
}
