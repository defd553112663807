package convert

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/diffuir-web/diffuir/runtime/weights"
	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// This file reads torch.save's zip format (torch >= 1.6) from memory. It
// follows gopickle's pytorch.Load but keeps the storages lazy, bounds every
// allocation by the bytes actually present, and never takes a file name.
//
// Layout: <root>/data.pkl is a pickle whose tensors reference storages by
// persistent id ('storage', <dtype>Storage, key, location, numel); the
// bytes of storage key live in <root>/data/<key>, little-endian. <root> is
// "archive" or the saved file's base name.

// storageType describes a torch.<X>Storage class.
type storageType struct {
	dtype string
	size  int // bytes per element
	float bool
}

var storageTypes = map[string]storageType{
	"FloatStorage":    {"float32", 4, true},
	"HalfStorage":     {"float16", 2, true},
	"BFloat16Storage": {"bfloat16", 2, true},
	"DoubleStorage":   {"float64", 8, true},
	"LongStorage":     {"int64", 8, false},
	"IntStorage":      {"int32", 4, false},
	"ShortStorage":    {"int16", 2, false},
	"CharStorage":     {"int8", 1, false},
	"ByteStorage":     {"uint8", 1, false},
	"BoolStorage":     {"bool", 1, false},
}

// storage is a lazily read storage record.
type storage struct {
	typ   storageType
	numel int
	file  *zip.File
	src   []byte // the whole checkpoint, for zero-copy access to stored entries
	data  []byte // cached bytes once read
}

func (s *storage) bytes() ([]byte, error) {
	if s.data != nil {
		return s.data, nil
	}
	need := uint64(s.numel) * uint64(s.typ.size) // no overflow: numel was checked against the record size
	b, err := readZipEntry(s.src, s.file, need)
	if err != nil {
		return nil, err
	}
	if uint64(len(b))/uint64(s.typ.size) < uint64(s.numel) {
		return nil, fmt.Errorf("storage %s holds %d bytes, need %d", s.file.Name, len(b), need)
	}
	s.data = b
	return b, nil
}

