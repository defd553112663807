package server

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

const (
	wasmName = "app.3f2a9c1d.wasm"
	packName = "tiny.9f86d081884c7d65.duir"
)

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 31)
	}
	return b
}

// site is a small built app: hashed wasm with .br/.gz siblings, an unhashed
// script with a .gz sibling, a pack, a directory with and one without an
// index.html.
func site(t testing.TB) fstest.MapFS {
	wasm := append([]byte("\x00asm\x01\x00\x00\x00"), bytes.Repeat([]byte("wasm"), 500)...)
	js := []byte(strings.Repeat("console.log('diffuir');\n", 40))
	return fstest.MapFS{
		"index.html":                {Data: []byte("<!doctype html><title>DiffUIR</title>")},
		wasmName:                    {Data: wasm},
		wasmName + ".gz":            {Data: gz(t, wasm)},
		wasmName + ".br":            {Data: []byte("not really brotli")},
		"app.js":                    {Data: js},
		"app.js.gz":                 {Data: gz(t, js)},
		"widget.5e1d0c3b.mjs":       {Data: []byte("export {}")},
		"sw.js":                     {Data: []byte("self.addEventListener('fetch', () => {})")},
		"manifest.webmanifest":      {Data: []byte(`{"name":"DiffUIR"}`)},
		"deadbeef99.html":           {Data: []byte("<p>hashed-looking page")},
		"shaders/conv.wgsl":         {Data: []byte("@compute @workgroup_size(8) fn main() {}")},
		"logo.svg":                  {Data: []byte("<svg xmlns='http://www.w3.org/2000/svg'/>")},
		"data.bin":                  {Data: []byte{1, 2, 3}},
		"packs/" + packName:         {Data: pattern(1000)},
		"docs/index.html":           {Data: []byte("<p>docs")},
		"empty/readme.txt":          {Data: []byte("no index here")},
		"weird name/index.html":     {Data: []byte("<p>space")},
		"packs/not-a-hash.duir.txt": {Data: []byte("x")},
	}
}

type resp struct {
	code int
	hdr  http.Header
	body string
}

func do(h http.Handler, method, target string, hdr ...string) resp {
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return resp{rec.Code, rec.Result().Header, rec.Body.String()}
}

// absent marks a header that must not be sent.
const absent = "<absent>"

func checkHeaders(t *testing.T, r resp, want map[string]string) {
	t.Helper()
	for k, v := range want {
		got, ok := r.hdr[http.CanonicalHeaderKey(k)]
		switch {
		case v == absent && ok:
			t.Errorf("%s: %q, want absent", k, got)
		case v != absent && (!ok || strings.Join(got, ", ") != v):
			t.Errorf("%s: %q, want %q", k, strings.Join(got, ", "), v)
		}
	}
}

func TestTypesAndCaching(t *testing.T) {
	h := New(site(t), Options{})
	tests := []struct {
		path, ctype, cache string
	}{
		{"/", "text/html; charset=utf-8", CacheRevalidate},
		{"/index.html", "text/html; charset=utf-8", CacheRevalidate},
		{"/" + wasmName, "application/wasm", CacheImmutable},
		{"/app.js", "text/javascript; charset=utf-8", CacheRevalidate},
		{"/widget.5e1d0c3b.mjs", "text/javascript; charset=utf-8", CacheImmutable},
		{"/sw.js", "text/javascript; charset=utf-8", CacheRevalidate},
		{"/manifest.webmanifest", "application/manifest+json", CacheRevalidate},
		{"/deadbeef99.html", "text/html; charset=utf-8", CacheRevalidate},
		{"/shaders/conv.wgsl", "text/wgsl; charset=utf-8", CacheRevalidate},
		{"/logo.svg", "image/svg+xml", CacheRevalidate},
		{"/data.bin", "application/octet-stream", CacheRevalidate},
		{"/packs/" + packName, "application/octet-stream", CacheImmutable},
		{"/docs/", "text/html; charset=utf-8", CacheRevalidate},
		{"/weird%20name/", "text/html; charset=utf-8", CacheRevalidate},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			r := do(h, "GET", tc.path)
			if r.code != 200 {
				t.Fatalf("status %d: %s", r.code, r.body)
			}
			checkHeaders(t, r, map[string]string{
				"Content-Type":           tc.ctype,
				"Cache-Control":          tc.cache,
				"X-Content-Type-Options": "nosniff",
				"Referrer-Policy":        "no-referrer",
			})
			if r.hdr.Get("Last-Modified") != "" {
				t.Errorf("Last-Modified sent: the ETag is the only validator")
			}
		})
	}
}

