package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/diffuir-web/diffuir/site/server"
)

// fakeStore is an in-memory getter that counts fetches.
type fakeStore struct {
	files       map[string][]byte
	etags       bool // hand out ETags, like R2 and static assets
	unknownSize bool // no length, like a chunked response
	gets        map[string]int
}

func newFake(files map[string][]byte) *fakeStore {
	return &fakeStore{files: files, etags: true, gets: map[string]int{}}
}

func (s *fakeStore) get(key string) (*object, error) {
	s.gets[key]++
	b, ok := s.files[key]
	if !ok {
		return nil, fs.ErrNotExist
	}
	o := &object{body: io.NopCloser(bytes.NewReader(b)), size: int64(len(b))}
	if s.etags {
		o.etag = fmt.Sprintf(`"store-%s-%d"`, key, len(b))
	}
	if s.unknownSize {
		o.size = -1
	}
	return o, nil
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func get(h http.Handler, target string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestStoreFS(t *testing.T) {
	pack := pattern(100_000)
	files := map[string][]byte{
		"index.html":                 []byte("<!doctype html>"),
		"docs/index.html":            []byte("<p>docs"),
		"models/tiny.9f86d081.duir":  pack,
		"app.3f2a9c1d.wasm":          []byte("\x00asm\x01\x00\x00\x00"),
		"app.3f2a9c1d.wasm.br":       []byte("never served by the Worker"),
		"unhashed-without-etag.json": []byte(`{"a":1}`),
	}
	tests := []struct {
		name                string
		etags, unknownSize  bool
		target, rng         string
		code                int
		body                []byte
		contentRange        string
		maxGets             int // fetches of the file's key for this request
		wantStoreETag       bool
		wantContentEncoding string
	}{
		{"whole pack", true, false, "/models/tiny.9f86d081.duir", "", 200, pack, "", 1, true, ""},
		{"range skips forward", true, false, "/models/tiny.9f86d081.duir", "bytes=90000-90009", 206, pack[90000:90010], "bytes 90000-90009/100000", 1, true, ""},
		{"suffix range", true, false, "/models/tiny.9f86d081.duir", "bytes=-3", 206, pack[99997:], "bytes 99997-99999/100000", 1, true, ""},
		{"416", true, false, "/models/tiny.9f86d081.duir", "bytes=200000-", 416, nil, "bytes */100000", 1, false, ""},
		{"no store ETag: hashed, then refetched", false, false, "/models/tiny.9f86d081.duir", "", 200, pack, "", 2, false, ""},
		{"unknown size: buffered", true, true, "/models/tiny.9f86d081.duir", "bytes=5-9", 206, pack[5:10], "bytes 5-9/100000", 1, true, ""},
		{"unknown size, no ETag", false, true, "/models/tiny.9f86d081.duir", "bytes=5-9", 206, pack[5:10], "bytes 5-9/100000", 2, false, ""},
		{"root", true, false, "/", "", 200, []byte("<!doctype html>"), "", 1, true, ""},
		{"missing", true, false, "/nope.js", "", 404, nil, "", 1, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := newFake(files)
			st.etags, st.unknownSize = tc.etags, tc.unknownSize
			h := server.New(storeFS{get: st.get}, loadConfig(func(string) string { return "" }).options())
			rec := get(h, tc.target, "Range", tc.rng, "Accept-Encoding", "br, gzip")
			if rec.Code != tc.code {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.code, rec.Body)
			}
			if tc.body != nil && !bytes.Equal(rec.Body.Bytes(), tc.body) {
				t.Errorf("body: %d bytes, want %d", rec.Body.Len(), len(tc.body))
			}
			if got := rec.Header().Get("Content-Range"); got != tc.contentRange {
				t.Errorf("Content-Range %q, want %q", got, tc.contentRange)
			}
			key := strings.TrimPrefix(tc.target, "/")
			if key == "" {
				key = "index.html"
			}
			if st.gets[key] > tc.maxGets {
				t.Errorf("%d fetches of %s, want at most %d", st.gets[key], key, tc.maxGets)
			}
			if tag := rec.Header().Get("ETag"); tc.wantStoreETag != strings.HasPrefix(tag, `"store-`) {
				t.Errorf("ETag %q: store's wanted = %v", tag, tc.wantStoreETag)
			}
			if st.gets[key+".br"] > 0 || rec.Header().Get("Content-Encoding") != "" {
				t.Errorf("the Worker looked for or sent a precompressed sibling")
			}
		})
	}

	t.Run("directory redirect", func(t *testing.T) {
		h := server.New(storeFS{get: newFake(files).get}, server.Options{})
		if rec := get(h, "/docs"); rec.Code != 301 || rec.Header().Get("Location") != "/docs/" {
			t.Fatalf("/docs: %d %q", rec.Code, rec.Header().Get("Location"))
		}
		if rec := get(h, "/docs/"); rec.Code != 200 || rec.Body.String() != "<p>docs" {
			t.Fatalf("/docs/: %d %q", rec.Code, rec.Body)
		}
	})

	t.Run("multipart ranges seek back", func(t *testing.T) {
		st := newFake(files)
		h := server.New(storeFS{get: st.get}, server.Options{})
		rec := get(h, "/models/tiny.9f86d081.duir", "Range", "bytes=50000-50001,10-11")
		if rec.Code != 206 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "multipart/byteranges") {
			t.Fatalf("%d %q", rec.Code, rec.Header().Get("Content-Type"))
		}
		for _, part := range [][]byte{pack[50000:50002], pack[10:12]} {
			if !bytes.Contains(rec.Body.Bytes(), part) {
				t.Errorf("part %x missing", part)
			}
		}
		if n := st.gets["models/tiny.9f86d081.duir"]; n != 2 {
			t.Errorf("%d fetches, want 2 (one refetch for the backward seek)", n)
		}
	})

	t.Run("hand off", func(t *testing.T) {
		st := newFake(map[string][]byte{"a.bin": pattern(10)})
		f, err := storeFS{get: st.get}.Open("a.bin")
		if err != nil {
			t.Fatal(err)
		}
		sf := f.(*streamFile)
		io.ReadAll(sf) // as the handler does to hash a file without ETag
		sf.Seek(0, io.SeekStart)
		body, err := sf.handOff()
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := io.ReadAll(body); !bytes.Equal(b, pattern(10)) || st.gets["a.bin"] != 2 {
			t.Fatalf("handed-off body %x after %d fetches; want the whole file, refetched once", b, st.gets["a.bin"])
		}
		if _, err := sf.Read(make([]byte, 1)); err == nil {
			t.Error("Read after hand-off succeeded")
		}
		if _, err := sf.handOff(); err == nil {
			t.Error("second hand-off succeeded")
		}
		if err := sf.Close(); err != nil {
			t.Error(err)
		}
	})

	t.Run("object changed under a refetch", func(t *testing.T) {
		st := newFake(map[string][]byte{"a.bin": pattern(10)})
		f, err := storeFS{get: st.get}.Open("a.bin")
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(f.(io.Reader))
		st.files["a.bin"] = pattern(11)
		f.(io.Seeker).Seek(0, io.SeekStart)
		if _, err := f.Read(make([]byte, 4)); err == nil || !strings.Contains(err.Error(), "changed") {
			t.Fatalf("read after the object changed: %v", err)
		}
	})
}

