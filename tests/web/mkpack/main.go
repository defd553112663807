// Command mkpack writes a weight pack of random weights, the test model of
// the web-app tests (there is no trained default model in the repo):
//
//	go run ./tests/web/mkpack -o dist/testdata/models/tiny-random.duir
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
	seed := flag.Uint64("seed", 1, "seed of the random weights")
	dtype := flag.String("dtype", "f16", "f16 or f32")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "usage: mkpack -o PATH [-seed N] [-dtype f16|f32]")
		os.Exit(2)
	}
	dt := weights.F16
	if *dtype == "f32" {
		dt = weights.F32
	}
	cfg := weights.Tiny
	cfg.Name = "diffuir-tiny-random"
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
