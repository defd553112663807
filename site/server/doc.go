// Package server is the one HTTP handler that serves the built web app: the
// local `diffuir serve` command runs it over net/http and the Cloudflare
// Worker (tools/worker) runs the same handler inside workerd.
//
// New(fsys, opts) serves the files of fsys, read-only, GET and HEAD only.
// The rules it applies (see docs/SERVING.md for the reasoning):
//
//   - Content types come from a fixed table (ContentType), never from the
//     host's mime database or from sniffing, and every response carries
//     X-Content-Type-Options: nosniff and Referrer-Policy: no-referrer.
//   - A file whose name has a dot-separated segment of 8 or more hex digits
//     right before its extension (app.3f2a9c1d.wasm, tiny.9f86d081.duir,
//     9f86d0818847.duir) is content-hashed (IsHashed) and cached for a year
//     as immutable. HTML, the service worker (sw.js), the web manifest and
//     every unhashed file are "no-cache": revalidated on every use, which the
//     strong ETag makes cheap (304).
//   - The ETag is a SHA-256 of the bytes sent, computed on first use and
//     cached per (name, size, mtime); a file of a custom fs.FS can supply its
//     own through the ETagger interface (the Worker does, from R2 or from
//     the static-assets store, where hashing per request would cost CPU).
//   - Range requests (via http.ServeContent): 206 with Content-Range, 416
//     when unsatisfiable, If-Range honoured.
//   - Precompressed siblings (NAME.br, NAME.gz) are chosen by Accept-Encoding
//     with q-values, with Vary: Accept-Encoding. A request with a Range
//     header always gets the identity file, so byte ranges always refer to
//     the unencoded bytes.
//   - HTML, JavaScript and SVG get a strict Content-Security-Policy (scripts
//     only from this origin, WebAssembly compilation allowed). JavaScript
//     gets it too because a Worker's or service worker's policy is the one
//     delivered with its own script.
//   - Non-HTML files get Cross-Origin-Resource-Policy: cross-origin and
//     Access-Control-Allow-Origin: *, so a third-party page can load the
//     embeddable widget's scripts, wasm and packs. COOP/COEP (cross-origin
//     isolation) is opt-in (Options.Isolation): it would stop the widget
//     from being usable on host pages that are not isolated themselves.
//   - No directory listings; "/" and "/dir/" serve index.html; "/dir"
//     redirects to "/dir/" when that has an index.html.
//   - Paths with "..", backslashes, NUL or encoded slashes are refused (400).
package server
