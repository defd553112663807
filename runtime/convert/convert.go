package convert

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/diffuir-web/diffuir/runtime/model"
	"github.com/diffuir-web/diffuir/runtime/weights"
)

// Options control a conversion. The zero value stores everything as F32;
// DefaultOptions gives the recommended F16.
type Options struct {
	// DType stores conv and linear weights; vectors (biases, norm
	// parameters) always stay F32.
	DType weights.DType
	// Name overrides Config.Name (default: the official name, e.g. "diffuir-tiny").
	Name string
	// Steps is the pack's default number of sampling steps (0 means 3).
	Steps int
	// NormEps is the channel LayerNorm epsilon the weights were trained
	// with (0 means weights.DefaultNormEps). Checkpoints do not say it: the
	// authors' rule ties it to the training precision (1e-3 under half
	// precision), so whoever trained them must.
	NormEps float32
}

// DefaultOptions returns F16 weights, the official name and 3 steps.
func DefaultOptions() Options { return Options{DType: weights.F16, Steps: 3} }

// Report describes a finished conversion.
type Report struct {
	Format string         // "torch-zip trainer (ema)", "torch-zip trainer (no ema)", "torch-zip state_dict", "safetensors", "tensors"
	Source string         // the key prefix the UNet was read from, e.g. "ema.ema_model.model.unet0." ("" for bare keys)
	Config weights.Config // the pack's config
	Size   string         // "T", "S", "B" or "L"
	Params int            // scalars in the UNet
	Bytes  int64          // pack size
}

func (r Report) String() string {
	src := r.Source
	if src == "" {
		src = "(no prefix)"
	}
	return fmt.Sprintf("%s (%s): %d params, %d-byte pack, from %s %s", r.Config.Name, r.Size, r.Params, r.Bytes, r.Format, src)
}

// sources are the key prefixes tried, in order, in the flattened namespace.
// A trainer checkpoint's EMA weights come first: inference uses them.
var sources = []struct{ prefix, kind string }{
	{"ema.ema_model.model.unet0.", "trainer (ema)"},
	{"ema.ema_model.unet0.", "trainer (ema)"},
	{"model.model.unet0.", "trainer (no ema)"},
	{"model.unet0.", "state_dict"},
	{"unet0.", "state_dict"},
	{"module.", "state_dict"},
	{"", "state_dict"},
}

var official = []struct {
	size string
	cfg  weights.Config
}{{"T", weights.Tiny}, {"S", weights.Small}, {"B", weights.Base}, {"L", weights.Large}}

// unetModules are the top-level submodules of the UNet: under a prefix that
// does not end in "unet0." only keys starting with one of these are taken
// to be UNet keys (the rest are schedule buffers and other state).
var unetModules = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range model.ParamSpecs(weights.Tiny) {
		m[strings.SplitN(s.Name, ".", 2)[0]] = true
	}
	return m
}()

// Convert turns a checkpoint (torch zip, safetensors, optionally gzipped)
// into pack bytes. It picks the EMA weights of a trainer checkpoint,
// infers and checks the model size, verifies every tensor's name and shape,
// folds weight standardization into the conv weights and stores matrices
// as opt.DType.
func Convert(data []byte, opt Options) (pack []byte, rep Report, err error) {
	defer recoverTo(&err)
	ck, err := parseCheckpoint(data)
	if err != nil {
		return nil, Report{}, err
	}
	return convert(ck, opt)
}

// ConvertTensors converts already decoded tensors named like checkpoint
// keys (as ReadCheckpoint returns them).
func ConvertTensors(tensors []weights.Tensor, opt Options) (pack []byte, rep Report, err error) {
	defer recoverTo(&err)
	ck := newCheckpoint("tensors", 0)
	for _, t := range tensors {
		e := &entry{name: t.Name, dtype: "float32", shape: t.Shape}
		e.load = func() ([]float32, error) {
			if n, err := numel(t.Shape); err != nil || n != len(t.Data) {
				return nil, fmt.Errorf("shape %v does not match %d values", t.Shape, len(t.Data))
			}
			return slices.Clone(t.Data), nil
		}
		ck.add(e)
	}
	return convert(ck, opt)
}

