package weights

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"unicode/utf8"
)

// Format constants. See doc.go for the byte layout.
const (
	Magic   = "DUIRPACK"
	Version = 3 // written; 1 (no norm_eps) and 2 (no group_eps) are still read

	// Alignment of the data section and of every tensor in it, so a tensor
	// can be handed to a GPU buffer upload without copying.
	Alignment = 256

	MaxTensors    = 4096
	MaxNameLen    = 256
	MaxRank       = 4
	MaxMults      = 16
	MaxHeaderSize = 2 << 20 // 4096 entries of the longest form fit in ~1.2 MiB
	maxDim        = math.MaxInt32

	hashOffset  = 16 // the SHA-256 field
	hashedStart = 48 // the hash covers [hashedStart, FileSize)
	fixedSize   = 72 // bytes before the config block
)

// Flag bits of Header.Flags.
const (
	// FlagStandardized says weight-standardized conv weights are stored
	// already standardized; runtimes must not standardize them again.
	FlagStandardized uint32 = 1 << 0

	knownFlags = FlagStandardized
)

var (
	// ErrNotPack is returned (wrapped) when the magic does not match.
	ErrNotPack = errors.New("pack: not a DiffUIR weight pack (bad magic)")
	// ErrChecksum is returned (wrapped) when the SHA-256 does not match.
	ErrChecksum = errors.New("pack: sha256 mismatch: payload corrupt")
)

// DType is the storage type of a tensor in a pack. The values are the
// on-disk codes.
type DType uint8

const (
	F32 DType = 0
	F16 DType = 1
)

func (d DType) String() string {
	switch d {
	case F32:
		return "f32"
	case F16:
		return "f16"
	}
	return fmt.Sprintf("dtype(%d)", uint8(d))
}

// Size is the number of bytes per element, 0 for an unknown type.
func (d DType) Size() int {
	switch d {
	case F32:
		return 4
	case F16:
		return 2
	}
	return 0
}

// TensorInfo describes one stored tensor. Offset is relative to the start
// of the data section (Header.DataOffset); Size is in bytes.
type TensorInfo struct {
	Name   string
	DType  DType
	Shape  []int
	Offset int64
	Size   int64
}

// NumElements is the product of the shape (1 for a scalar).
func (t TensorInfo) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Header is the decoded, validated header of a pack.
type Header struct {
	Version    uint32
	HeaderSize int64 // bytes from the file start to the end of the tensor table
	Config     Config
	Flags      uint32
	Tensors    []TensorInfo
	DataOffset int64 // absolute offset of the data section, a multiple of Alignment
	FileSize   int64
	SHA256     [32]byte // of bytes [48, FileSize)
}

// Tensor is the writer's input: values in float32, stored as DType.
type Tensor struct {
	Name  string
	Shape []int
	DType DType
	Data  []float32
}

func align(n int64) int64 { return (n + Alignment - 1) / Alignment * Alignment }

// Marshal is Write into a new byte slice.
func Marshal(cfg Config, tensors []Tensor) ([]byte, error) {
	return marshal(cfg, FlagStandardized, tensors)
}

