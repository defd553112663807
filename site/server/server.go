package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options configures the handler. The zero value is the production default
// for the standalone app.
type Options struct {
	// FrameAncestors is the CSP frame-ancestors source list for HTML, e.g.
	// "'self' https://partner.example". Empty means 'none': no page may
	// frame the app (the widget is a script, not an iframe).
	FrameAncestors string

	// ContentSecurityPolicy replaces the whole default policy when set.
	ContentSecurityPolicy string

	// Isolation adds Cross-Origin-Opener-Policy: same-origin and
	// Cross-Origin-Embedder-Policy: require-corp, which make the app
	// cross-origin isolated (SharedArrayBuffer, precise timers). Off by
	// default: COEP forbids loading anything cross-origin without CORP, and
	// COOP severs window.opener, which breaks the widget embedded in
	// third-party pages and any popup flow.
	Isolation bool

	// NoPrecompressed ignores NAME.br and NAME.gz siblings. The Worker sets
	// it: Cloudflare compresses responses itself, and a Workers Response
	// with Content-Encoding set is compressed again unless created with
	// encodeBody: "manual", which syumai/workers does not do.
	NoPrecompressed bool

	// ErrorLog receives read errors (never 404s); nil means log.Default().
	ErrorLog *log.Logger
}

// ETagger may be implemented by the fs.File values of a custom fs.FS that
// already knows a strong validator for the file (an object store's ETag, a
// digest computed at build time). A non-empty result is sent as is, in
// quotes, instead of hashing the content.
type ETagger interface {
	ETag() string
}

// DefaultCSP returns the policy sent with HTML, scripts and SVG, with the
// given frame-ancestors source list ("" means 'none').
func DefaultCSP(frameAncestors string) string {
	if strings.TrimSpace(frameAncestors) == "" {
		frameAncestors = "'none'"
	}
	return "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; " +
		"style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; object-src 'none'; " +
		"base-uri 'none'; frame-ancestors " + frameAncestors
}

type handler struct {
	fsys  fs.FS
	opts  Options
	csp   string
	log   *log.Logger
	etags sync.Map // etagKey -> string
}

// etagKey ties a cached digest to one version of a file: a rebuilt dist/
// changes the size or the mtime, so a stale digest is never reused.
type etagKey struct {
	name  string
	size  int64
	mtime int64
}

// New returns a handler serving the files of fsys (see the package doc).
func New(fsys fs.FS, opts Options) http.Handler {
	h := &handler{fsys: fsys, opts: opts, csp: opts.ContentSecurityPolicy, log: opts.ErrorLog}
	if h.csp == "" {
		h.csp = DefaultCSP(opts.FrameAncestors)
	}
	if h.log == nil {
		h.log = log.Default()
	}
	return h
}

var errNotFile = errors.New("not a regular file")

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	if h.opts.Isolation {
		hdr.Set("Cross-Origin-Opener-Policy", "same-origin")
		hdr.Set("Cross-Origin-Embedder-Policy", "require-corp")
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		h.fail(w, http.StatusMethodNotAllowed)
		return
	}
	name, dirReq, ok := cleanPath(r.URL)
	if !ok {
		h.fail(w, http.StatusBadRequest)
		return
	}
	if dirReq {
		name = path.Join(name, "index.html")
	}

	f, fi, err := h.open(name)
	if err != nil {
		if notFound(err) {
			// "/docs" names a directory: send the browser to "/docs/" so that
			// relative URLs in its index.html resolve inside it.
			if !dirReq && h.exists(path.Join(name, "index.html")) {
				h.redirect(w, r, "/"+name+"/")
				return
			}
			h.fail(w, http.StatusNotFound)
			return
		}
		h.log.Printf("serve %s: %v", name, err)
		h.fail(w, http.StatusInternalServerError)
		return
	}
	defer func() { f.Close() }()

	if rng := r.Header.Get("Range"); rng != "" && !strings.HasPrefix(rng, "bytes=") {
		// RFC 9110 §14.2: a range unit the server does not know is ignored
		// (ServeContent would answer 416).
		r = r.Clone(r.Context())
		r.Header.Del("Range")
	}

	var enc *coding
	if !h.opts.NoPrecompressed {
		hdr.Add("Vary", "Accept-Encoding")
		// With a Range header the identity file is always served, so ranges
		// (resumed pack downloads) never refer to compressed bytes.
		if r.Header.Get("Range") == "" {
			for _, c := range negotiate(r.Header.Values("Accept-Encoding")) {
				if ef, efi, err := h.open(name + c.ext); err == nil {
					f.Close()
					f, fi, enc = ef, efi, &c
					break
				}
			}
		}
	}

	fileName := name
	if enc != nil {
		fileName += enc.ext
	}
	tag, err := h.etag(fileName, f, fi)
	if err != nil {
		h.log.Printf("serve %s: %v", fileName, err)
		h.fail(w, http.StatusInternalServerError)
		return
	}
	content, err := seekable(f)
	if err != nil {
		h.log.Printf("serve %s: %v", fileName, err)
		h.fail(w, http.StatusInternalServerError)
		return
	}

	hdr.Set("Content-Type", ContentType(name))
	hdr.Set("Cache-Control", CacheControl(name))
	hdr.Set("ETag", tag)
	if enc != nil {
		hdr.Set("Content-Encoding", enc.token)
		// ServeContent leaves Content-Length out when Content-Encoding is set.
		hdr.Set("Content-Length", strconv.FormatInt(fi.Size(), 10))
	}
	if getsCSP(name) {
		hdr.Set("Content-Security-Policy", h.csp)
	}
	if !isHTML(name) {
		// Public, credential-free static files: let third-party pages that
		// host the widget load them, even under their own COEP.
		hdr.Set("Cross-Origin-Resource-Policy", "cross-origin")
		hdr.Set("Access-Control-Allow-Origin", "*")
		hdr.Set("Access-Control-Expose-Headers", "Content-Range, ETag")
	}
	// Zero modtime: no Last-Modified. The ETag is the validator, the same
	// for every replica and for the Worker.
	http.ServeContent(w, r, "", time.Time{}, content)
}