func TestSecurityHeaders(t *testing.T) {
	csp := "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; style-src 'self'; " +
		"img-src 'self' blob: data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
	framed := strings.Replace(csp, "frame-ancestors 'none'", "frame-ancestors 'self' https://partner.example", 1)
	tests := []struct {
		name string
		opts Options
		path string
		want map[string]string
	}{
		{"html default", Options{}, "/", map[string]string{
			"Content-Security-Policy":      csp,
			"Cross-Origin-Opener-Policy":   absent,
			"Cross-Origin-Embedder-Policy": absent,
			"Cross-Origin-Resource-Policy": absent,
			"Access-Control-Allow-Origin":  absent,
		}},
		{"html framed", Options{FrameAncestors: "'self' https://partner.example"}, "/", map[string]string{
			"Content-Security-Policy": framed,
		}},
		{"html isolated", Options{Isolation: true}, "/", map[string]string{
			"Cross-Origin-Opener-Policy":   "same-origin",
			"Cross-Origin-Embedder-Policy": "require-corp",
		}},
		{"worker script", Options{}, "/sw.js", map[string]string{
			"Content-Security-Policy":      csp,
			"Cross-Origin-Resource-Policy": "cross-origin",
		}},
		{"wasm for widget", Options{}, "/" + wasmName, map[string]string{
			"Content-Security-Policy":      absent,
			"Cross-Origin-Resource-Policy": "cross-origin",
			"Access-Control-Allow-Origin":  "*",
			"Cross-Origin-Embedder-Policy": absent,
		}},
		{"pack for widget", Options{}, "/packs/" + packName, map[string]string{
			"Cross-Origin-Resource-Policy": "cross-origin",
			"Access-Control-Allow-Origin":  "*",
		}},
		{"wasm isolated", Options{Isolation: true}, "/" + wasmName, map[string]string{
			"Cross-Origin-Opener-Policy":   "same-origin",
			"Cross-Origin-Embedder-Policy": "require-corp",
		}},
		{"custom policy", Options{ContentSecurityPolicy: "default-src 'none'"}, "/", map[string]string{
			"Content-Security-Policy": "default-src 'none'",
		}},
		{"404 keeps nosniff", Options{}, "/nope", map[string]string{
			"X-Content-Type-Options": "nosniff",
			"Referrer-Policy":        "no-referrer",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkHeaders(t, do(New(site(t), tc.opts), "GET", tc.path), tc.want)
		})
	}
}

func TestETag(t *testing.T) {
	fsys := site(t)
	h := New(fsys, Options{})
	r := do(h, "GET", "/"+wasmName)
	tag := r.hdr.Get("ETag")
	if len(tag) != 34 || tag[0] != '"' || tag[33] != '"' {
		t.Fatalf("ETag %q: want a strong 32-hex-digit tag", tag)
	}
	if again := do(h, "GET", "/"+wasmName).hdr.Get("ETag"); again != tag {
		t.Fatalf("ETag changed between requests: %q then %q", tag, again)
	}
	brTag := do(h, "GET", "/"+wasmName, "Accept-Encoding", "br").hdr.Get("ETag")
	if brTag == tag || brTag == "" {
		t.Fatalf("br variant ETag %q must differ from identity %q", brTag, tag)
	}

	tests := []struct {
		name, inm, ae string
		code          int
	}{
		{"match", tag, "", 304},
		{"match in list", `"x", ` + tag, "", 304},
		{"star", "*", "", 304},
		{"weak form matches", "W/" + tag, "", 304},
		{"mismatch", `"0123"`, "", 200},
		{"br tag, br accepted", brTag, "br", 304},
		{"identity tag, br accepted", tag, "br", 200},
		{"br tag, identity", brTag, "", 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(h, "GET", "/"+wasmName, "If-None-Match", tc.inm, "Accept-Encoding", tc.ae)
			if r.code != tc.code {
				t.Fatalf("status %d, want %d", r.code, tc.code)
			}
			if tc.code == 304 {
				if r.body != "" {
					t.Errorf("304 with a body of %d bytes", len(r.body))
				}
				checkHeaders(t, r, map[string]string{"Cache-Control": CacheImmutable, "Content-Length": absent})
			}
		})
	}

	// A rebuilt file (new size or mtime) gets a new ETag, never the cached one.
	fsys["index.html"] = &fstest.MapFile{Data: []byte("<!doctype html><title>v2</title>")}
	before := do(h, "GET", "/").hdr.Get("ETag")
	fsys["index.html"] = &fstest.MapFile{Data: []byte("<!doctype html><title>v3, longer</title>")}
	if after := do(h, "GET", "/").hdr.Get("ETag"); after == before {
		t.Fatalf("ETag %q unchanged after the file changed", after)
	}
}

