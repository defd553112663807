package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestLEB128(t *testing.T) {
	for _, c := range []struct {
		v    int64
		u, s []byte
	}{
		{0, []byte{0}, []byte{0}},
		{63, []byte{63}, []byte{63}},
		{64, []byte{64}, []byte{0xc0, 0}},
		{127, []byte{127}, []byte{0xff, 0}},
		{128, []byte{0x80, 1}, []byte{0x80, 1}},
		{261, []byte{0x85, 2}, []byte{0x85, 2}},
		{-1, nil, []byte{0x7f}},
		{-64, nil, []byte{0x40}},
		{-65, nil, []byte{0xbf, 0x7f}},
	} {
		if c.u != nil {
			var b bytes.Buffer
			uleb(&b, uint64(c.v))
			if !bytes.Equal(b.Bytes(), c.u) {
				t.Errorf("uleb(%d) = %x, want %x", c.v, b.Bytes(), c.u)
			}
		}
		var b bytes.Buffer
		sleb(&b, c.v)
		if !bytes.Equal(b.Bytes(), c.s) {
			t.Errorf("sleb(%d) = %x, want %x", c.v, b.Bytes(), c.s)
		}
	}
}

// TestModulesValidate has Node's V8 validate and compile both modules
// (relaxed SIMD behind Node 20's flag) and list their exports. The kernels'
// results are tested against runtime/ref by runtime/backend/cpu's tests
// run in Node through node_exec.sh (build.sh test does).
func TestModulesValidate(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node")
	}
	dir := t.TempDir()
	if err := run(dir, filepath.Join(dir, "k.js")); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range kernels(false) {
		names = append(names, f.name)
	}
	want := strings.Join(names, ",")
	for _, c := range []struct{ file, flag string }{{"simd.wasm", ""}, {"simd-relaxed.wasm", "--experimental-wasm-relaxed-simd"}} {
		script := `const b = require('fs').readFileSync(process.argv[1]);
const m = new WebAssembly.Module(b);
new WebAssembly.Instance(m, { env: { mem: new WebAssembly.Memory({ initial: 1 }) } });
console.log(WebAssembly.Module.exports(m).map((e) => e.name).join(','));`
		args := []string{"-e", script, filepath.Join(dir, c.file)}
		if c.flag != "" {
			args = append([]string{c.flag}, args...)
		}
		out, err := exec.Command(node, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", c.file, err, out)
		}
		if got := strings.TrimSpace(string(out)); got != want {
			t.Errorf("%s exports %q, want %q", c.file, got, want)
		}
	}
	js, err := os.ReadFile(filepath.Join(dir, "k.js"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !strings.Contains(string(js), "    "+n+": (") {
			t.Errorf("k.js has no trampoline for %s", n)
		}
	}
}
