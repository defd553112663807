package convert

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/diffuir-web/diffuir/runtime/model"
	"github.com/diffuir-web/diffuir/runtime/weights"
)

// checkPack verifies that pack holds exactly src (relative names), with
// standardization folded and the storage dtype applied.
func checkPack(t *testing.T, pack []byte, cfg weights.Config, src map[string]weights.Tensor, prefix string, dt weights.DType) {
	t.Helper()
	p, err := weights.Open(pack)
	if err != nil {
		t.Fatal(err)
	}
	if p.Header.Flags&weights.FlagStandardized == 0 {
		t.Error("standardized flag not set")
	}
	specs := model.ParamSpecs(cfg)
	if names := p.Names(); len(names) != len(specs) {
		t.Fatalf("%d tensors, want %d", len(names), len(specs))
	}
	for i, s := range specs {
		if p.Header.Tensors[i].Name != s.Name {
			t.Fatalf("tensor %d is %s, want %s (ParamSpecs order)", i, p.Header.Tensors[i].Name, s.Name)
		}
		info, _ := p.Info(s.Name)
		wantDT := dt
		if s.Kind == model.KindVector {
			wantDT = weights.F32
		}
		if info.DType != wantDT || !slices.Equal(info.Shape, s.Shape) {
			t.Fatalf("%s: %v %v, want %v %v", s.Name, info.DType, info.Shape, wantDT, s.Shape)
		}
		got, _ := p.Float32(s.Name)
		want := slices.Clone(src[prefix+s.Name].Data)
		if s.Standardized {
			standardizeRef(want, s.Shape[0])
		}
		for k := range want {
			w := want[k]
			if wantDT == weights.F16 {
				w = weights.F16ToF32(weights.F32ToF16(w))
			}
			// Standardized values come from float64 arithmetic that may round
			// differently from the reference: allow an f32 (or f16) ulp at 1.
			tol := 0.0
			if s.Standardized {
				tol = 2e-7
				if wantDT == weights.F16 {
					tol = 1e-3
				}
			}
			if math.Abs(float64(got[k]-w)) > tol {
				t.Fatalf("%s[%d] = %v, want %v", s.Name, k, got[k], w)
			}
		}
	}
}

// standardizeRef is an independent two-pass float64 reference.
func standardizeRef(w []float32, out int) {
	n := len(w) / out
	for o := 0; o < out; o++ {
		row := w[o*n : (o+1)*n]
		mean := 0.0
		for _, v := range row {
			mean += float64(v) / float64(n)
		}
		vr := 0.0
		for _, v := range row {
			vr += (float64(v) - mean) * (float64(v) - mean) / float64(n)
		}
		for i, v := range row {
			row[i] = float32((float64(v) - mean) / math.Sqrt(vr+1e-5))
		}
	}
}

