//go:build js && wasm

package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/url"
	"strconv"
	"syscall/js"

	"github.com/syumai/workers"
	"github.com/syumai/workers/cloudflare"
	"github.com/syumai/workers/cloudflare/cache"
	"github.com/syumai/workers/cloudflare/fetch"
	"github.com/syumai/workers/cloudflare/r2"

	"github.com/diffuir-web/diffuir/site/server"
	"github.com/diffuir-web/diffuir/site/server/embedded"
)

// syumai/workers starts a fresh Go instance per request, so main runs once
// per request too: reading the configuration here costs nothing extra.
func main() {
	cfg := loadConfig(cloudflare.Getenv)
	opts := cfg.options()
	workers.Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fsys, err := siteFS(cfg, r)
		if err != nil {
			log.Printf("worker: %v", err)
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, "500 internal server error", http.StatusInternalServerError)
			return
		}
		if r.Method == http.MethodHead {
			w = &headWriter{ResponseWriter: w}
		} else {
			w = passThroughWriter{w}
		}
		server.New(fsys, opts).ServeHTTP(w, r)
	}))
}

// siteFS assembles the file system for one request.
func siteFS(cfg config, r *http.Request) (fs.FS, error) {
	site := embedded.FS() // with -tags embedsite
	if site == nil {
		assets := cloudflare.GetBinding("ASSETS")
		if assets.IsUndefined() {
			return nil, fmt.Errorf("no ASSETS binding: configure [assets] binding = \"ASSETS\" in wrangler.toml, or build with -tags embedsite")
		}
		client := fetch.NewClient(fetch.WithBinding(assets))
		site = storeFS{get: assetGetter(r.Context(), client)}
	}
	if cfg.packBucket == "" {
		return site, nil
	}
	bucket, err := r2.NewBucket(cfg.packBucket)
	if err != nil {
		return nil, fmt.Errorf("R2 binding %s: %w", cfg.packBucket, err)
	}
	get := r2Getter(bucket)
	if cfg.packCache {
		origin := "https://" + r.Host
		if r.URL.Host != "" {
			origin = r.URL.Scheme + "://" + r.URL.Host
		}
		get = cached(get, apiCache{c: cache.New(), base: origin + "/" + cfg.packPrefix}, server.IsHashed, log.Printf)
	}
	return prefixFS{prefix: cfg.packPrefix, packs: storeFS{get: get}, rest: site}, nil
}

// assetGetter reads files through the static-assets binding. The URL's host
// is irrelevant to the binding; with html_handling = "none" it maps paths
// to files one to one.
func assetGetter(ctx context.Context, client *fetch.Client) getter {
	return func(key string) (*object, error) {
		u := url.URL{Scheme: "https", Host: "assets.invalid", Path: "/" + key}
		req, err := fetch.NewRequest(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, fmt.Errorf("asset request: %w", err)
		}
		res, err := client.Do(req, &fetch.RequestInit{Redirect: fetch.RedirectModeManual})
		if err != nil {
			return nil, fmt.Errorf("fetch asset: %w", err)
		}
		switch {
		case res.StatusCode == http.StatusOK:
		case res.StatusCode == http.StatusNotFound, res.StatusCode/100 == 3:
			// A redirect is the asset server's idea of a directory: not a file.
			res.Body.Close()
			return nil, fs.ErrNotExist
		default:
			res.Body.Close()
			return nil, fmt.Errorf("fetch asset: status %d", res.StatusCode)
		}
		return &object{body: res.Body, size: identityLength(res.Header), etag: strongETag(res.Header.Get("ETag"))}, nil
	}
}