func TestRange(t *testing.T) {
	h := New(site(t), Options{})
	pack := pattern(1000)
	tests := []struct {
		name, rng, ae string
		code          int
		contentRange  string
		body          []byte
	}{
		{"first bytes", "bytes=0-9", "", 206, "bytes 0-9/1000", pack[:10]},
		{"open end", "bytes=990-", "", 206, "bytes 990-999/1000", pack[990:]},
		{"suffix", "bytes=-5", "", 206, "bytes 995-999/1000", pack[995:]},
		{"clamped end", "bytes=998-5000", "", 206, "bytes 998-999/1000", pack[998:]},
		{"unsatisfiable", "bytes=5000-", "", 416, "bytes */1000", nil},
		{"malformed", "bytes=9-1", "", 416, "", nil},
		{"not bytes", "items=0-1", "", 200, "", pack},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(h, "GET", "/packs/"+packName, "Range", tc.rng)
			if r.code != tc.code {
				t.Fatalf("status %d, want %d (%s)", r.code, tc.code, r.body)
			}
			if got := r.hdr.Get("Content-Range"); got != tc.contentRange {
				t.Errorf("Content-Range %q, want %q", got, tc.contentRange)
			}
			if tc.body != nil && r.body != string(tc.body) {
				t.Errorf("body: %d bytes, want %d", len(r.body), len(tc.body))
			}
		})
	}

	// A Range request never gets an encoded variant: the range is over the
	// identity bytes, whatever Accept-Encoding says.
	r := do(h, "GET", "/"+wasmName, "Range", "bytes=0-3", "Accept-Encoding", "br, gzip")
	if r.code != 206 || r.body != "\x00asm" || r.hdr.Get("Content-Encoding") != "" {
		t.Fatalf("range with Accept-Encoding: %d %q %q", r.code, r.hdr.Get("Content-Encoding"), r.body)
	}
	// If-Range with a stale ETag: the whole file.
	r = do(h, "GET", "/packs/"+packName, "Range", "bytes=0-9", "If-Range", `"stale"`)
	if r.code != 200 || len(r.body) != 1000 {
		t.Fatalf("If-Range stale: %d, %d bytes", r.code, len(r.body))
	}
	tag := do(h, "HEAD", "/packs/"+packName).hdr.Get("ETag")
	r = do(h, "GET", "/packs/"+packName, "Range", "bytes=0-9", "If-Range", tag)
	if r.code != 206 {
		t.Fatalf("If-Range current: %d", r.code)
	}
}