// readZipEntry returns the uncompressed bytes of f, refusing entries
// larger than limit. Stored (uncompressed) entries, which is what torch
// writes, alias src instead of being copied.
func readZipEntry(src []byte, f *zip.File, limit uint64) ([]byte, error) {
	if f.UncompressedSize64 > limit {
		return nil, fmt.Errorf("%s: %d bytes, expected at most %d", f.Name, f.UncompressedSize64, limit)
	}
	if f.Method == zip.Store {
		off, err := f.DataOffset()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		if f.CompressedSize64 != f.UncompressedSize64 || off < 0 || uint64(off) > uint64(len(src)) ||
			f.UncompressedSize64 > uint64(len(src))-uint64(off) {
			return nil, fmt.Errorf("%s: entry runs past the end of the file (truncated?)", f.Name)
		}
		b := src[off : uint64(off)+f.UncompressedSize64 : uint64(off)+f.UncompressedSize64]
		if f.CRC32 != 0 && crc32.ChecksumIEEE(b) != f.CRC32 {
			return nil, fmt.Errorf("%s: crc32 mismatch (corrupt file)", f.Name)
		}
		return b, nil
	}
	// Deflate can expand ~1032x: reject declared sizes no real stream reaches.
	if f.CompressedSize64 > uint64(len(src)) || f.UncompressedSize64 > 1032*f.CompressedSize64+1024 {
		return nil, fmt.Errorf("%s: implausible compressed sizes", f.Name)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	defer rc.Close()
	b := make([]byte, f.UncompressedSize64)
	if _, err := io.ReadFull(rc, b); err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	// Reading to EOF makes archive/zip verify the CRC.
	if n, err := rc.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		if err == nil || err == io.EOF {
			err = errors.New("longer than declared")
		}
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	return b, nil
}

// tensorRef is a tensor rebuilt by _rebuild_tensor_v2: a strided view.
type tensorRef struct {
	st     *storage
	offset int
	size   []int
	stride []int
}

// float32s copies the view into a new contiguous slice.
func (t *tensorRef) float32s() ([]float32, error) {
	if !t.st.typ.float {
		return nil, fmt.Errorf("dtype %s, want a float tensor", t.st.typ.dtype)
	}
	n, err := numel(t.size)
	if err != nil {
		return nil, err
	}
	if len(t.stride) != len(t.size) {
		return nil, fmt.Errorf("%d strides for %d dims", len(t.stride), len(t.size))
	}
	if n == 0 {
		return []float32{}, nil
	}
	// Bounds: the farthest element must lie in the storage. Each term is
	// checked against the storage size first, so the sum cannot overflow.
	last := t.offset
	if t.offset < 0 || t.offset >= t.st.numel {
		return nil, fmt.Errorf("storage offset %d outside a storage of %d elements", t.offset, t.st.numel)
	}
	for i, d := range t.size {
		s := t.stride[i]
		if s < 0 {
			return nil, fmt.Errorf("negative stride %v not supported", t.stride)
		}
		// d >= 1 here (n > 0); divide rather than multiply to avoid overflow.
		if s > 0 && d-1 > (t.st.numel-1-last)/s {
			return nil, fmt.Errorf("view (offset %d, size %v, stride %v) exceeds a storage of %d elements", t.offset, t.size, t.stride, t.st.numel)
		}
		last += (d - 1) * s
	}
	// Expanded (stride-0) views could name far more elements than the file
	// holds; state dicts never contain them.
	if n > t.st.numel {
		return nil, fmt.Errorf("view of %d elements over a storage of %d (expanded tensors not supported)", n, t.st.numel)
	}
	raw, err := t.st.bytes()
	if err != nil {
		return nil, err
	}
	out := make([]float32, n)
	dec := decoder(t.st.typ.dtype)
	es := t.st.typ.size
	if contiguous(t.size, t.stride) {
		dec(out, raw[t.offset*es:(t.offset+n)*es])
		return out, nil
	}
	// Strided copy: walk a row-major index, one element at a time.
	idx := make([]int, len(t.size))
	pos := t.offset
	for i := range out {
		dec(out[i:i+1], raw[pos*es:(pos+1)*es])
		for k := len(idx) - 1; k >= 0; k-- {
			idx[k]++
			pos += t.stride[k]
			if idx[k] < t.size[k] {
				break
			}
			pos -= idx[k] * t.stride[k]
			idx[k] = 0
		}
	}
	return out, nil
}

func contiguous(size, stride []int) bool {
	want := 1
	for i := len(size) - 1; i >= 0; i-- {
		if size[i] != 1 && stride[i] != want {
			return false
		}
		want *= size[i]
	}
	return true
}

// decoder returns a little-endian decoder from dtype to float32.
func decoder(dtype string) func(dst []float32, src []byte) {
	le := binary.LittleEndian
	switch dtype {
	case "float16":
		return func(dst []float32, src []byte) {
			for i := range dst {
				dst[i] = weights.F16ToF32(le.Uint16(src[2*i:]))
			}
		}
	case "bfloat16":
		return func(dst []float32, src []byte) {
			for i := range dst {
				dst[i] = math.Float32frombits(uint32(le.Uint16(src[2*i:])) << 16)
			}
		}
	case "float64":
		return func(dst []float32, src []byte) {
			for i := range dst {
				dst[i] = float32(math.Float64frombits(le.Uint64(src[8*i:])))
			}
		}
	}
	return func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = math.Float32frombits(le.Uint32(src[4*i:]))
		}
	}
}

