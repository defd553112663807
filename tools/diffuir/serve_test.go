package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the server's concurrent logging.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestServe(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "index.html"), []byte("<!doctype html><title>t</title>"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "app.3f2a9c1d.wasm"), []byte("\x00asm\x01\x00\x00\x00"), 0o644))
	// A symlink out of the site must not be followed (os.Root).
	secret := filepath.Join(t.TempDir(), "secret.txt")
	must(t, os.WriteFile(secret, []byte("secret"), 0o644))
	must(t, os.Symlink(secret, filepath.Join(dir, "leak.txt")))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	stderr := &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, func() {}, []string{"--addr", "127.0.0.1:0", "--dir", dir, "--log"}, pw, stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no start line: %v (stderr: %s)", err, stderr)
	}
	go io.Copy(io.Discard, pr)
	m := regexp.MustCompile(`http://(127\.0\.0\.1:\d+)/`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("start line %q names no loopback address", line)
	}
	addr := m[1]
	base := "http://" + addr

	tests := []struct {
		method, path string
		code         int
		header, want string
	}{
		{"GET", "/", 200, "Content-Type", "text/html; charset=utf-8"},
		{"HEAD", "/app.3f2a9c1d.wasm", 200, "Cache-Control", "public, max-age=31536000, immutable"},
		{"GET", "/app.3f2a9c1d.wasm", 200, "Content-Type", "application/wasm"},
		{"GET", "/leak.txt", 404, "X-Content-Type-Options", "nosniff"},
		{"GET", "/index.html/x", 404, "Content-Type", "text/plain; charset=utf-8"},
		{"DELETE", "/", 405, "Allow", "GET, HEAD"},
	}
	for _, tc := range tests {
		req, _ := http.NewRequest(tc.method, base+tc.path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.code || res.Header.Get(tc.header) != tc.want {
			t.Errorf("%s %s: %d %s=%q, want %d %q", tc.method, tc.path, res.StatusCode, tc.header,
				res.Header.Get(tc.header), tc.code, tc.want)
		}
		if strings.Contains(string(body), "secret") {
			t.Errorf("%s %s: served a file outside the site", tc.method, tc.path)
		}
	}

	// The request line as a hostile client sends it, not as net/url cleans it.
	for _, target := range []string{"/../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/a/..%2f..%2fetc/passwd"} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(conn, "GET "+target+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		raw, _ := io.ReadAll(conn)
		conn.Close()
		if !strings.HasPrefix(string(raw), "HTTP/1.1 400 ") || strings.Contains(string(raw), "root:") {
			t.Errorf("GET %s: %q", target, strings.SplitN(string(raw), "\r\n", 2)[0])
		}
	}

	// A rebuild replaces the directory (build.sh: rm -rf dist/site): served
	// at once, no restart.
	must(t, os.Rename(dir, dir+".old"))
	must(t, os.Mkdir(dir, 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "index.html"), []byte("<p>rebuilt"), 0o644))
	if res, err := http.Get(base + "/"); err != nil {
		t.Fatal(err)
	} else {
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(body) != "<p>rebuilt" {
			t.Errorf("after a rebuild: %q", body)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no graceful shutdown within 10 s")
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Error("still listening after shutdown")
	}
	logs := stderr.String()
	for _, want := range []string{"GET / 200 ", "HEAD /app.3f2a9c1d.wasm 200 0 ", "DELETE / 405 ", "diffuir serve: stopped"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

func TestServeErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"serve", "--dir", missing}, 1, "open site directory"},
		{[]string{"serve", "extra"}, 2, "unexpected argument"},
		{[]string{"serve", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"serve", "--dir", t.TempDir(), "--addr", "256.0.0.1:http"}, 1, "listen"},
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr); code != tc.code || !strings.Contains(stderr.String(), tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), tc.code, tc.msg)
		}
	}
}
