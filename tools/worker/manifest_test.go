package main

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"
)

func TestManifest(t *testing.T) {
	site := fstest.MapFS{
		"index.html":                    {Data: []byte("<!doctype html><title>x</title>")},
		"app.js":                        {Data: []byte("console.log(1)\n")},
		"models/tiny.0123456789ab.duir": {Data: bytes.Repeat([]byte{7}, 1000)},
		"docs/index.html":               {Data: []byte("<p>docs")},
		"empty/readme.txt":              {Data: []byte("no index")},
	}
	env := map[string]string{"FRAME_ANCESTORS": "'self'"}
	cfg := loadConfig(func(k string) string { return env[k] })
	m, err := buildManifest(site, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if m.Config.FrameAncestors != "'self'" || m.Config.PacksPrefix != "models" || m.Config.Isolation {
		t.Errorf("config %+v", m.Config)
	}
	for _, tc := range []struct {
		path, asset string
		status      int
		header      string // name=substring
	}{
		{"/", "index.html", 200, "content-security-policy=frame-ancestors 'self'"},
		{"/app.js", "app.js", 200, "content-type=text/javascript"},
		{"/models/tiny.0123456789ab.duir", "models/tiny.0123456789ab.duir", 200, "cache-control=immutable"},
		{"/docs", "", 301, "location=/docs/"},
		{"/docs/", "docs/index.html", 200, "content-type=text/html"},
	} {
		e, ok := m.Paths[tc.path]
		if !ok {
			t.Errorf("%s: not in the manifest", tc.path)
			continue
		}
		k, v, _ := strings.Cut(tc.header, "=")
		if e.Status != tc.status || e.Asset != tc.asset || !strings.Contains(e.Headers[k], v) {
			t.Errorf("%s: status %d asset %q %s=%q; want %d %q, %s containing %q", tc.path, e.Status, e.Asset, k, e.Headers[k], tc.status, tc.asset, k, v)
		}
		if _, ok := e.Headers["date"]; ok {
			t.Errorf("%s: a Date header in the manifest", tc.path)
		}
	}
	if e, ok := m.Paths["/app.js"]; ok && e.Headers["etag"] == "" {
		t.Errorf("/app.js has no ETag: the front's 304s need one")
	}
	if _, ok := m.Paths["/empty/"]; ok {
		t.Errorf("/empty/ (no index) is in the manifest; it is the front's 404")
	}
	if m.NotFound.Status != http.StatusNotFound || m.MethodNotAllowed.Status != http.StatusMethodNotAllowed || m.MethodNotAllowed.Headers["allow"] != "GET, HEAD" {
		t.Errorf("404 %d, 405 %d allow %q", m.NotFound.Status, m.MethodNotAllowed.Status, m.MethodNotAllowed.Headers["allow"])
	}
	var buf bytes.Buffer
	if err := writeManifest(&buf, m); err != nil || !strings.Contains(buf.String(), "export default {") {
		t.Errorf("writeManifest: %v", err)
	}
}