func parseTorchZip(data []byte) (*checkpoint, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil && !(zr != nil && errors.Is(err, zip.ErrInsecurePath)) {
		return nil, fmt.Errorf("convert: torch zip is truncated or corrupt: %w", err)
	}
	// torch names the root folder "archive" or after the saved file.
	var pkl *zip.File
	records := map[string]*zip.File{}
	for _, f := range zr.File {
		records[f.Name] = f
		if pkl == nil && (f.Name == "data.pkl" || strings.HasSuffix(f.Name, "/data.pkl") && strings.Count(f.Name, "/") == 1) {
			pkl = f
		}
	}
	if pkl == nil {
		return nil, errors.New("convert: zip holds no data.pkl: not a torch.save checkpoint")
	}
	root := strings.TrimSuffix(pkl.Name, "data.pkl")
	if _, ok := records[root+"constants.pkl"]; ok {
		return nil, errors.New("convert: TorchScript archives (torch.jit.save) are not supported; torch.save a state_dict instead")
	}
	if f, ok := records[root+"byteorder"]; ok {
		b, err := readZipEntry(data, f, 16)
		if err != nil {
			return nil, fmt.Errorf("convert: torch zip: %w", err)
		}
		if string(b) != "little" {
			return nil, fmt.Errorf("convert: checkpoint byte order %q not supported", b)
		}
	}
	pb, err := readZipEntry(data, pkl, maxPickle)
	if err != nil {
		return nil, fmt.Errorf("convert: torch zip: %w", err)
	}
	obj, err := unpickle(pb, func(key string, typ storageType, n int) (*storage, error) {
		f, ok := records[root+"data/"+key]
		if !ok {
			return nil, fmt.Errorf("storage record %sdata/%s missing", root, key)
		}
		if uint64(n) > f.UncompressedSize64/uint64(typ.size) {
			return nil, fmt.Errorf("storage %s: %d %s elements need %d bytes, record has %d", key, n, typ.dtype, uint64(n)*uint64(typ.size), f.UncompressedSize64)
		}
		return &storage{typ: typ, numel: n, file: f, src: data}, nil
	})
	if err != nil {
		return nil, err
	}
	ck := newCheckpoint(FormatTorchZip, len(data))
	flatten(ck, obj)
	return ck, nil
}

type storageResolver func(key string, typ storageType, numel int) (*storage, error)

// unpickle runs gopickle over a pre-scanned pickle, turning its panics on
// malformed input into errors.
func unpickle(pb []byte, resolve storageResolver) (obj any, err error) {
	if err := scanPickle(pb); err != nil {
		return nil, fmt.Errorf("convert: corrupt pickle in data.pkl: %w", err)
	}
	defer func() {
		if r := recover(); r != nil {
			obj, err = nil, fmt.Errorf("convert: corrupt pickle in data.pkl: %v", r)
		}
	}()
	storages := map[string]*storage{}
	u := pickle.NewUnpickler(bytes.NewReader(pb))
	u.FindClass = findClass
	u.PersistentLoad = func(id any) (any, error) {
		t, ok := id.(*types.Tuple)
		if !ok || t.Len() != 5 {
			return nil, fmt.Errorf("persistent id %v: want ('storage', type, key, location, numel)", id)
		}
		kind, _ := t.Get(0).(string)
		typ, typOK := t.Get(1).(*storageClass)
		key, keyOK := t.Get(2).(string)
		_, locOK := t.Get(3).(string) // "cpu", "cuda:0", ...: irrelevant here
		n, nOK := t.Get(4).(int)
		if kind != "storage" || !keyOK || !locOK || !nOK || n < 0 {
			return nil, fmt.Errorf("persistent id %v: want ('storage', type, key, location, numel)", id)
		}
		if !typOK {
			return nil, fmt.Errorf("storage %s: unsupported storage type %v", key, t.Get(1))
		}
		if s, ok := storages[key]; ok {
			return s, nil
		}
		s, err := resolve(key, typ.typ, n)
		if err != nil {
			return nil, &containerError{err}
		}
		storages[key] = s
		return s, nil
	}
	obj, err = u.Load()
	if ce := (*containerError)(nil); errors.As(err, &ce) {
		return nil, fmt.Errorf("convert: torch zip: %w", ce.err)
	}
	if err != nil {
		return nil, fmt.Errorf("convert: corrupt pickle in data.pkl: %w", err)
	}
	return obj, nil
}

// containerError marks a storage lookup failure raised inside the
// unpickler, so it is not reported as a pickle problem.
type containerError struct{ err error }

func (e *containerError) Error() string { return e.err.Error() }

// storageClass is what the pickle's GLOBAL torch.<X>Storage resolves to.
type storageClass struct{ typ storageType }