func TestPrefixFS(t *testing.T) {
	packs := newFake(map[string][]byte{"tiny.9f86d081.duir": []byte("from R2")})
	site := newFake(map[string][]byte{"index.html": []byte("<p>"), "models/tiny.9f86d081.duir": []byte("from assets")})
	h := server.New(prefixFS{prefix: "models/", packs: storeFS{get: packs.get}, rest: storeFS{get: site.get}}, server.Options{})
	tests := []struct{ target, body string }{
		{"/models/tiny.9f86d081.duir", "from R2"},
		{"/", "<p>"},
	}
	for _, tc := range tests {
		if rec := get(h, tc.target); rec.Code != 200 || rec.Body.String() != tc.body {
			t.Errorf("%s: %d %q, want %q", tc.target, rec.Code, rec.Body, tc.body)
		}
	}
	site.files["models/only-in-assets.duir"] = []byte("fallback")
	if rec := get(h, "/models/only-in-assets.duir"); rec.Code != 200 || rec.Body.String() != "fallback" {
		t.Errorf("pack only in assets: %d %q", rec.Code, rec.Body)
	}
	if rec := get(h, "/models/missing.duir"); rec.Code != 404 {
		t.Errorf("missing pack: %d", rec.Code)
	}
}

// fakeCache records fills and serves what was filled.
type fakeCache struct {
	entries map[string]*object
	fills   []string
	fail    bool
}

