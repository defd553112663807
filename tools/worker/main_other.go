//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

// main explains the build: the Worker exists only as GOOS=js GOARCH=wasm.
// To serve the app natively use `go run ./tools/diffuir serve`.
func main() {
	fmt.Fprintln(os.Stderr, "tools/worker is a Cloudflare Worker: build it with tools/worker/build.sh "+
		"(GOOS=js GOARCH=wasm); to serve the app on this machine run: go run ./tools/diffuir serve")
	os.Exit(2)
}
