//go:build !(js && wasm)

package main

import (
	"flag"
	"fmt"
	"os"
)

// main, natively, writes the static front's manifest (manifest.go):
//
//	go run ./tools/worker -manifest -site dist/site -o build/manifest.mjs
//
// with the configuration from the environment (FRAME_ANCESTORS, ISOLATION,
// PACKS_PREFIX, as the Worker's variables). The Worker itself exists only as
// GOOS=js GOARCH=wasm (tools/worker/build.sh); to serve the app on this
// machine run `go run ./tools/diffuir serve`.
func main() {
	mf := flag.Bool("manifest", false, "write the static front's manifest")
	site := flag.String("site", "dist/site", "the built app")
	out := flag.String("o", "", "output file (default stdout)")
	flag.Parse()
	if !*mf {
		fmt.Fprintln(os.Stderr, "tools/worker is a Cloudflare Worker: build it with tools/worker/build.sh "+
			"(GOOS=js GOARCH=wasm); to serve the app on this machine run: go run ./tools/diffuir serve")
		os.Exit(2)
	}
	if err := runManifest(*site, *out); err != nil {
		fmt.Fprintln(os.Stderr, "worker -manifest:", err)
		os.Exit(1)
	}
}

func runManifest(site, out string) error {
	if st, err := os.Stat(site); err != nil || !st.IsDir() {
		return fmt.Errorf("no built app at %s: run ./build.sh first (or set SITE)", site)
	}
	m, err := buildManifest(os.DirFS(site), loadConfig(os.Getenv))
	if err != nil {
		return err
	}
	w := os.Stdout
	if out != "" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	return writeManifest(w, m)
}