func TestConvertTinyTrainer(t *testing.T) {
	data := fixture(t, "tiny_trainer.pt.gz")
	all, _, err := ReadCheckpoint(data)
	if err != nil {
		t.Fatal(err)
	}
	src := byName(all)
	for _, dt := range []weights.DType{weights.F16, weights.F32} {
		t.Run(dt.String(), func(t *testing.T) {
			opt := DefaultOptions()
			opt.DType = dt
			pack, rep, err := Convert(data, opt)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Size != "T" || rep.Params != 886435 || rep.Format != "torch-zip trainer (ema)" ||
				rep.Source != "ema.ema_model.model.unet0." || rep.Bytes != int64(len(pack)) || rep.Config.Name != "diffuir-tiny" {
				t.Errorf("report %+v", rep)
			}
			if dt == weights.F16 && len(pack) > 1_900_000 {
				t.Errorf("Tiny f16 pack is %d bytes, want <= 1.9 MB", len(pack))
			}
			t.Logf("%v: %s", dt, rep)
			checkPack(t, pack, weights.Tiny, src, "ema.ema_model.model.unet0.", dt)
			// The online weights are all 0.01: make sure they were not used.
			p, _ := weights.Open(pack)
			b, _ := p.Float32("init_conv.bias")
			if b[0] == 0.01 && b[1] == 0.01 {
				t.Error("pack holds the online weights (0.01), not the EMA")
			}
		})
	}
	// Without 'ema', the trainer's online weights are used and the report says so.
	var noEMA []weights.Tensor
	for _, x := range all {
		if !strings.HasPrefix(x.Name, "ema.") {
			noEMA = append(noEMA, x)
		}
	}
	pack, rep, err := ConvertTensors(noEMA, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Source != "model.model.unet0." {
		t.Errorf("source %q", rep.Source)
	}
	p, _ := weights.Open(pack)
	if b, _ := p.Float32("init_conv.bias"); b[0] != 0.01 {
		t.Errorf("online init_conv.bias[0] = %v", b[0])
	}
}

func TestConvertSmallStateDict(t *testing.T) {
	data := fixture(t, "small_state.pt.gz")
	all, _, err := ReadCheckpoint(data)
	if err != nil {
		t.Fatal(err)
	}
	pack, rep, err := Convert(data, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Size != "S" || rep.Params != 3268643 || rep.Format != "torch-zip state_dict" || rep.Source != "" {
		t.Errorf("report %+v", rep)
	}
	t.Log(rep)
	checkPack(t, pack, weights.Small, byName(all), "", weights.F16)
}

// Every official size converts from synthetic weights, and a pack's
// standardized channels have zero mean and (nearly) unit variance.
func TestConvertSizes(t *testing.T) {
	sizes := []struct {
		size string
		cfg  weights.Config
	}{{"T", weights.Tiny}, {"S", weights.Small}, {"B", weights.Base}, {"L", weights.Large}}
	for i, c := range sizes {
		if c.size == "L" && testing.Short() {
			continue
		}
		t.Run(c.size, func(t *testing.T) {
			ts := synthetic(c.cfg, "model.unet0.", uint64(i))
			pack, rep, err := ConvertTensors(ts, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			if rep.Size != c.size || rep.Params != model.ParamCount(c.cfg) || rep.Config.Dim != c.cfg.Dim ||
				!slices.Equal(rep.Config.Mults, c.cfg.Mults) || rep.Format != "tensors" {
				t.Fatalf("report %+v", rep)
			}
			if c.size == "T" {
				checkPack(t, pack, c.cfg, byName(ts), "model.unet0.", weights.F16)
			}
			p, _ := weights.Open(pack)
			w, _ := p.Float32("downs.0.0.block1.proj.weight")
			n := len(w) / c.cfg.Dim
			for o := 0; o < c.cfg.Dim; o++ {
				var s, ss float64
				for _, v := range w[o*n : (o+1)*n] {
					s += float64(v)
					ss += float64(v) * float64(v)
				}
				mean, vr := s/float64(n), ss/float64(n)-(s/float64(n))*(s/float64(n))
				if math.Abs(mean) > 2e-3 || math.Abs(vr-1) > 5e-3 {
					t.Fatalf("channel %d: mean %g var %g after standardization", o, mean, vr)
				}
			}
		})
	}
}

func TestConvertPrefixes(t *testing.T) {
	for _, c := range []struct {
		prefix, source string
		extra          []string
	}{
		{"", "", []string{"alphas", "betas2_cumsum"}},
		{"module.", "module.", []string{"module.alphas"}},
		{"unet0.", "unet0.", []string{"alphas"}},
		{"model.unet0.", "model.unet0.", []string{"alphas", "delta"}},
		{"ema.ema_model.model.unet0.", "ema.ema_model.model.unet0.", []string{"ema.ema_model.alphas", "ema.online_model.model.unet0.init_conv.weight"}},
		{"ema.ema_model.unet0.", "ema.ema_model.unet0.", nil},
		{"module.model.unet0.", "module.model.unet0.", []string{"module.alphas"}},
	} {
		t.Run(c.prefix, func(t *testing.T) {
			ts := synthetic(weights.Tiny, c.prefix, 1)
			for _, e := range c.extra {
				ts = append(ts, weights.Tensor{Name: e, Shape: []int{3}, Data: []float32{1, 2, 3}})
			}
			// Safetensors too: same flattened namespace.
			for _, conv := range []func() ([]byte, Report, error){
				func() ([]byte, Report, error) { return ConvertTensors(ts, DefaultOptions()) },
				func() ([]byte, Report, error) { return Convert(tensorsToSafetensors(ts), DefaultOptions()) },
			} {
				_, rep, err := conv()
				if err != nil {
					t.Fatal(err)
				}
				if rep.Source != c.source || rep.Size != "T" {
					t.Fatalf("report %+v", rep)
				}
			}
		})
	}
	// EMA wins over online weights when both are present.
	ts := append(synthetic(weights.Tiny, "model.model.unet0.", 1), synthetic(weights.Tiny, "ema.ema_model.model.unet0.", 2)...)
	_, rep, err := ConvertTensors(ts, DefaultOptions())
	if err != nil || rep.Source != "ema.ema_model.model.unet0." {
		t.Fatalf("%v %+v", err, rep)
	}
}

func TestConvertSafetensorsRoundTrip(t *testing.T) {
	ts := synthetic(weights.Tiny, "", 3)
	st := tensorsToSafetensors(ts)
	back, err := ReadSafetensors(st)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(ts) {
		t.Fatalf("%d tensors back, want %d", len(back), len(ts))
	}
	src := byName(ts)
	for _, x := range back {
		if !slices.Equal(x.Data, src[x.Name].Data) || !slices.Equal(x.Shape, src[x.Name].Shape) {
			t.Fatalf("%s differs", x.Name)
		}
	}
	pack, rep, err := Convert(st, Options{DType: weights.F32})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Format != "safetensors" {
		t.Errorf("format %q", rep.Format)
	}
	checkPack(t, pack, weights.Tiny, src, "", weights.F32)
}

// A Tiny checkpoint written in torch's zip layout by Go: the torch path end
// to end without Python fixtures.
func TestConvertGoTorchZip(t *testing.T) {
	ts := synthetic(weights.Tiny, "model.unet0.", 4)
	z := torchZip(t, "my_run", ts)
	pack, rep, err := Convert(z, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Format != "torch-zip state_dict" || rep.Source != "model.unet0." {
		t.Errorf("report %+v", rep)
	}
	checkPack(t, pack, weights.Tiny, byName(ts), "model.unet0.", weights.F16)
}

func TestConvertErrors(t *testing.T) {
	const P = "model.unet0."
	edit := func(f func(ts []weights.Tensor) []weights.Tensor) []weights.Tensor {
		return f(synthetic(weights.Tiny, P, 5))
	}
	find := func(ts []weights.Tensor, name string) int {
		for i, x := range ts {
			if x.Name == P+name {
				return i
			}
		}
		panic(name)
	}
	for _, c := range []struct {
		name string
		ts   []weights.Tensor
		opt  Options
		want string
	}{
		{"missing", edit(func(ts []weights.Tensor) []weights.Tensor {
			i := find(ts, "ups.2.3.1.weight")
			return slices.Delete(ts, i, i+1)
		}), DefaultOptions(), "convert: missing key ups.2.3.1.weight"},
		{"renamed", edit(func(ts []weights.Tensor) []weights.Tensor {
			ts[find(ts, "mid_attn.fn.norm.g")].Name = P + "mid_attn.fn.norm.gamma"
			return ts
		}), DefaultOptions(), "convert: missing key mid_attn.fn.norm.g"},
		{"shape", edit(func(ts []weights.Tensor) []weights.Tensor {
			i := find(ts, "downs.1.0.block1.proj.weight")
			ts[i].Shape = []int{64, 32, 3, 3}
			ts[i].Data = make([]float32, 64*32*9)
			return ts
		}), DefaultOptions(), "convert: downs.1.0.block1.proj.weight: shape [64 32 3 3], want [32 32 3 3]"},
		{"vector shape", edit(func(ts []weights.Tensor) []weights.Tensor {
			i := find(ts, "final_conv.bias")
			ts[i].Shape = []int{1, 3}
			return ts
		}), DefaultOptions(), "convert: final_conv.bias: shape [1 3], want [3]"},
		{"unexpected", edit(func(ts []weights.Tensor) []weights.Tensor {
			return append(ts, weights.Tensor{Name: P + "downs.0.9.weight", Shape: []int{1}, Data: []float32{0}},
				weights.Tensor{Name: P + "zzz", Shape: []int{1}, Data: []float32{0}})
		}), DefaultOptions(), "convert: unexpected key downs.0.9.weight (and 1 more)"},
		{"nan", edit(func(ts []weights.Tensor) []weights.Tensor {
			ts[find(ts, "time_mlp.1.weight")].Data[5] = float32(math.NaN())
			return ts
		}), DefaultOptions(), "convert: time_mlp.1.weight: element 5 is NaN"},
		{"inf", edit(func(ts []weights.Tensor) []weights.Tensor {
			ts[find(ts, "init_conv.bias")].Data[0] = float32(math.Inf(-1))
			return ts
		}), DefaultOptions(), "convert: init_conv.bias: element 0 is -Inf"},
		{"f16 overflow", edit(func(ts []weights.Tensor) []weights.Tensor {
			ts[find(ts, "final_conv.weight")].Data[2] = 1e5
			return ts
		}), DefaultOptions(), "convert: final_conv.weight: element 2 = 100000 overflows f16"},
		{"not official", synthetic(weights.Config{Dim: 48, Mults: []int{1, 2, 3, 4}, Groups: 8, Heads: 4, DimHead: 32}, P, 1),
			DefaultOptions(), "convert: inferred dim 48, mults [1 2 3 4]: not an official DiffUIR size"},
		{"three levels", synthetic(weights.Config{Dim: 32, Mults: []int{1, 1, 1}, Groups: 8, Heads: 4, DimHead: 32}, P, 1),
			DefaultOptions(), "mults [1 1 1]: not an official"},
		{"bad init", edit(func(ts []weights.Tensor) []weights.Tensor {
			ts[find(ts, "init_conv.weight")].Shape = []int{32, 3, 7, 7}
			return ts
		}), DefaultOptions(), "convert: init_conv.weight: shape [32 3 7 7], want [dim 6 7 7]"},
		{"no unet", []weights.Tensor{{Name: "foo.init_conv.weight", Shape: []int{1}, Data: []float32{1}}}, DefaultOptions(),
			"convert: no DiffUIR UNet in this checkpoint: no init_conv.weight under ema.ema_model.model.unet0., model.unet0., unet0., module. or at top level (found foo.init_conv.weight: unsupported prefix)"},
		{"two unets", append(synthetic(weights.Tiny, "a.unet0.", 1), synthetic(weights.Tiny, "b.unet0.", 1)...), DefaultOptions(),
			"(found a.unet0.init_conv.weight, b.unet0.init_conv.weight: unsupported prefix)"},
		{"steps", synthetic(weights.Tiny, P, 1), Options{DType: weights.F16, Steps: 50}, "default steps 50"},
		{"norm eps", synthetic(weights.Tiny, P, 1), Options{DType: weights.F16, NormEps: -1}, "norm eps -1"},
		{"dtype", synthetic(weights.Tiny, P, 1), Options{DType: 7}, "unsupported dtype"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := ConvertTensors(c.ts, c.opt)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v\nwant an error containing %q", err, c.want)
			}
		})
	}
	// Non-float tensor where a weight is expected (only safetensors and torch can say so).
	ts := synthetic(weights.Tiny, "", 1)
	st := make([]stTensor, len(ts))
	for i, x := range ts {
		st[i] = stTensor{x.Name, "F32", x.Shape, f32bytes(x.Data)}
		if x.Name == "final_conv.bias" {
			st[i] = stTensor{x.Name, "I32", x.Shape, make([]byte, 12)}
		}
	}
	if _, _, err := Convert(safetensors(st, nil), DefaultOptions()); err == nil || err.Error() != "convert: final_conv.bias: dtype int32, want a float tensor" {
		t.Fatalf("got %v", err)
	}
}

func TestConvertOptions(t *testing.T) {
	ts := synthetic(weights.Tiny, "", 1)
	pack, rep, err := ConvertTensors(ts, Options{DType: weights.F16, Name: "my-tiny", Steps: 5, NormEps: 1e-3})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := weights.Open(pack)
	if c := p.Header.Config; c.Name != "my-tiny" || c.DefaultSteps != 5 || c.NormEps != 1e-3 || rep.Config.Name != "my-tiny" {
		t.Errorf("config %+v", c)
	}
	// The zero Options is F32 throughout.
	pack32, _, err := ConvertTensors(ts, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p32, _ := weights.Open(pack32)
	if info, _ := p32.Info("init_conv.weight"); info.DType != weights.F32 || p32.Header.Config.DefaultSteps != 3 || p32.Header.Config.Name != "diffuir-tiny" ||
		p32.Header.Config.NormEps != weights.DefaultNormEps {
		t.Errorf("zero options: %v %+v", info.DType, p32.Header.Config)
	}
	if len(pack32) < len(pack)*19/10 {
		t.Errorf("f32 pack %d bytes vs f16 %d", len(pack32), len(pack))
	}
}

// ReadCheckpoint -> ConvertTensors gives the same pack as Convert.
func TestConvertTensorsMatchesConvert(t *testing.T) {
	z := readFile(t, "testdata/edge_trainer.pt")
	if _, _, err := Convert(z, DefaultOptions()); err == nil || !strings.Contains(err.Error(), "no DiffUIR UNet") {
		t.Fatalf("edge fixture is not a UNet: got %v", err)
	}
	ts := synthetic(weights.Small, "unet0.", 9)
	st := tensorsToSafetensors(ts)
	a, _, err := Convert(st, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	back, _, _ := ReadCheckpoint(st)
	b, _, err := ConvertTensors(back, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("packs differ")
	}
}