func marshal(cfg Config, flags uint32, tensors []Tensor) ([]byte, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	if len(cfg.Name) > MaxNameLen || !utf8.ValidString(cfg.Name) {
		return nil, fmt.Errorf("pack: config name must be valid UTF-8 of at most %d bytes", MaxNameLen)
	}
	if len(cfg.Mults) > MaxMults {
		return nil, fmt.Errorf("pack: %d mults, at most %d", len(cfg.Mults), MaxMults)
	}
	if len(tensors) > MaxTensors {
		return nil, fmt.Errorf("pack: %d tensors, at most %d", len(tensors), MaxTensors)
	}

	// Header first: it fixes the data offset.
	var h []byte
	h = append(h, Magic...)
	h = binary.LittleEndian.AppendUint32(h, Version)
	h = append(h, make([]byte, 4+32+8+8)...) // header size, hash, file size, data offset: patched below
	h = binary.LittleEndian.AppendUint32(h, flags)
	h = binary.LittleEndian.AppendUint32(h, uint32(len(tensors)))
	h = appendString(h, cfg.Name)
	for _, v := range []int{cfg.Dim, cfg.Groups, cfg.Heads, cfg.DimHead, cfg.Timesteps, cfg.DefaultSteps} {
		h = binary.LittleEndian.AppendUint32(h, uint32(v))
	}
	h = binary.LittleEndian.AppendUint32(h, math.Float32bits(cfg.DeltaEnd))
	h = binary.LittleEndian.AppendUint32(h, math.Float32bits(cfg.NormEps))
	h = binary.LittleEndian.AppendUint32(h, math.Float32bits(cfg.GroupEps))
	h = binary.LittleEndian.AppendUint32(h, uint32(len(cfg.Mults)))
	for _, m := range cfg.Mults {
		h = binary.LittleEndian.AppendUint32(h, uint32(m))
	}

	seen := make(map[string]bool, len(tensors))
	var off int64
	offsets := make([]int64, len(tensors))
	for i, t := range tensors {
		if t.Name == "" || len(t.Name) > MaxNameLen || !utf8.ValidString(t.Name) {
			return nil, fmt.Errorf("pack: tensor %d: name %q must be valid UTF-8 of 1..%d bytes", i, t.Name, MaxNameLen)
		}
		if seen[t.Name] {
			return nil, fmt.Errorf("pack: duplicate tensor %q", t.Name)
		}
		seen[t.Name] = true
		if t.DType.Size() == 0 {
			return nil, fmt.Errorf("pack: %s: unsupported %v", t.Name, t.DType)
		}
		if len(t.Shape) > MaxRank {
			return nil, fmt.Errorf("pack: %s: rank %d, at most %d", t.Name, len(t.Shape), MaxRank)
		}
		n := 1
		for _, d := range t.Shape {
			if d <= 0 || d > maxDim {
				return nil, fmt.Errorf("pack: %s: shape %v: dims must be in 1..%d", t.Name, t.Shape, maxDim)
			}
			n *= d
			if n > math.MaxInt32*8 {
				return nil, fmt.Errorf("pack: %s: shape %v too large", t.Name, t.Shape)
			}
		}
		if n != len(t.Data) {
			return nil, fmt.Errorf("pack: %s: shape %v holds %d values, data has %d", t.Name, t.Shape, n, len(t.Data))
		}
		h = appendString(h, t.Name)
		h = append(h, byte(t.DType), byte(len(t.Shape)))
		for _, d := range t.Shape {
			h = binary.LittleEndian.AppendUint32(h, uint32(d))
		}
		size := int64(n) * int64(t.DType.Size())
		offsets[i] = off
		h = binary.LittleEndian.AppendUint64(h, uint64(off))
		h = binary.LittleEndian.AppendUint64(h, uint64(size))
		off = align(off + size)
	}
	if len(h) > MaxHeaderSize {
		return nil, fmt.Errorf("pack: header of %d bytes exceeds %d", len(h), MaxHeaderSize)
	}
	dataOff := align(int64(len(h)))
	fileSize := dataOff
	if len(tensors) > 0 {
		last := tensors[len(tensors)-1]
		fileSize = dataOff + offsets[len(tensors)-1] + int64(len(last.Data)*last.DType.Size())
	}
	binary.LittleEndian.PutUint32(h[12:], uint32(len(h)))
	binary.LittleEndian.PutUint64(h[48:], uint64(fileSize))
	binary.LittleEndian.PutUint64(h[56:], uint64(dataOff))

	out := make([]byte, fileSize)
	copy(out, h)
	for i, t := range tensors {
		dst := out[dataOff+offsets[i]:]
		switch t.DType {
		case F32:
			encodeF32(dst, t.Data)
		case F16:
			encodeF16(dst, t.Data)
		}
	}
	sum := sha256.Sum256(out[hashedStart:])
	copy(out[hashOffset:], sum[:])
	return out, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// ReadHeader reads and validates the header of a pack of size bytes: magic,
// version, config, flags and the whole tensor table (names, types, shapes,
// alignment, bounds, no overlap). It does not check the SHA-256 and
// allocates no more than the header itself (at most MaxHeaderSize).
func ReadHeader(r io.ReaderAt, size int64) (*Header, error) {
	if size < 0 {
		return nil, fmt.Errorf("pack: negative size %d", size)
	}
	if size < fixedSize {
		// Say "not a pack" rather than "truncated" for short non-packs.
		m := make([]byte, min(size, 8))
		n, _ := r.ReadAt(m, 0)
		if !bytes.HasPrefix([]byte(Magic), m[:n]) {
			return nil, ErrNotPack
		}
		return nil, fmt.Errorf("pack: truncated: %d bytes, the fixed header alone is %d", size, fixedSize)
	}
	var fixed [fixedSize]byte
	if _, err := r.ReadAt(fixed[:], 0); err != nil {
		return nil, fmt.Errorf("pack: read header: %w", err)
	}
	if string(fixed[:8]) != Magic {
		return nil, ErrNotPack
	}
	le := binary.LittleEndian
	h := &Header{Version: le.Uint32(fixed[8:])}
	if h.Version < 1 || h.Version > Version {
		return nil, fmt.Errorf("pack: unsupported format version %d (this build reads 1 to %d)", h.Version, Version)
	}
	h.HeaderSize = int64(le.Uint32(fixed[12:]))
	copy(h.SHA256[:], fixed[hashOffset:])
	fileSize := le.Uint64(fixed[48:])
	dataOff := le.Uint64(fixed[56:])
	h.Flags = le.Uint32(fixed[64:])
	count := le.Uint32(fixed[68:])
	switch {
	case fileSize != uint64(size):
		if fileSize > uint64(size) {
			return nil, fmt.Errorf("pack: truncated: header says %d bytes, have %d", fileSize, size)
		}
		return nil, fmt.Errorf("pack: %d trailing bytes after the declared end %d", uint64(size)-fileSize, fileSize)
	case h.HeaderSize < fixedSize || h.HeaderSize > MaxHeaderSize:
		return nil, fmt.Errorf("pack: header size %d out of range %d..%d", h.HeaderSize, fixedSize, MaxHeaderSize)
	case h.HeaderSize > size:
		return nil, fmt.Errorf("pack: truncated: header of %d bytes, file has %d", h.HeaderSize, size)
	case dataOff != uint64(align(h.HeaderSize)):
		return nil, fmt.Errorf("pack: data offset %d, want %d (header end aligned to %d)", dataOff, align(h.HeaderSize), Alignment)
	case dataOff > uint64(size):
		return nil, fmt.Errorf("pack: truncated: data starts at %d, file has %d bytes", dataOff, size)
	case h.Flags&^knownFlags != 0:
		return nil, fmt.Errorf("pack: unknown flags %#x", h.Flags&^knownFlags)
	case count > MaxTensors:
		return nil, fmt.Errorf("pack: %d tensors, at most %d", count, MaxTensors)
	}
	h.FileSize, h.DataOffset = size, int64(dataOff)

	buf := make([]byte, h.HeaderSize)
	if _, err := r.ReadAt(buf, 0); err != nil {
		return nil, fmt.Errorf("pack: read header: %w", err)
	}
	c := &cursor{b: buf, off: fixedSize}
	cfg := &h.Config
	cfg.Name = c.str("config name", false)
	u := make([]uint32, 6)
	for i := range u {
		u[i] = c.u32()
	}
	cfg.DeltaEnd = math.Float32frombits(c.u32())
	cfg.NormEps = DefaultNormEps
	if h.Version >= 2 {
		cfg.NormEps = math.Float32frombits(c.u32())
	}
	cfg.GroupEps = DefaultGroupEps
	if h.Version >= 3 {
		cfg.GroupEps = math.Float32frombits(c.u32())
	}
	nm := c.u32()
	if c.err == nil && nm > MaxMults {
		return nil, fmt.Errorf("pack: %d mults, at most %d", nm, MaxMults)
	}
	for i := uint32(0); i < nm && c.err == nil; i++ {
		cfg.Mults = append(cfg.Mults, int(c.u32()))
	}
	if c.err != nil {
		return nil, fmt.Errorf("pack: config: %w", c.err)
	}
	for _, v := range u {
		if v > math.MaxInt32 {
			return nil, fmt.Errorf("pack: config field %d out of range", v)
		}
	}
	cfg.Dim, cfg.Groups, cfg.Heads, cfg.DimHead, cfg.Timesteps, cfg.DefaultSteps =
		int(u[0]), int(u[1]), int(u[2]), int(u[3]), int(u[4]), int(u[5])
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}

	// Each entry takes at least 2+1+1+1+8+8 bytes: bound count by the header
	// before allocating the table.
	if int64(count)*21 > h.HeaderSize-c.off {
		return nil, fmt.Errorf("pack: %d tensors cannot fit in a %d-byte header", count, h.HeaderSize)
	}
	h.Tensors = make([]TensorInfo, 0, count)
	names := make(map[string]bool, count)
	dataSize := size - h.DataOffset
	var end int64 // end of the previous tensor, relative to the data section
	for i := uint32(0); i < count; i++ {
		var t TensorInfo
		t.Name = c.str("tensor name", true)
		t.DType = DType(c.u8())
		rank := c.u8()
		if c.err != nil {
			return nil, fmt.Errorf("pack: tensor %d: %w", i, c.err)
		}
		if names[t.Name] {
			return nil, fmt.Errorf("pack: duplicate tensor %q", t.Name)
		}
		names[t.Name] = true
		es := int64(t.DType.Size())
		if es == 0 {
			return nil, fmt.Errorf("pack: %s: unknown dtype %d", t.Name, t.DType)
		}
		if rank > MaxRank {
			return nil, fmt.Errorf("pack: %s: rank %d, at most %d", t.Name, rank, MaxRank)
		}
		t.Shape = make([]int, rank)
		numel := int64(1)
		for k := range t.Shape {
			d := c.u32()
			if c.err == nil && (d == 0 || d > maxDim) {
				return nil, fmt.Errorf("pack: %s: dim %d out of range 1..%d", t.Name, d, maxDim)
			}
			t.Shape[k] = int(d)
			// Bounded by the data size, so the product cannot overflow.
			if numel *= int64(d); numel > dataSize {
				return nil, fmt.Errorf("pack: %s: %d elements cannot fit in %d data bytes", t.Name, numel, dataSize)
			}
		}
		off, sz := c.u64(), c.u64()
		if c.err != nil {
			return nil, fmt.Errorf("pack: tensor %d (%s): %w", i, t.Name, c.err)
		}
		switch {
		case sz != uint64(numel*es):
			return nil, fmt.Errorf("pack: %s: size %d bytes, want %d for %v %v", t.Name, sz, numel*es, t.DType, t.Shape)
		case off%Alignment != 0:
			return nil, fmt.Errorf("pack: %s: offset %d not aligned to %d", t.Name, off, Alignment)
		case off < uint64(end):
			return nil, fmt.Errorf("pack: %s: offset %d overlaps the previous tensor (ends at %d)", t.Name, off, end)
		case off > uint64(dataSize) || sz > uint64(dataSize)-off:
			return nil, fmt.Errorf("pack: %s: bytes [%d,%d) beyond the %d-byte data section", t.Name, off, off+sz, dataSize)
		}
		t.Offset, t.Size = int64(off), int64(sz)
		end = t.Offset + t.Size
		h.Tensors = append(h.Tensors, t)
	}
	if c.off != int64(len(buf)) {
		return nil, fmt.Errorf("pack: header size %d, table ends at %d", len(buf), c.off)
	}
	if end != dataSize {
		return nil, fmt.Errorf("pack: data section is %d bytes, tensors end at %d", dataSize, end)
	}
	return h, nil
}

