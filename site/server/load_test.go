package server

import (
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The load test is opt-in (it takes seconds and wants a quiet machine):
//
//	go test ./site/server -run '^TestLoad$' -v -count=1 -load.requests=20000 -load.c=32
var (
	loadRequests = flag.Int("load.requests", 0, "TestLoad: number of requests (0 skips the test)")
	loadConc     = flag.Int("load.c", 32, "TestLoad: concurrent clients")
)

// loadKind is one request of the mix and what a correct answer is.
type loadKind struct {
	name, path string
	hdr        map[string]string
	code       int
}

func TestLoad(t *testing.T) {
	if *loadRequests <= 0 {
		t.Skip("opt-in: -load.requests=N")
	}
	// A site shaped like the real one: a page, scripts, a 3 MB wasm with a
	// 1 MB .br sibling, a 2 MB pack.
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	files := map[string][]byte{
		"index.html":                  append([]byte("<!doctype html>"), random(2000)...),
		"client.js":                   random(8500),
		"client.js.gz":                random(3000),
		"sw.js":                       random(2000),
		"manifest.webmanifest":        random(400),
		"app.3f2a9c1d.wasm":           random(3 << 20),
		"app.3f2a9c1d.wasm.br":        random(1 << 20),
		"packs/tiny.9f86d081.duir":    random(2 << 20),
		"packs/small.0a1b2c3d4e.duir": random(64 << 10),
	}
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	srv := httptest.NewServer(New(root.FS(), Options{})) // 127.0.0.1, real TCP
	defer srv.Close()

	etag := func(path string, hdr map[string]string) string {
		req, _ := http.NewRequest("HEAD", srv.URL+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.Header.Get("ETag")
	}
	mix := []loadKind{
		{"page", "/", nil, 200},
		{"page 304", "/", map[string]string{"If-None-Match": etag("/", nil)}, 304},
		{"script gzip", "/client.js", map[string]string{"Accept-Encoding": "gzip, br"}, 200},
		{"service worker", "/sw.js", nil, 200},
		{"manifest", "/manifest.webmanifest", nil, 200},
		{"wasm br 1 MB", "/app.3f2a9c1d.wasm", map[string]string{"Accept-Encoding": "br"}, 200},
		{"wasm 304", "/app.3f2a9c1d.wasm", map[string]string{"Accept-Encoding": "br",
			"If-None-Match": etag("/app.3f2a9c1d.wasm", map[string]string{"Accept-Encoding": "br"})}, 304},
		{"pack range 256 KB", "/packs/tiny.9f86d081.duir", map[string]string{"Range": "bytes=262144-524287"}, 206},
		{"small pack", "/packs/small.0a1b2c3d4e.duir", nil, 200},
		{"missing", "/nope.js", nil, 404},
	}

	client := &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: *loadConc,
		DisableCompression:  true, // measure the server's own encoding choice
	}}
	var (
		next   atomic.Int64
		errs   atomic.Int64
		bytes  atomic.Int64
		mu     sync.Mutex
		lat    = make([]time.Duration, 0, *loadRequests)
		firstE error
	)
	n := int64(*loadRequests)
	start := time.Now()
	var wg sync.WaitGroup
	for range *loadConc {
		wg.Go(func() {
			local := make([]time.Duration, 0, *loadRequests / *loadConc + 1)
			for {
				i := next.Add(1) - 1
				if i >= n {
					break
				}
				k := mix[i%int64(len(mix))]
				t0 := time.Now()
				got, err := loadOne(client, srv.URL, k)
				local = append(local, time.Since(t0))
				bytes.Add(got)
				if err != nil {
					if errs.Add(1) == 1 {
						mu.Lock()
						firstE = err
						mu.Unlock()
					}
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	summary := fmt.Sprintf("%d requests, concurrency %d, %.2f s: %.0f req/s, %.0f MB/s; latency p50 %v, p99 %v, max %v; errors %d",
		len(lat), *loadConc, elapsed.Seconds(), float64(len(lat))/elapsed.Seconds(),
		float64(bytes.Load())/1e6/elapsed.Seconds(), pct(0.50).Round(time.Microsecond),
		pct(0.99).Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond), errs.Load())
	t.Log(summary)
	if errs.Load() > 0 {
		t.Fatalf("%d errors; first: %v", errs.Load(), firstE)
	}
}

// loadOne does one request, reads the whole body and checks status and length.
func loadOne(c *http.Client, base string, k loadKind) (int64, error) {
	req, err := http.NewRequest("GET", base+k.path, nil)
	if err != nil {
		return 0, err
	}
	for h, v := range k.hdr {
		req.Header.Set(h, v)
	}
	res, err := c.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", k.name, err)
	}
	defer res.Body.Close()
	got, err := io.Copy(io.Discard, res.Body)
	if err != nil {
		return got, fmt.Errorf("%s: body: %w", k.name, err)
	}
	if res.StatusCode != k.code {
		return got, fmt.Errorf("%s: status %d, want %d", k.name, res.StatusCode, k.code)
	}
	if cl := res.Header.Get("Content-Length"); cl != "" && cl != strconv.FormatInt(got, 10) {
		return got, fmt.Errorf("%s: %d bytes, Content-Length %s", k.name, got, cl)
	}
	return got, nil
}
