package convert

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/diffuir-web/diffuir/runtime/weights"
)

// Limits on what a checkpoint may make us allocate.
const (
	// maxGunzip caps a gzip-compressed checkpoint's inflated size (the
	// official Large trainer checkpoint is ~600 MB).
	maxGunzip = 2 << 30
	// maxPickle caps data.pkl; a Large trainer checkpoint's is well under 1 MB.
	maxPickle = 32 << 20
	// maxSafetensorsHeader mirrors the safetensors library's own limit.
	maxSafetensorsHeader = 100 << 20
	// maxRank bounds tensor rank (the UNet uses at most 4).
	maxRank = 8
)

// Checkpoint format names returned by ReadCheckpoint.
const (
	FormatTorchZip    = "torch-zip"
	FormatSafetensors = "safetensors"
)

// entry is one tensor of a checkpoint under its flattened dotted name. Data
// is decoded only on demand so a conversion touches just the tensors it
// needs (a trainer checkpoint also holds online weights and Adam moments).
type entry struct {
	name  string
	dtype string // torch spelling: "float32", "float16", "bfloat16", "float64", "int64", "bool", ...
	shape []int
	load  func() ([]float32, error) // nil for non-float tensors
}

type checkpoint struct {
	format  string
	size    int // bytes of the (inflated) container, bounding what all() decodes
	entries []*entry
	byName  map[string]*entry
}

func newCheckpoint(format string, size int) *checkpoint {
	return &checkpoint{format: format, size: size, byName: map[string]*entry{}}
}

// add records e, a later duplicate replacing an earlier one as a Python dict
// assignment would.
func (c *checkpoint) add(e *entry) {
	if old, ok := c.byName[e.name]; ok {
		*old = *e
		return
	}
	c.entries = append(c.entries, e)
	c.byName[e.name] = e
}

var (
	legacyTorchMagic = []byte{0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19}
	errLegacy        = errors.New("convert: legacy torch.save format not supported; re-save with torch>=1.6 (torch.save(torch.load(f), g))")
)

// parseCheckpoint detects the container and indexes its tensors.
func parseCheckpoint(data []byte) (*checkpoint, error) {
	return parseCheckpointDepth(data, 0)
}

func parseCheckpointDepth(data []byte, depth int) (*checkpoint, error) {
	switch {
	case len(data) == 0:
		return nil, errors.New("convert: empty input, not a checkpoint")
	case bytes.HasPrefix(data, []byte{0x1f, 0x8b}) && depth == 0:
		inflated, err := gunzip(data)
		if err != nil {
			return nil, err
		}
		return parseCheckpointDepth(inflated, depth+1)
	case bytes.HasPrefix(data, []byte("PK\x03\x04")), bytes.HasPrefix(data, []byte("PK\x05\x06")):
		return parseTorchZip(data)
	case isSafetensors(data):
		return parseSafetensors(data)
	case data[0] == 0x80 && len(data) > 2 && bytes.HasPrefix(data[2:], legacyTorchMagic):
		return nil, errLegacy
	case len(data) >= 512 && string(data[257:262]) == "ustar":
		return nil, errLegacy // the pre-1.0 tar layout
	case data[0] == 0x80:
		return nil, errors.New("convert: a bare pickle, not a torch.save checkpoint (expected a zip written by torch>=1.6)")
	}
	return nil, errors.New("convert: not a checkpoint: expected a PyTorch .pt/.pth (zip) or a .safetensors file")
}

func isSafetensors(data []byte) bool {
	if len(data) < 10 {
		return false
	}
	n := binary.LittleEndian.Uint64(data)
	return n >= 2 && n <= uint64(len(data)-8) && data[8] == '{'
}

func gunzip(data []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("convert: gzip: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, maxGunzip+1))
	if err != nil {
		return nil, fmt.Errorf("convert: gzip: truncated or corrupt: %w", err)
	}
	if len(out) > maxGunzip {
		return nil, fmt.Errorf("convert: gzip: inflates beyond %d bytes", maxGunzip)
	}
	return out, nil
}

// ReadCheckpoint decodes every floating-point tensor of a checkpoint, in
// file order, as F32 tensors named by their full dotted key (nested dicts
// joined with "."; e.g. "ema.ema_model.model.unet0.init_conv.weight").
// Non-float tensors (ints, bools) are skipped. The format is FormatTorchZip
// or FormatSafetensors; gzip-compressed input is inflated first.
func ReadCheckpoint(data []byte) (ts []weights.Tensor, format string, err error) {
	defer recoverTo(&err)
	ck, err := parseCheckpoint(data)
	if err != nil {
		return nil, "", err
	}
	ts, err = ck.all()
	return ts, ck.format, err
}

// ReadSafetensors decodes every floating-point tensor (F64, F32, F16, BF16)
// of a safetensors file as F32.
func ReadSafetensors(data []byte) (ts []weights.Tensor, err error) {
	defer recoverTo(&err)
	ck, err := parseSafetensors(data)
	if err != nil {
		return nil, err
	}
	return ck.all()
}

// recoverTo turns a panic into an error at the package boundary: the
// parsers check every size they use, so this is a last line of defence
// against untrusted input, not a code path (fuzz targets fail on it).
func recoverTo(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("convert: internal error on malformed input: %v", r)
	}
}

// all loads every float entry. Views may share storage, so the total is
// capped by the file size to stop a tiny file from naming the same large
// storage a million times.
func (c *checkpoint) all() ([]weights.Tensor, error) {
	var out []weights.Tensor
	total := 0
	for _, e := range c.entries {
		if e.load == nil {
			continue
		}
		n, err := numel(e.shape)
		if err != nil {
			return nil, fmt.Errorf("convert: %s: %w", e.name, err)
		}
		if total += n; total > c.size+1024 {
			return nil, fmt.Errorf("convert: tensors total over %d elements, more than a %d-byte file can hold", total, c.size)
		}
		data, err := e.load()
		if err != nil {
			return nil, fmt.Errorf("convert: %s: %w", e.name, err)
		}
		out = append(out, weights.Tensor{Name: e.name, Shape: append([]int(nil), e.shape...), DType: weights.F32, Data: data})
	}
	return out, nil
}

// numel multiplies a shape, rejecting negative dims, excessive rank and
// products beyond int32 range (no UNet tensor comes close).
func numel(shape []int) (int, error) {
	if len(shape) > maxRank {
		return 0, fmt.Errorf("rank %d exceeds %d", len(shape), maxRank)
	}
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dim in shape %v", shape)
		}
		if d != 0 && n > math.MaxInt32/d {
			return 0, fmt.Errorf("shape %v too large", shape)
		}
		n *= d
	}
	return n, nil
}