// cursor reads little-endian fields; the first error sticks.
type cursor struct {
	b   []byte
	off int64
	err error
}

func (c *cursor) take(n int64) []byte {
	if c.err != nil {
		return nil
	}
	if n > int64(len(c.b))-c.off {
		c.err = fmt.Errorf("header truncated at byte %d (need %d more)", c.off, n)
		return nil
	}
	s := c.b[c.off : c.off+n]
	c.off += n
	return s
}

func (c *cursor) u8() uint8 {
	if s := c.take(1); s != nil {
		return s[0]
	}
	return 0
}

func (c *cursor) u32() uint32 {
	if s := c.take(4); s != nil {
		return binary.LittleEndian.Uint32(s)
	}
	return 0
}

func (c *cursor) u64() uint64 {
	if s := c.take(8); s != nil {
		return binary.LittleEndian.Uint64(s)
	}
	return 0
}

func (c *cursor) str(what string, nonEmpty bool) string {
	s := c.take(2)
	if s == nil {
		return ""
	}
	n := int64(binary.LittleEndian.Uint16(s))
	if n > MaxNameLen || nonEmpty && n == 0 {
		c.err = fmt.Errorf("%s length %d out of range (1..%d bytes)", what, n, MaxNameLen)
		return ""
	}
	s = c.take(n)
	if c.err == nil && !utf8.Valid(s) {
		c.err = fmt.Errorf("%s is not valid UTF-8", what)
	}
	return string(s)
}