func convert(ck *checkpoint, opt Options) ([]byte, Report, error) {
	if opt.DType != weights.F32 && opt.DType != weights.F16 {
		return nil, Report{}, fmt.Errorf("convert: unsupported dtype %v", opt.DType)
	}
	rep := Report{Format: ck.format}
	found := false
	for _, s := range sources {
		if _, ok := ck.byName[s.prefix+"init_conv.weight"]; ok {
			rep.Source = s.prefix
			if ck.format == FormatTorchZip {
				rep.Format = ck.format + " " + s.kind
			}
			found = true
			break
		}
	}
	var seen []string
	if !found {
		for _, e := range ck.entries {
			if strings.HasSuffix(e.name, ".init_conv.weight") {
				seen = append(seen, e.name)
			}
		}
		// One UNet under some other wrapper ("module.model.unet0." from
		// DataParallel, ...): unambiguous, so take it.
		if len(seen) == 1 && strings.HasSuffix(seen[0], "unet0.init_conv.weight") {
			rep.Source = strings.TrimSuffix(seen[0], "init_conv.weight")
			if ck.format == FormatTorchZip {
				rep.Format = ck.format + " state_dict"
			}
			found = true
		}
	}
	if !found {
		msg := "convert: no DiffUIR UNet in this checkpoint: no init_conv.weight under ema.ema_model.model.unet0., model.unet0., unet0., module. or at top level"
		if len(seen) > 0 {
			msg += fmt.Sprintf(" (found %s: unsupported prefix)", strings.Join(seen, ", "))
		}
		return nil, rep, fmt.Errorf("%s", msg)
	}

	// The UNet's keys, relative to the prefix.
	sub := map[string]*entry{}
	whole := strings.HasSuffix(rep.Source, "unet0.")
	for _, e := range ck.entries {
		rel, ok := strings.CutPrefix(e.name, rep.Source)
		if !ok {
			continue
		}
		if whole || unetModules[strings.SplitN(rel, ".", 2)[0]] {
			sub[rel] = e
		}
	}

	cfg, size, err := inferConfig(sub)
	if err != nil {
		return nil, rep, err
	}
	if opt.Name != "" {
		cfg.Name = opt.Name
	}
	cfg.DefaultSteps = 3
	if opt.Steps != 0 {
		cfg.DefaultSteps = opt.Steps
	}
	cfg.NormEps, cfg.GroupEps = weights.DefaultNormEps, weights.DefaultGroupEps
	if opt.NormEps != 0 {
		cfg.NormEps = opt.NormEps
	}
	if err := cfg.Validate(); err != nil {
		return nil, rep, fmt.Errorf("convert: %w", err)
	}
	rep.Config, rep.Size = cfg, size

	// Names and shapes first, so nothing is decoded for a mismatched file.
	specs := model.ParamSpecs(cfg)
	want := map[string]bool{}
	for _, s := range specs {
		want[s.Name] = true
		e, ok := sub[s.Name]
		if !ok {
			return nil, rep, fmt.Errorf("convert: missing key %s", s.Name)
		}
		if !slices.Equal(e.shape, s.Shape) {
			return nil, rep, fmt.Errorf("convert: %s: shape %v, want %v", s.Name, e.shape, s.Shape)
		}
		if e.load == nil {
			return nil, rep, fmt.Errorf("convert: %s: dtype %s, want a float tensor", s.Name, e.dtype)
		}
	}
	var extra []string
	for name := range sub {
		if !want[name] {
			extra = append(extra, name)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		more := ""
		if len(extra) > 1 {
			more = fmt.Sprintf(" (and %d more)", len(extra)-1)
		}
		return nil, rep, fmt.Errorf("convert: unexpected key %s%s: not part of the %s UNet", extra[0], more, size)
	}

	tensors := make([]weights.Tensor, 0, len(specs))
	for _, s := range specs {
		data, err := sub[s.Name].load()
		if err != nil {
			return nil, rep, fmt.Errorf("convert: %s: %w", s.Name, err)
		}
		for i, v := range data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, rep, fmt.Errorf("convert: %s: element %d is %v (corrupt or diverged weights)", s.Name, i, v)
			}
		}
		if s.Standardized {
			standardize(data, s.Shape[0])
		}
		dt := opt.DType
		if s.Kind == model.KindVector {
			dt = weights.F32
		}
		if dt == weights.F16 {
			for i, v := range data {
				if h := weights.F32ToF16(v); h&0x7fff == 0x7c00 {
					return nil, rep, fmt.Errorf("convert: %s: element %d = %g overflows f16 (max 65504); convert with F32", s.Name, i, v)
				}
			}
		}
		tensors = append(tensors, weights.Tensor{Name: s.Name, Shape: s.Shape, DType: dt, Data: data})
		rep.Params += len(data)
	}
	pack, err := weights.Marshal(cfg, tensors)
	if err != nil {
		return nil, rep, fmt.Errorf("convert: %w", err)
	}
	rep.Bytes = int64(len(pack))
	return pack, rep, nil
}