func TestAcceptEncoding(t *testing.T) {
	fsys := site(t)
	h := New(fsys, Options{})
	tests := []struct {
		path, ae, want string // want: the Content-Encoding, "" for identity
	}{
		{"/" + wasmName, "", ""},
		{"/" + wasmName, "br", "br"},
		{"/" + wasmName, "gzip", "gzip"},
		{"/" + wasmName, "x-gzip", "gzip"},
		{"/" + wasmName, "gzip, deflate, br", "br"},
		{"/" + wasmName, "br;q=0.5, gzip", "gzip"},
		{"/" + wasmName, "br;q=0.5, gzip;q=0.8", "gzip"},
		{"/" + wasmName, "BR;Q=0.9, GZIP;q=0.9", "br"},
		{"/" + wasmName, "br;q=0, gzip;q=0", ""},
		{"/" + wasmName, "br;q=0, gzip", "gzip"},
		{"/" + wasmName, "*", "br"},
		{"/" + wasmName, "*;q=0", ""},
		{"/" + wasmName, "*, br;q=0", "gzip"},
		{"/" + wasmName, "identity", ""},
		{"/" + wasmName, "gzip;q=0.2, identity;q=0.5", ""},
		{"/" + wasmName, "gzip;q=bogus", ""},
		{"/" + wasmName, "deflate", ""},
		{"/app.js", "br, gzip", "gzip"}, // only a .gz sibling exists
		{"/sw.js", "br, gzip", ""},      // no sibling at all
	}
	for _, tc := range tests {
		t.Run(tc.path+" "+tc.ae, func(t *testing.T) {
			r := do(h, "GET", tc.path, "Accept-Encoding", tc.ae)
			if r.code != 200 {
				t.Fatalf("status %d", r.code)
			}
			checkHeaders(t, r, map[string]string{"Vary": "Accept-Encoding", "Cache-Control": CacheControl(tc.path)})
			if got := r.hdr.Get("Content-Encoding"); got != tc.want {
				t.Fatalf("Content-Encoding %q, want %q", got, tc.want)
			}
			if ct := r.hdr.Get("Content-Type"); ct != ContentType(tc.path) {
				t.Errorf("Content-Type %q: an encoded variant keeps its file's type", ct)
			}
			var ext string
			switch tc.want {
			case "br":
				ext = ".br"
			case "gzip":
				ext = ".gz"
			}
			want := fsys[strings.TrimPrefix(tc.path, "/")+ext].Data
			if r.body != string(want) {
				t.Errorf("body is not the %q file", tc.path+ext)
			}
			if cl := r.hdr.Get("Content-Length"); cl != strconv.Itoa(len(want)) {
				t.Errorf("Content-Length %q, want %d", cl, len(want))
			}
		})
	}
	// The gzip variant really decodes to the file.
	r := do(h, "GET", "/"+wasmName, "Accept-Encoding", "gzip")
	zr, err := gzip.NewReader(strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(zr); !bytes.Equal(b, fsys[wasmName].Data) {
		t.Fatal("gzip variant does not decode to the wasm")
	}

	// NoPrecompressed: siblings ignored, no Vary.
	r = do(New(fsys, Options{NoPrecompressed: true}), "GET", "/"+wasmName, "Accept-Encoding", "br, gzip")
	checkHeaders(t, r, map[string]string{"Content-Encoding": absent, "Vary": absent})
}

func TestPathsAndDirectories(t *testing.T) {
	h := New(site(t), Options{})
	tests := []struct {
		target   string
		code     int
		location string
	}{
		{"/../etc/passwd", 400, ""},
		{"/..", 400, ""},
		{"/docs/../../etc/passwd", 400, ""},
		{"/%2e%2e/etc/passwd", 400, ""},
		{"/%2E%2E%2Fetc%2Fpasswd", 400, ""},
		{"/a/..%2fb", 400, ""},
		{"/packs%2f" + packName, 400, ""},
		{"/packs%2F" + packName, 400, ""},
		{`/..\..\etc\passwd`, 400, ""},
		{"/packs%5c" + packName, 400, ""},
		{"/index.html%00.png", 400, ""},
		{"/%00", 400, ""},
		{"/./index.html", 200, ""},
		{"//index.html", 200, ""},
		{"/docs/./", 200, ""},
		{"/docs/", 200, ""},
		{"/docs", 301, "/docs/"},
		{"/docs?x=1", 301, "/docs/?x=1"},
		{"/weird%20name", 301, "/weird%20name/"},
		{"/empty/", 404, ""},
		{"/empty", 404, ""},
		{"/empty/readme.txt", 200, ""},
		{"/packs/", 404, ""},
		{"/missing.wasm", 404, ""},
		{"/index.html/", 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.target, func(t *testing.T) {
			r := do(h, "GET", tc.target)
			if r.code != tc.code {
				t.Fatalf("status %d, want %d (%q)", r.code, tc.code, r.body)
			}
			if got := r.hdr.Get("Location"); got != tc.location {
				t.Errorf("Location %q, want %q", got, tc.location)
			}
			if tc.code == 404 {
				checkHeaders(t, r, map[string]string{"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"})
				if r.body != "404 not found\n" {
					t.Errorf("body %q", r.body)
				}
				if strings.Contains(r.body, "readme") {
					t.Error("404 body lists the directory")
				}
			}
		})
	}
}

func TestMethods(t *testing.T) {
	h := New(site(t), Options{})
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND"} {
		t.Run(m, func(t *testing.T) {
			r := do(h, m, "/index.html")
			if r.code != 405 {
				t.Fatalf("status %d", r.code)
			}
			checkHeaders(t, r, map[string]string{"Allow": "GET, HEAD", "Content-Type": "text/plain; charset=utf-8"})
			if r.body != "405 method not allowed\n" {
				t.Errorf("body %q", r.body)
			}
		})
	}
	for _, tc := range []struct{ path, ae string }{{"/", ""}, {"/packs/" + packName, ""}, {"/" + wasmName, "gzip"}} {
		t.Run("HEAD "+tc.path+" "+tc.ae, func(t *testing.T) {
			get := do(h, "GET", tc.path, "Accept-Encoding", tc.ae)
			head := do(h, "HEAD", tc.path, "Accept-Encoding", tc.ae)
			if head.code != 200 || head.body != "" {
				t.Fatalf("HEAD: status %d, %d body bytes", head.code, len(head.body))
			}
			for _, k := range []string{"Content-Length", "Content-Type", "ETag", "Cache-Control", "Content-Encoding"} {
				if head.hdr.Get(k) != get.hdr.Get(k) {
					t.Errorf("%s: HEAD %q, GET %q", k, head.hdr.Get(k), get.hdr.Get(k))
				}
			}
			if head.hdr.Get("Content-Length") != strconv.Itoa(len(get.body)) {
				t.Errorf("HEAD Content-Length %q, GET body %d bytes", head.hdr.Get("Content-Length"), len(get.body))
			}
		})
	}
}

