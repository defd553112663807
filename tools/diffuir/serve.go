package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/diffuir-web/diffuir/site/server"
	"github.com/diffuir-web/diffuir/site/server/embedded"
)

// runServe serves the built web app until Ctrl-C or SIGTERM:
//
//	diffuir serve [--addr 127.0.0.1:8080] [--dir DIST] [--log]
//	        [--isolation] [--frame-ancestors SOURCES]
func runServe(args []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, stop, args, stdout, stderr)
}

// serve runs the server until ctx is done, then shuts it down gracefully.
// stop is called once shutdown starts so that a second Ctrl-C kills at once.
func serve(ctx context.Context, stop func(), args []string, stdout, stderr io.Writer) error {
	flags := newFlags("serve", stderr)
	addr := flags.String("addr", "127.0.0.1:8080", "listen `address` (host:port; port 0 picks a free one)")
	dir := flags.String("dir", "", "serve this `directory` (default: the embedded site if built with -tags embedsite, else ./dist/site)")
	logReqs := flags.Bool("log", false, "log one line per request to standard error")
	isolation := flags.Bool("isolation", false, "send COOP/COEP (cross-origin isolation; breaks the widget on non-isolated host pages)")
	frames := flags.String("frame-ancestors", "", "CSP frame-ancestors `sources` for HTML (default 'none')")
	pos, err := parse(flags, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q (serve takes only flags)", pos[0])
	}

	fsys, what, err := siteFS(*dir)
	if err != nil {
		return err
	}
	if _, err := fs.Stat(fsys, "index.html"); err != nil {
		fmt.Fprintf(stderr, "diffuir serve: warning: %s has no index.html (run ./build.sh?)\n", what)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	var h http.Handler = server.New(fsys, server.Options{
		FrameAncestors: *frames,
		Isolation:      *isolation,
		ErrorLog:       log.New(stderr, "diffuir serve: ", log.LstdFlags),
	})
	if *logReqs {
		h = logRequests(h, log.New(stderr, "", log.LstdFlags|log.Lmicroseconds))
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          log.New(io.Discard, "", 0), // client resets are not worth a line
	}
	fmt.Fprintf(stdout, "serving %s on http://%s/ (Ctrl-C stops)\n", what, ln.Addr())

	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	stop()
	// Let requests in flight (a pack download) finish, but not forever.
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	fmt.Fprintln(stderr, "diffuir serve: stopped")
	return nil
}

// siteFS picks what to serve: --dir, else the embedded site, else
// ./dist/site, where build.sh puts the web app (dist/ itself also holds the
// CLI binary, which is not for the web).
func siteFS(dir string) (fsys fs.FS, what string, err error) {
	if dir == "" {
		if e := embedded.FS(); e != nil {
			return e, "the embedded site", nil
		}
		dir = filepath.Join("dist", "site")
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		if err == nil {
			err = errors.New("not a directory")
		}
		return nil, "", fmt.Errorf("open site directory %s: %w (build the app with ./build.sh, or pass --dir)", dir, err)
	}
	return rootFS{dir}, dir, nil
}

// rootFS opens each file with os.OpenInRoot: a symlink cannot lead outside
// the directory, and, the directory being looked up by name every time, a
// rebuild that replaces it (build.sh does rm -rf dist/site) is served at
// once, without a restart.
type rootFS struct{ dir string }

func (r rootFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	f, err := os.OpenInRoot(r.dir, name)
	// os.Root's error for a path leading outside is not exported; report it
	// as not existing (404, not 500). TestServe's symlink case catches a
	// change of its text.
	var pe *fs.PathError
	if err != nil && errors.As(err, &pe) && pe.Err.Error() == "path escapes from parent" {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}

// statusWriter records what a handler sent, for the request log.
type statusWriter struct {
	http.ResponseWriter
	code  int
	bytes int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs "METHOD PATH STATUS BYTES DURATION" per request.
func logRequests(h http.Handler, l *log.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		l.Printf("%s %s %d %d %s", r.Method, r.URL.RequestURI(), sw.code, sw.bytes, time.Since(start).Round(time.Microsecond))
	})
}