// cleanPath maps a URL path to an fs.FS name. dir reports a trailing slash
// (or the root). Traversal and ambiguous encodings are refused rather than
// cleaned, since no honest client sends them.
func cleanPath(u *url.URL) (name string, dir, ok bool) {
	p := u.Path
	if p == "" {
		p = "/"
	}
	if p[0] != '/' || strings.ContainsAny(p, "\\\x00") {
		return "", false, false
	}
	// An encoded slash would turn into a separator after decoding.
	if strings.Contains(strings.ToLower(u.EscapedPath()), "%2f") {
		return "", false, false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return "", false, false
		}
	}
	name = strings.TrimPrefix(path.Clean(p), "/")
	if name == "" {
		return "", true, true
	}
	if !fs.ValidPath(name) {
		return "", false, false
	}
	return name, strings.HasSuffix(p, "/"), true
}

// notFound reports the open errors that mean "no such file here": besides
// ErrNotExist, a path through a file ("/app.js/x") and a name too long
// for the OS.
func notFound(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotFile) ||
		errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.ENAMETOOLONG)
}

// open opens a regular file; directories and other kinds fail with errNotFile.
func (h *handler) open(name string) (fs.File, fs.FileInfo, error) {
	f, err := h.fsys.Open(name)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("stat: %w", err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, errNotFile
	}
	return f, fi, nil
}

func (h *handler) exists(name string) bool {
	f, _, err := h.open(name)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// etag returns the file's strong validator: its own (ETagger) or the first
// 128 bits of the SHA-256 of its bytes, cached per version.
func (h *handler) etag(name string, f fs.File, fi fs.FileInfo) (string, error) {
	if t, ok := f.(ETagger); ok {
		if tag := t.ETag(); tag != "" {
			if !strings.HasSuffix(tag, `"`) {
				tag = `"` + tag + `"`
			}
			return tag, nil
		}
	}
	key := etagKey{name, fi.Size(), fi.ModTime().UnixNano()}
	if v, ok := h.etags.Load(key); ok {
		return v.(string), nil
	}
	sum := sha256.New()
	if s, ok := f.(io.ReadSeeker); ok {
		// Hash the very file that is served, then rewind it.
		if _, err := io.Copy(sum, s); err != nil {
			return "", fmt.Errorf("hash: %w", err)
		}
		if _, err := s.Seek(0, io.SeekStart); err != nil {
			return "", fmt.Errorf("rewind after hashing: %w", err)
		}
	} else {
		hf, err := h.fsys.Open(name)
		if err != nil {
			return "", fmt.Errorf("open to hash: %w", err)
		}
		_, err = io.Copy(sum, hf)
		hf.Close()
		if err != nil {
			return "", fmt.Errorf("hash: %w", err)
		}
	}
	tag := `"` + hex.EncodeToString(sum.Sum(nil)[:16]) + `"`
	h.etags.Store(key, tag)
	return tag, nil
}

// seekable returns f itself when it can seek (os, embed, fstest files),
// otherwise its bytes in memory, since ServeContent seeks for ranges.
func seekable(f fs.File) (io.ReadSeeker, error) {
	if s, ok := f.(io.ReadSeeker); ok {
		return s, nil
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	return bytes.NewReader(b), nil
}

func (h *handler) redirect(w http.ResponseWriter, r *http.Request, target string) {
	u := url.URL{Path: target, RawQuery: r.URL.RawQuery}
	w.Header().Set("Location", u.String())
	w.Header().Set("Cache-Control", CacheRevalidate)
	w.WriteHeader(http.StatusMovedPermanently)
}

// fail writes a short plain-text error that no cache keeps.
func (h *handler) fail(w http.ResponseWriter, code int) {
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, strconv.Itoa(code)+" "+strings.ToLower(http.StatusText(code)), code)
}
