// Command serve is the web-app tests' static server (until `diffuir serve`
// lands): it serves a folder on 127.0.0.1 with the right MIME types
// (application/wasm), precompressed .br/.gz siblings, revalidation caching
// and a strict Content-Security-Policy on HTML and JavaScript, so the tests
// run the app under the policy it promises to work with.
//
//	go run ./tests/web/serve -dir dist/site -addr 127.0.0.1:0
//
// It prints "serving http://ADDR/" once listening.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// CSP is the strict policy: only this origin, no inline script or style,
// WebAssembly compilation allowed ('wasm-unsafe-eval').
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' blob: data:; " +
	"connect-src 'self'; worker-src 'self' blob:; manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"

var types = map[string]string{
	".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8", ".wasm": "application/wasm", ".json": "application/json",
	".webmanifest": "application/manifest+json", ".png": "image/png", ".jpg": "image/jpeg", ".svg": "image/svg+xml",
	".duir": "application/octet-stream", ".ts": "text/plain; charset=utf-8", ".md": "text/plain; charset=utf-8",
}

func main() {
	dir := flag.String("dir", "dist/site", "folder to serve")
	addr := flag.String("addr", "127.0.0.1:0", "listen address (127.0.0.1 only)")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("serving http://%s/\n", ln.Addr())
	log.Fatal(http.Serve(ln, handler(*dir)))
}

func handler(root string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p := path.Clean("/" + r.URL.Path)
		if strings.HasSuffix(p, "/") || p == "/" {
			p = path.Join(p, "index.html")
		}
		file := filepath.Join(root, filepath.FromSlash(p))
		if st, err := os.Stat(file); err != nil || st.IsDir() {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		ext := path.Ext(p)
		if t, ok := types[ext]; ok {
			h.Set("Content-Type", t)
		} else {
			h.Set("Content-Type", "application/octet-stream")
		}
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-cache")
		if ext == ".html" || ext == ".js" {
			h.Set("Content-Security-Policy", CSP)
		}
		h.Add("Vary", "Accept-Encoding")
		if r.Header.Get("Range") == "" {
			ae := r.Header.Get("Accept-Encoding")
			for _, c := range []struct{ token, ext string }{{"br", ".br"}, {"gzip", ".gz"}} {
				if strings.Contains(ae, c.token) {
					if _, err := os.Stat(file + c.ext); err == nil {
						h.Set("Content-Encoding", c.token)
						file += c.ext
						break
					}
				}
			}
		}
		f, err := os.Open(file)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		st, _ := f.Stat()
		http.ServeContent(w, r, "", st.ModTime(), f)
	})
}
