package restore

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/diffuir-web/diffuir/runtime/convert"
	"github.com/diffuir-web/diffuir/runtime/model"
	"github.com/diffuir-web/diffuir/runtime/weights"
)

// Load failures, for callers that answer each differently (the browser's
// error codes): a damaged file, or a readable one that is no usable model.
var (
	ErrModelCorrupt = errors.New("the model file is damaged")
	ErrModelInvalid = errors.New("not a usable DiffUIR model")
)

// LoadOptions tune Load. The zero value converts checkpoints to f32, so
// nothing is lost.
type LoadOptions struct {
	// F16 stores a converted checkpoint's matrices as f16, as a pack made by
	// `diffuir convert` would (the parity tests check both).
	F16 bool
}

// ModelInfo is what Load read: the pack's header, and how a checkpoint was
// converted (js tags as Report's).
type ModelInfo struct {
	Name         string `js:"name"`
	Dim          int    `js:"dim"`
	Mults        []int  `js:"mults"`
	DefaultSteps int    `js:"defaultSteps"`
	Params       int    `js:"params"`      // scalars in the UNet
	FileSize     int64  `js:"fileSize"`    // of the pack (after conversion)
	SHA256       string `js:"sha256"`      // hex, of the pack's payload
	Converted    bool   `js:"converted"`   // the bytes were a checkpoint, converted in memory
	ConvertNote  string `js:"convertNote"` // what the converter read, when Converted
}

// Load opens a weight pack (its size and SHA-256 checked), or converts a
// PyTorch or safetensors checkpoint in memory when the bytes are no pack.
// The model aliases data (or the converted pack).
func Load(data []byte, opt LoadOptions) (*model.Model, ModelInfo, error) {
	var info ModelInfo
	if !bytes.HasPrefix(data, []byte(weights.Magic)) {
		if len(data) < 4 {
			return nil, info, fmt.Errorf("%w: the file is empty or truncated", ErrModelCorrupt)
		}
		dt := weights.F32
		if opt.F16 {
			dt = weights.F16
		}
		packed, rep, err := convert.Convert(data, convert.Options{DType: dt})
		if err != nil {
			return nil, info, fmt.Errorf("%w: not a weight pack, and not a checkpoint this runtime can convert: %w", ErrModelInvalid, err)
		}
		data, info.Converted, info.ConvertNote = packed, true, rep.String()
	}
	p, err := weights.Open(data)
	switch {
	case errors.Is(err, weights.ErrChecksum):
		return nil, info, fmt.Errorf("%w (SHA-256 mismatch): download it again: %w", ErrModelCorrupt, err)
	case errors.Is(err, weights.ErrNotPack):
		return nil, info, fmt.Errorf("%w: not a DiffUIR weight pack: %w", ErrModelCorrupt, err)
	case err != nil:
		return nil, info, fmt.Errorf("%w: truncated or unreadable: %w", ErrModelCorrupt, err)
	}
	m, err := model.FromPack(p)
	if err != nil {
		return nil, info, fmt.Errorf("%w: %w", ErrModelInvalid, err)
	}
	h := p.Header
	info.Name, info.Dim, info.Mults, info.DefaultSteps = h.Config.Name, h.Config.Dim, h.Config.Mults, h.Config.DefaultSteps
	info.Params = model.ParamCount(h.Config)
	info.FileSize, info.SHA256 = h.FileSize, fmt.Sprintf("%x", h.SHA256)
	return m, info, nil
}