// opaqueFS hides Seek (like a network-backed store) and supplies ETags.
type opaqueFS struct{ fstest.MapFS }

type opaqueFile struct {
	fs.File
	tag string
}

func (f opaqueFile) Read(p []byte) (int, error) { return f.File.Read(p) }
func (f opaqueFile) ETag() string               { return f.tag }

func (o opaqueFS) Open(name string) (fs.File, error) {
	f, err := o.MapFS.Open(name)
	if err != nil {
		return nil, err
	}
	return opaqueFile{f, "etag-of-" + name}, nil
}

func TestCustomFS(t *testing.T) {
	h := New(opaqueFS{site(t)}, Options{})
	r := do(h, "GET", "/packs/"+packName, "Range", "bytes=10-19")
	if r.code != 206 || r.body != string(pattern(1000)[10:20]) {
		t.Fatalf("range over a non-seekable file: %d, %d bytes", r.code, len(r.body))
	}
	if tag := r.hdr.Get("ETag"); tag != `"etag-of-packs/`+packName+`"` {
		t.Fatalf("ETag %q: want the file's own", tag)
	}
	if r := do(h, "GET", "/packs/"+packName, "If-None-Match", `"etag-of-packs/`+packName+`"`); r.code != 304 {
		t.Fatalf("If-None-Match with the file's own ETag: %d", r.code)
	}
}

func TestIsHashed(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"app.3f2a9c1d.wasm", true},
		{"assets/app.3F2A9C1D.js", true},
		{"tiny.9f86d081884c7d65.duir", true},
		{"9f86d081884c7d65.duir", true},
		{"packs/9f86d081.duir", true},
		{"app.3f2a9c1.wasm", false},  // 7 digits
		{"app.3f2a9c1g.wasm", false}, // not hex
		{"app.wasm", false},
		{"3f2a9c1d", false},                 // no extension
		{"3f2a9c1d.0123abcd/app.js", false}, // only the base name counts
		{"app.3f2a9c1d.wasm.map", false},    // the segment before .map is "wasm"
		{"app.3f2a9c1d-min.js", false},      // not dot-separated
		{"app.3f2a9c1d.0123.js", false},     // the segment right before the extension
		{"deadbeefcafe.html", true},         // hashed, but HTML stays no-cache (CacheControl)
		{".3f2a9c1d", false},                // a dotfile, no extension
		{"", false},
	}
	for _, tc := range tests {
		if got := IsHashed(tc.name); got != tc.want {
			t.Errorf("IsHashed(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
	for name, want := range map[string]string{
		"app.3f2a9c1d.wasm":        CacheImmutable,
		"deadbeefcafe.html":        CacheRevalidate,
		"sw.js":                    CacheRevalidate,
		"sw.3f2a9c1d.js":           CacheImmutable, // only sw.js itself is the service worker
		"app.3f2a9c1d.webmanifest": CacheRevalidate,
		"manifest.json":            CacheRevalidate,
	} {
		if got := CacheControl(name); got != want {
			t.Errorf("CacheControl(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestOSFS(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("<p>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	h := New(os.DirFS(dir), Options{})
	tests := []struct {
		target string
		code   int
	}{
		{"/", 200},
		{"/index.html/", 404},
		{"/index.html/x", 404},
		{"/" + strings.Repeat("a", 300), 404},
		{"/" + strings.Repeat("a/", 3000), 404},
		{"/sub", 404},
		{"/sub/", 404},
	}
	for _, tc := range tests {
		if r := do(h, "GET", tc.target); r.code != tc.code {
			t.Errorf("%.40s: %d, want %d (%s)", tc.target, r.code, tc.code, r.body)
		}
	}
}