// Pack is an opened, verified pack. Raw slices alias the buffer given to
// Open, which must not be modified while the Pack is in use.
type Pack struct {
	Header *Header
	data   []byte
	index  map[string]int
}

// Open validates the header of the pack in b and checks its SHA-256.
func Open(b []byte) (*Pack, error) {
	h, err := ReadHeader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, err
	}
	if sha256.Sum256(b[hashedStart:]) != h.SHA256 {
		return nil, ErrChecksum
	}
	p := &Pack{Header: h, data: b, index: make(map[string]int, len(h.Tensors))}
	for i, t := range h.Tensors {
		p.index[t.Name] = i
	}
	return p, nil
}

// OpenFile reads and opens the pack at path.
func OpenFile(path string) (*Pack, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	p, err := Open(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// Info returns the table entry of the named tensor.
func (p *Pack) Info(name string) (TensorInfo, bool) {
	i, ok := p.index[name]
	if !ok {
		return TensorInfo{}, false
	}
	return p.Header.Tensors[i], true
}

// Names lists the tensors in file order.
func (p *Pack) Names() []string {
	names := make([]string, len(p.Header.Tensors))
	for i, t := range p.Header.Tensors {
		names[i] = t.Name
	}
	return names
}

// Raw returns the stored little-endian bytes of the named tensor (aliasing
// the pack's buffer; absolute file offset DataOffset+Offset, 256-aligned).
func (p *Pack) Raw(name string) ([]byte, error) {
	t, ok := p.Info(name)
	if !ok {
		return nil, fmt.Errorf("pack: no tensor %q", name)
	}
	start := p.Header.DataOffset + t.Offset
	return p.data[start : start+t.Size : start+t.Size], nil
}

// Data returns the whole data section (aliasing the pack's buffer): upload
// it as one GPU buffer and bind each tensor at its Offset, which satisfies
// WebGPU's 256-byte minStorageBufferOffsetAlignment.
func (p *Pack) Data() []byte {
	return p.data[p.Header.DataOffset:p.Header.FileSize:p.Header.FileSize]
}

// Float32 decodes the named tensor into a new float32 slice.
func (p *Pack) Float32(name string) ([]float32, error) {
	raw, err := p.Raw(name)
	if err != nil {
		return nil, err
	}
	t := p.Header.Tensors[p.index[name]]
	out := make([]float32, t.NumElements())
	switch t.DType {
	case F32:
		decodeF32(out, raw)
	case F16:
		decodeF16(out, raw)
	}
	return out, nil
}