// inferConfig reads dim from init_conv.weight and one multiplier per level
// from the output channels of downs.{i}.3.weight, then requires an official
// size: heads, groups and the schedule are not recoverable from shapes.
func inferConfig(sub map[string]*entry) (weights.Config, string, error) {
	init := sub["init_conv.weight"]
	if len(init.shape) != 4 || init.shape[0] <= 0 || init.shape[1] != 6 || init.shape[2] != 7 || init.shape[3] != 7 {
		return weights.Config{}, "", fmt.Errorf("convert: init_conv.weight: shape %v, want [dim 6 7 7]", init.shape)
	}
	dim := init.shape[0]
	var mults []int
	for i := 0; ; i++ {
		name := fmt.Sprintf("downs.%d.3.weight", i)
		e, ok := sub[name]
		if !ok {
			break
		}
		if len(e.shape) != 4 || e.shape[0]%dim != 0 || e.shape[0] == 0 {
			return weights.Config{}, "", fmt.Errorf("convert: %s: shape %v, want [dim*mult in k k] with dim %d", name, e.shape, dim)
		}
		mults = append(mults, e.shape[0]/dim)
		if i > 64 {
			break
		}
	}
	for _, o := range official {
		if o.cfg.Dim == dim && slices.Equal(o.cfg.Mults, mults) {
			cfg := o.cfg
			cfg.Mults = slices.Clone(o.cfg.Mults)
			return cfg, o.size, nil
		}
	}
	return weights.Config{}, "", fmt.Errorf("convert: inferred dim %d, mults %v: not an official DiffUIR size (T: 32 [1 1 1 1], S: 32 [1 2 2 4], B: 64 [1 2 2 4], L: 64 [1 2 4 8])", dim, mults)
}

// standardize applies WeightStandardizedConv2d's transform in place: per
// output channel, (w - mean) / sqrt(var + 1e-5) with the biased variance
// over (in, kh, kw). It accumulates in float64 and rounds once to float32,
// so it can differ from PyTorch's float32 evaluation by an ulp or so.
func standardize(w []float32, out int) {
	n := len(w) / out
	for o := 0; o < out; o++ {
		row := w[o*n : (o+1)*n]
		var sum float64
		for _, v := range row {
			sum += float64(v)
		}
		mean := sum / float64(n)
		var ss float64
		for _, v := range row {
			d := float64(v) - mean
			ss += d * d
		}
		inv := 1 / math.Sqrt(ss/float64(n)+1e-5)
		for i, v := range row {
			row[i] = float32((float64(v) - mean) * inv)
		}
	}
}
