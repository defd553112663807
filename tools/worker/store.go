package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"
)

// object is one stored file as a key-value store hands it out: a body
// stream, its size and, when the store knows it, a strong ETag.
type object struct {
	body io.ReadCloser
	size int64  // -1: unknown, the body is read into memory to learn it
	etag string // quoted or bare; "" lets the handler hash the bytes
}

// getter fetches a whole object; a missing key is fs.ErrNotExist.
type getter func(key string) (*object, error)

// storeFS is a flat, read-only fs.FS over a getter: the Workers static
// assets binding, an R2 bucket or the Cache API. It has no directories; the
// handler turns a missing name into 404 (or a redirect when NAME/index.html
// exists).
type storeFS struct{ get getter }

func (s storeFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) || name == "." {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	o, err := s.fetch(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return &streamFile{name: name, store: s, obj: o}, nil
}

// fetch gets an object and, when the store did not say how long it is,
// reads it into memory to find out.
func (s storeFS) fetch(name string) (*object, error) {
	o, err := s.get(name)
	if err != nil || o.size >= 0 {
		return o, err
	}
	b, err := io.ReadAll(o.body)
	o.body.Close()
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	return &object{body: io.NopCloser(bytes.NewReader(b)), size: int64(len(b)), etag: o.etag}, nil
}

// streamFile reads an object's body as a stream and still satisfies the
// io.Seeker that http.ServeContent wants: seeking only moves a logical
// offset; a forward gap is skipped on the next Read, and a backward seek
// (rare: multipart ranges) fetches the object again. So a single-range
// request over a 10 MB pack never holds the pack in memory.
type streamFile struct {
	name  string
	store storeFS
	obj   *object
	pos   int64 // logical offset
	spos  int64 // offset of the body stream

	handedOff bool // the body was given to the runtime (handOff)
}

var _ interface {
	fs.File
	io.ReadSeeker
} = (*streamFile)(nil)

func (f *streamFile) ETag() string { return f.obj.etag }

func (f *streamFile) Stat() (fs.FileInfo, error) {
	return fileInfo{name: path.Base(f.name), size: f.obj.size}, nil
}

func (f *streamFile) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.pos
	case io.SeekEnd:
		offset += f.obj.size
	default:
		return 0, fmt.Errorf("seek %s: bad whence %d", f.name, whence)
	}
	if offset < 0 {
		return 0, fmt.Errorf("seek %s: negative offset", f.name)
	}
	f.pos = offset
	return offset, nil
}

func (f *streamFile) Read(p []byte) (int, error) {
	if f.pos >= f.obj.size {
		return 0, io.EOF
	}
	if f.handedOff {
		return 0, fmt.Errorf("read %s: body handed off", f.name)
	}
	if f.pos < f.spos {
		if err := f.refetch(); err != nil {
			return 0, err
		}
	}
	if f.pos > f.spos {
		n, err := io.CopyN(io.Discard, f.obj.body, f.pos-f.spos)
		f.spos += n
		if err != nil {
			return 0, fmt.Errorf("skip in %s: %w", f.name, err)
		}
	}
	n, err := f.obj.body.Read(p)
	f.pos += int64(n)
	f.spos += int64(n)
	return n, err
}

// refetch restarts the body stream from offset 0.
func (f *streamFile) refetch() error {
	o, err := f.store.fetch(f.name)
	if err != nil {
		return fmt.Errorf("refetch %s: %w", f.name, err)
	}
	if o.etag != f.obj.etag || o.size != f.obj.size {
		o.body.Close()
		return fmt.Errorf("refetch %s: the object changed", f.name)
	}
	f.obj.body.Close()
	f.obj.body, f.spos = o.body, 0
	return nil
}

func (f *streamFile) Close() error {
	if f.handedOff {
		return nil // the runtime owns the body now
	}
	return f.obj.body.Close()
}

// handOff gives away the whole, unread body so that the Worker can pass the
// store's stream to the runtime instead of copying it through Go: a 7 MB
// wasm costs no Go CPU. It refetches if the body was already read (the
// handler hashes files that come without an ETag). The file is then used up.
func (f *streamFile) handOff() (io.ReadCloser, error) {
	if f.pos != 0 || f.handedOff {
		return nil, fmt.Errorf("hand off %s: body in use", f.name)
	}
	if f.spos != 0 {
		if err := f.refetch(); err != nil {
			return nil, err
		}
	}
	f.handedOff = true
	f.pos, f.spos = f.obj.size, f.obj.size
	return f.obj.body, nil
}

type fileInfo struct {
	name string
	size int64
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.size }
func (i fileInfo) Mode() fs.FileMode  { return 0o444 }
func (i fileInfo) ModTime() time.Time { return time.Time{} }
func (i fileInfo) IsDir() bool        { return false }
func (i fileInfo) Sys() any           { return nil }

// prefixFS sends names under prefix (minus the prefix) to packs and every
// other name to rest: models from R2, the app from static assets. A pack
// missing from packs is looked for in rest, so packs can move to R2 one by one.
type prefixFS struct {
	prefix string // "models/"
	packs  fs.FS
	rest   fs.FS
}

func (p prefixFS) Open(name string) (fs.File, error) {
	if key, ok := strings.CutPrefix(name, p.prefix); ok && key != "" {
		f, err := p.packs.Open(key)
		if !errors.Is(err, fs.ErrNotExist) {
			return f, err
		}
	}
	return p.rest.Open(name)
}

// cacheStore is the Cache API as the pack store needs it.
type cacheStore interface {
	// match returns the cached object or fs.ErrNotExist.
	match(key string) (*object, error)
	// fillLater stores the object in the background (after the response).
	fillLater(key string, get getter)
}

// cached puts a cache in front of a getter. Only content-hashed keys are
// cached: their bytes never change, so no entry can be stale.
func cached(get getter, c cacheStore, hashed func(string) bool, logf func(string, ...any)) getter {
	return func(key string) (*object, error) {
		if !hashed(key) {
			return get(key)
		}
		o, err := c.match(key)
		if err == nil {
			return o, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			logf("cache match %s: %v (reading the store)", key, err)
		}
		o, err = get(key)
		if err == nil {
			c.fillLater(key, get)
		}
		return o, err
	}
}
