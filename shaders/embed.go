package shaders

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// Some .wgsl files are generated from tmpl/*.wgsl.tmpl (they say so in
// their first line); gen_test.go writes them and checks they are current.
//
//go:generate go test -run ^TestGenerated$ -update

//go:embed *.wgsl
var files embed.FS

// Source returns the WGSL source of the named file, e.g. "conv.wgsl".
func Source(name string) (string, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("shaders: %w", err)
	}
	return string(b), nil
}

// Compose concatenates the named files into one module, in order, after
// Prelude (the workgroup sizes of sizes.go). WGSL module-scope declarations
// may appear in any order, so a kernel file and a snippet that supplies one
// of its functions (conv.wgsl + conv_w_f16_uniform.wgsl) form a complete
// shader.
func Compose(names ...string) (string, error) {
	var b strings.Builder
	b.WriteString(Prelude())
	for _, n := range names {
		s, err := Source(n)
		if err != nil {
			return "", err
		}
		b.WriteString(s)
		b.WriteString("\n")
	}
	return b.String(), nil
}

// Names lists the embedded files, sorted.
func Names() []string {
	var names []string
	_ = fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, path)
		}
		return nil
	})
	sort.Strings(names)
	return names
}
