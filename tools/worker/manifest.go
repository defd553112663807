package main

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/diffuir-web/diffuir/site/server"
)

// The Worker's static front (front.mjs) answers every request for a built
// file without starting the Go instance, which costs 5-15 ms of CPU per
// request in workerd (more than the free plan's 10 ms at times): it looks
// the path up in a manifest of what this handler answers, made here at
// build time by running the handler natively over the same files. Nothing
// of the serving rules is written twice: the answers are the handler's.

// manifestEntry is the handler's answer to a GET of one path.
type manifestEntry struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	// Asset is the static-assets key whose bytes are the body (200s);
	// Body is the body of a small answer (redirects, 404, 405).
	Asset string `json:"asset,omitempty"`
	Body  string `json:"body,omitempty"`
}

// manifest is what front.mjs imports.
type manifest struct {
	// Config is the configuration the answers were made with; the front
	// hands every request to Go when the Worker's variables differ.
	Config struct {
		FrameAncestors string `json:"frameAncestors"`
		Isolation      bool   `json:"isolation"`
		PacksPrefix    string `json:"packsPrefix"`
	} `json:"config"`
	Paths            map[string]manifestEntry `json:"paths"`
	NotFound         manifestEntry            `json:"notFound"`
	MethodNotAllowed manifestEntry            `json:"methodNotAllowed"`
}

// dropHeaders vary per response and are left to the runtime.
var dropHeaders = map[string]bool{"Date": true}

// buildManifest asks the handler, over site, for every file and folder.
func buildManifest(site fs.FS, cfg config) (*manifest, error) {
	h := server.New(site, cfg.options())
	m := &manifest{Paths: map[string]manifestEntry{}}
	m.Config.FrameAncestors, m.Config.Isolation, m.Config.PacksPrefix = cfg.frameAncestors, cfg.isolation, strings.TrimSuffix(cfg.packPrefix, "/")
	ask := func(method, p string) (manifestEntry, error) {
		req := httptest.NewRequest(method, "http://site.invalid"+p, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		res := rec.Result()
		e := manifestEntry{Status: res.StatusCode, Headers: map[string]string{}}
		for k, v := range res.Header {
			if !dropHeaders[k] {
				e.Headers[strings.ToLower(k)] = strings.Join(v, ", ")
			}
		}
		body, err := io.ReadAll(res.Body)
		if err != nil {
			return e, err
		}
		if res.StatusCode != http.StatusOK {
			e.Body = string(body)
		}
		return e, nil
	}
	err := fs.WalkDir(site, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		p := "/" + name
		if name == "." {
			p = "/"
		}
		var paths []string
		if d.IsDir() {
			paths = append(paths, strings.TrimSuffix(p, "/")+"/")
			if p != "/" {
				paths = append(paths, p) // the redirect to the slash
			}
		} else {
			paths = append(paths, p)
		}
		for _, q := range paths {
			key := (&url.URL{Path: q}).EscapedPath()
			e, err := ask(http.MethodGet, key)
			if err != nil {
				return fmt.Errorf("manifest %s: %w", q, err)
			}
			if e.Status == http.StatusOK {
				e.Asset = strings.TrimPrefix(q, "/")
				if strings.HasSuffix(q, "/") {
					e.Asset = path.Join(e.Asset, "index.html")
				}
			}
			if e.Status == http.StatusNotFound {
				continue // the front's 404 is NotFound
			}
			m.Paths[key] = e
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if m.NotFound, err = ask(http.MethodGet, "/no-such-file-in-the-manifest"); err != nil {
		return nil, err
	}
	if m.MethodNotAllowed, err = ask(http.MethodPost, "/"); err != nil {
		return nil, err
	}
	return m, nil
}

// writeManifest writes m as the ES module front.mjs imports.
func writeManifest(w io.Writer, m *manifest) error {
	keys := make([]string, 0, len(m.Paths))
	for k := range m.Paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "// Written by tools/worker/build.sh (go run ./tools/worker -manifest): the site handler's answers, %d paths.\nexport default %s;\n", len(keys), b)
	return err
}
