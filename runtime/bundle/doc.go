// Package bundle packs several result files into one zip archive (Go's
// archive/zip), for the web app's "Download all": the browser has no zip
// writer of its own, and the worker already runs Go.
//
// Photos are stored, not deflated: PNG and JPEG are compressed already, and
// deflating them again costs time in a single-threaded wasm for a percent
// or two.
package bundle