func (c *fakeCache) match(key string) (*object, error) {
	if c.fail {
		return nil, errors.New("cache down")
	}
	if o, ok := c.entries[key]; ok {
		return o, nil
	}
	return nil, fs.ErrNotExist
}

func (c *fakeCache) fillLater(key string, get getter) {
	c.fills = append(c.fills, key)
	if o, err := get(key); err == nil {
		c.entries[key] = o
	}
}

func TestCached(t *testing.T) {
	st := newFake(map[string][]byte{"tiny.9f86d081.duir": []byte("pack"), "latest.duir": []byte("moving")})
	c := &fakeCache{entries: map[string]*object{}}
	var logs []string
	logf := func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) }
	g := cached(st.get, c, server.IsHashed, logf)

	for range 2 {
		if _, err := g("tiny.9f86d081.duir"); err != nil {
			t.Fatal(err)
		}
	}
	// Miss: one read for the answer, one for the fill; the hit reads nothing.
	if st.gets["tiny.9f86d081.duir"] != 2 || len(c.fills) != 1 {
		t.Errorf("hashed pack: %d store reads, %d fills; want 2 and 1", st.gets["tiny.9f86d081.duir"], len(c.fills))
	}
	for range 2 {
		g("latest.duir")
	}
	if st.gets["latest.duir"] != 2 || len(c.fills) != 1 {
		t.Errorf("unhashed pack must bypass the cache: %d reads, %d fills", st.gets["latest.duir"], len(c.fills))
	}
	if _, err := g("nope.9f86d081.duir"); !errors.Is(err, fs.ErrNotExist) || len(c.fills) != 1 {
		t.Errorf("missing pack: %v, %d fills", err, len(c.fills))
	}
	c.fail = true
	if o, err := g("tiny.9f86d081.duir"); err != nil || o == nil || len(logs) != 1 {
		t.Errorf("cache failure must fall back to the store and log: %v, logs %q", err, logs)
	}
}

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want config
	}{
		{nil, config{packPrefix: "models/"}},
		{map[string]string{"FRAME_ANCESTORS": " 'self' ", "ISOLATION": "true", "PACKS_PREFIX": "/models/",
			"PACKS_BUCKET": "PACKS", "PACKS_CACHE": "1"},
			config{frameAncestors: "'self'", isolation: true, packPrefix: "models/", packBucket: "PACKS", packCache: true}},
		{map[string]string{"ISOLATION": "0", "PACKS_CACHE": "off"}, config{packPrefix: "models/"}},
	}
	for _, tc := range tests {
		got := loadConfig(func(k string) string { return tc.env[k] })
		if got != tc.want {
			t.Errorf("%v: %+v, want %+v", tc.env, got, tc.want)
		}
		if o := got.options(); !o.NoPrecompressed || o.Isolation != tc.want.isolation {
			t.Errorf("options %+v", o)
		}
	}
}
