package server_test

import (
	"fmt"
	"net/http/httptest"
	"testing/fstest"

	"github.com/diffuir-web/diffuir/site/server"
)

func ExampleNew() {
	// Any fs.FS works: os.DirFS("dist"), an embed.FS, or a store the Worker wraps.
	site := fstest.MapFS{
		"index.html":        {Data: []byte("<!doctype html><title>DiffUIR</title>")},
		"app.3f2a9c1d.wasm": {Data: []byte("\x00asm\x01\x00\x00\x00")},
	}
	h := server.New(site, server.Options{FrameAncestors: "'self'"})

	for _, target := range []string{"/", "/app.3f2a9c1d.wasm"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
		fmt.Println(target, rec.Code, rec.Header().Get("Content-Type"), "|", rec.Header().Get("Cache-Control"))
	}

	// Revalidation with the ETag costs a 304 and no body.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("If-None-Match", rec.Header().Get("ETag"))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println("revalidate:", rec.Code)

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/", nil))
	fmt.Println("POST:", rec.Code, rec.Header().Get("Allow"))
	// Output:
	// / 200 text/html; charset=utf-8 | no-cache
	// /app.3f2a9c1d.wasm 200 application/wasm | public, max-age=31536000, immutable
	// revalidate: 304
	// POST: 405 GET, HEAD
}
