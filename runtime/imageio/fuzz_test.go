package imageio

import (
	"io"
	"testing"
)

// FuzzDecode checks that no input panics the decoders or the conversion,
// and that whatever decodes is a well-formed Image that encodes again.
// Run: go test -run '^$' -fuzz FuzzDecode -fuzztime 60s ./runtime/imageio/
func FuzzDecode(f *testing.F) {
	for _, b := range seedImages(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// A small pixel limit keeps each execution fast and bounded in
		// memory; the size checks themselves are covered by unit tests.
		m, _, err := DecodeLimit(b, 1<<16)
		if err != nil {
			return
		}
		checkInvariants(t, m)
		if err := m.EncodePNG(io.Discard, m.Depth); err != nil {
			t.Fatal(err)
		}
	})
}
