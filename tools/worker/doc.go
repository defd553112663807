// Command worker is the Cloudflare Workers build of the site handler
// (site/server): the same http.Handler as `diffuir serve`, compiled with
// GOOS=js GOARCH=wasm and run by syumai/workers.
//
// Files come from Workers static assets (the ASSETS binding, the default),
// or from the binary itself when built with -tags embedsite. Model packs
// (names under PACKS_PREFIX, default "models/", where build.sh puts them)
// may instead come from an R2 bucket (PACKS_BUCKET names its binding),
// optionally behind the Cache API (PACKS_CACHE=1). Configuration is by
// Worker variables (config.go, docs/SERVING.md); build and local test:
// tools/worker/build.sh and tools/worker/test.sh.
//
// Built for another platform the command only explains how to build it;
// the store and configuration code is platform-neutral and tested natively.
package main
