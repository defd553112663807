package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/diffuir-web/diffuir/runtime/convert"
	"github.com/diffuir-web/diffuir/runtime/weights"
)

func parseDType(s string) (weights.DType, error) {
	switch strings.ToLower(s) {
	case "f16", "fp16", "half":
		return weights.F16, nil
	case "f32", "fp32", "float":
		return weights.F32, nil
	}
	return 0, usagef("--dtype %q: want f16 or f32", s)
}

func runConvert(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("convert", stderr)
	out := fs.String("o", "", "output pack `path`")
	dtype := fs.String("dtype", "f16", "storage type of conv and linear weights: f16 or f32")
	name := fs.String("name", "", "model name stored in the pack (default: from the detected size)")
	steps := fs.Int("steps", 3, "default sampling steps stored in the pack")
	normEps := fs.Float64("norm-eps", weights.DefaultNormEps,
		"channel LayerNorm epsilon the weights were trained with: 1e-5 (float32 training, the authors' weights) or 1e-3 (trained under half-precision autocast)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" {
		return usagef("usage: diffuir convert IN -o OUT [--dtype f16|f32]")
	}
	dt, err := parseDType(*dtype)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	pack, rep, err := convert.Convert(data, convert.Options{DType: dt, Name: *name, Steps: *steps, NormEps: float32(*normEps)})
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	if err := writeFile(*out, pack); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "read    %s (%s, weights from %s)\n", pos[0], rep.Format, rep.Source)
	fmt.Fprintf(stdout, "model   %s: size %s, dim %d, mults %v, norm eps %g, %d parameters\n", rep.Config.Name, rep.Size, rep.Config.Dim, rep.Config.Mults, rep.Config.NormEps, rep.Params)
	fmt.Fprintf(stdout, "wrote   %s: %d bytes (%s weights)\n", *out, rep.Bytes, dt)
	return nil
}

func runInfo(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("info", stderr)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: diffuir info PACK")
	}
	p, err := weights.OpenFile(pos[0])
	if err != nil {
		return err
	}
	h := p.Header
	c := h.Config
	fmt.Fprintf(stdout, "pack      %s\nversion   %d\nbytes     %d\nsha256    %x (verified)\n", pos[0], h.Version, h.FileSize, h.SHA256)
	fmt.Fprintf(stdout, "name      %s\ndim       %d\nmults     %v\ngroups    %d\nheads     %d x %d\ntimesteps %d\ndelta_end %g\nnorm_eps  %g\ngroup_eps %g\nsteps     %d\n",
		c.Name, c.Dim, c.Mults, c.Groups, c.Heads, c.DimHead, c.Timesteps, c.DeltaEnd, c.NormEps, c.GroupEps, c.DefaultSteps)
	fmt.Fprintf(stdout, "flags     %#x (weight standardization folded: %v)\n", h.Flags, h.Flags&weights.FlagStandardized != 0)
	params := 0
	fmt.Fprintf(stdout, "\n%-48s %-5s %-18s %10s %10s\n", "tensor", "dtype", "shape", "offset", "bytes")
	for _, t := range h.Tensors {
		params += t.NumElements()
		fmt.Fprintf(stdout, "%-48s %-5s %-18s %10d %10d\n", t.Name, t.DType, fmt.Sprint(t.Shape), t.Offset, t.Size)
	}
	fmt.Fprintf(stdout, "\n%d tensors, %d parameters\n", len(h.Tensors), params)
	return nil
}