// identityLength is the body's length if the header gives it for the bytes
// read (not for an encoded body the runtime decodes), else -1.
func identityLength(h http.Header) int64 {
	if h.Get("Content-Encoding") != "" {
		return -1
	}
	n, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// strongETag keeps a store's ETag only if it is strong; a weak one would
// make the handler's ETag weak, so the handler hashes the bytes instead.
func strongETag(tag string) string {
	if len(tag) < 2 || tag[0] != '"' {
		return ""
	}
	return tag
}

func r2Getter(b *r2.Bucket) getter {
	return func(key string) (*object, error) {
		o, err := b.Get(key)
		if err != nil {
			return nil, fmt.Errorf("R2 get %s: %w", key, err)
		}
		if o == nil {
			return nil, fs.ErrNotExist
		}
		body, ok := o.Body.(io.ReadCloser) // keeps the JS stream reachable (passThroughWriter)
		if !ok {
			body = io.NopCloser(o.Body)
		}
		return &object{body: body, size: int64(o.Size), etag: o.HTTPETag}, nil
	}
}

// apiCache is the Workers Cache API keyed by the pack's public URL.
type apiCache struct {
	c    *cache.Cache
	base string // "https://host/packs/"
}

func (a apiCache) request(key string) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, a.base+key, nil)
	return req
}

func (a apiCache) match(key string) (*object, error) {
	res, err := a.c.Match(a.request(key), nil)
	if err == cache.ErrCacheNotFound {
		return nil, fs.ErrNotExist
	}
	if err != nil {
		return nil, fmt.Errorf("cache match: %w", err)
	}
	return &object{body: res.Body, size: identityLength(res.Header), etag: strongETag(res.Header.Get("ETag"))}, nil
}

func (a apiCache) fillLater(key string, get getter) {
	cloudflare.WaitUntil(func() {
		o, err := get(key)
		if err != nil {
			log.Printf("cache fill %s: %v", key, err)
			return
		}
		h := http.Header{}
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Cache-Control", server.CacheImmutable)
		h.Set("Content-Length", strconv.FormatInt(o.size, 10))
		if o.etag != "" {
			h.Set("ETag", o.etag)
		}
		res := &http.Response{StatusCode: http.StatusOK, Header: h, Body: o.body, ContentLength: o.size}
		if err := a.c.Put(a.request(key), res); err != nil {
			log.Printf("cache put %s: %v", key, err)
		}
	})
}

// headWriter gives HEAD answers a null body. syumai/workers otherwise wraps
// the (empty) body in a FixedLengthStream of Content-Length bytes, which
// throws "did not see all expected bytes" on every HEAD. Writes (an error
// text) are dropped: they would block on a pipe nobody reads.
type headWriter struct {
	http.ResponseWriter
	headerDone bool
}

func (h *headWriter) WriteHeader(code int) {
	if h.headerDone {
		return
	}
	h.headerDone = true
	if raw, ok := h.ResponseWriter.(rawBodyWriter); ok {
		raw.WriteRawJSBody(js.Null())
	} else {
		h.Header().Del("Content-Length")
	}
	h.ResponseWriter.WriteHeader(code)
}

func (h *headWriter) Write(p []byte) (int, error) {
	h.WriteHeader(http.StatusOK) // a no-op after the first call
	return len(p), nil
}

// rawBodyWriter is syumai/workers' ResponseWriter taking a JS body as is.
type rawBodyWriter interface{ WriteRawJSBody(js.Value) }

// passThroughWriter lets a whole-file answer hand the store's ReadableStream
// (static assets, R2, cache) straight to the runtime: http.ServeContent ends
// with io.CopyN(w, file, size), which comes here as ReadFrom of an
// io.LimitedReader over the file. Ranges and anything else are copied.
type passThroughWriter struct{ http.ResponseWriter }

func (w passThroughWriter) ReadFrom(r io.Reader) (int64, error) {
	lr, ok := r.(*io.LimitedReader)
	if ok {
		f, isFile := lr.R.(*streamFile)
		raw, canRaw := w.ResponseWriter.(rawBodyWriter)
		if isFile && canRaw && f.pos == 0 && lr.N == f.obj.size {
			body, err := f.handOff()
			if err != nil {
				return 0, err
			}
			if src, ok := body.(interface{ GetRawJSBody() js.Value }); ok {
				raw.WriteRawJSBody(src.GetRawJSBody())
				return lr.N, nil
			}
			// Not a JS stream (an embedded or buffered file): copy it.
			defer body.Close()
			return io.Copy(writerOnly{w.ResponseWriter}, io.LimitReader(body, lr.N))
		}
	}
	return io.Copy(writerOnly{w.ResponseWriter}, r)
}

// writerOnly hides ReadFrom so io.Copy does not recurse.
type writerOnly struct{ io.Writer }