func findClass(module, name string) (any, error) {
	switch module + "." + name {
	case "torch._utils._rebuild_tensor_v2":
		return callable(rebuildTensorV2), nil
	case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
		return callable(func(args ...any) (any, error) {
			if len(args) < 1 {
				return nil, errors.New("_rebuild_parameter: no data")
			}
			return args[0], nil
		}), nil
	case "torch._tensor._rebuild_from_type_v2":
		// (func, type, args, state): tensor subclasses such as Parameter.
		return callable(func(args ...any) (any, error) {
			if len(args) != 4 {
				return nil, errors.New("_rebuild_from_type_v2: want 4 args")
			}
			fn, ok1 := args[0].(types.Callable)
			a, ok2 := args[2].(*types.Tuple)
			if !ok1 || !ok2 {
				return nil, errors.New("_rebuild_from_type_v2: bad args")
			}
			return fn.Call(*a...)
		}), nil
	}
	if module == "torch" {
		if t, ok := storageTypes[name]; ok {
			return &storageClass{t}, nil
		}
	}
	// Anything else (optimizer extras, numpy scalars, argparse.Namespace in
	// some checkpoints) becomes an opaque object the flattener skips.
	return types.NewGenericClass(module, name), nil
}

type callable func(args ...any) (any, error)

func (c callable) Call(args ...any) (any, error) { return c(args...) }

// rebuildTensorV2(storage, storage_offset, size, stride, requires_grad,
// backward_hooks[, metadata]).
func rebuildTensorV2(args ...any) (any, error) {
	if len(args) != 6 && len(args) != 7 {
		return nil, fmt.Errorf("_rebuild_tensor_v2: %d args, want 6 or 7", len(args))
	}
	st, ok1 := args[0].(*storage)
	off, ok2 := args[1].(int)
	size, ok3 := args[2].(*types.Tuple)
	stride, ok4 := args[3].(*types.Tuple)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return nil, errors.New("_rebuild_tensor_v2: unexpected argument types")
	}
	t := &tensorRef{st: st, offset: off}
	var err error
	if t.size, err = ints(size); err != nil {
		return nil, err
	}
	if t.stride, err = ints(stride); err != nil {
		return nil, err
	}
	if len(t.size) > maxRank || len(t.size) != len(t.stride) {
		return nil, fmt.Errorf("_rebuild_tensor_v2: size %v, stride %v", t.size, t.stride)
	}
	return t, nil
}

func ints(t *types.Tuple) ([]int, error) {
	out := make([]int, t.Len())
	for i := range out {
		v, ok := t.Get(i).(int)
		if !ok {
			return nil, fmt.Errorf("_rebuild_tensor_v2: non-int in %v", *t)
		}
		out[i] = v
	}
	return out, nil
}

// maxDepth bounds container nesting (a trainer checkpoint nests ~5 deep).
const maxDepth = 32

// flatten walks dicts, lists and tuples, naming tensors by their dotted path.
// Containers reached twice are walked once: pickles can share or nest
// containers recursively.
func flatten(ck *checkpoint, root any) {
	seen := map[any]bool{}
	var walk func(v any, name string, depth int)
	child := func(name, key string) string {
		if name == "" {
			return key
		}
		return name + "." + key
	}
	walk = func(v any, name string, depth int) {
		if depth > maxDepth {
			return
		}
		switch v := v.(type) {
		case *tensorRef:
			e := &entry{name: name, dtype: v.st.typ.dtype, shape: v.size}
			if v.st.typ.float {
				e.load = v.float32s
			}
			ck.add(e)
			return
		case *types.Dict, *types.OrderedDict, *types.List, *types.Tuple:
			if seen[v] {
				return
			}
			seen[v] = true
		}
		switch v := v.(type) {
		case *types.Dict:
			for _, kv := range *v {
				if k, ok := keyString(kv.Key); ok {
					walk(kv.Value, child(name, k), depth+1)
				}
			}
		case *types.OrderedDict:
			for el := v.List.Front(); el != nil; el = el.Next() {
				kv, ok := el.Value.(*types.OrderedDictEntry)
				if !ok {
					continue
				}
				if k, ok := keyString(kv.Key); ok {
					walk(kv.Value, child(name, k), depth+1)
				}
			}
		case *types.List:
			for i, x := range *v {
				walk(x, child(name, strconv.Itoa(i)), depth+1)
			}
		case *types.Tuple:
			for i, x := range *v {
				walk(x, child(name, strconv.Itoa(i)), depth+1)
			}
		}
	}
	walk(root, "", 0)
}

func keyString(k any) (string, bool) {
	switch k := k.(type) {
	case string:
		return k, true
	case int:
		return strconv.Itoa(k), true
	case *big.Int:
		return k.String(), true
	}
	return "", false
}
