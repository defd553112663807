// Command mkpack writes a weight pack of random weights of a given model
// size: the test model of the web-app tests (tests/web) and the benchmark
// model of tools/bench/web when it is given no pack:
//
//	go run ./tools/mkpack -size tiny -o dist/testdata/models/tiny-random.duir
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/diffuir-web/diffuir/runtime/model"
	"github.com/diffuir-web/diffuir/runtime/weights"
)

func main() {
	out := flag.String("o", "", "output pack `path`")
	size := flag.String("size", "tiny", "model size: tiny or small")
	seed := flag.Uint64("seed", 1, "seed of the random weights")
	dtype := flag.String("dtype", "f16", "f16 or f32 storage of the matrices")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "usage: mkpack -o PATH [-size tiny|small] [-seed N] [-dtype f16|f32]")
		os.Exit(2)
	}
	var cfg weights.Config
	switch *size {
	case "tiny":
		cfg = weights.Tiny
	case "small":
		cfg = weights.Small
	default:
		fmt.Fprintf(os.Stderr, "mkpack: unknown size %q (tiny or small)\n", *size)
		os.Exit(2)
	}
	dt := weights.F16
	if *dtype == "f32" {
		dt = weights.F32
	}
	cfg.Name += "-random"
	b, err := weights.Marshal(cfg, model.RandomWeights(cfg, *seed, dt))
	if err == nil {
		err = os.MkdirAll(filepath.Dir(*out), 0o755)
	}
	if err == nil {
		err = os.WriteFile(*out, b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkpack:", err)
		os.Exit(1)
	}
}
