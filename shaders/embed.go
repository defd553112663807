package shaders

import (
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"text/template"
)

//go:embed *.wgsl *.wgsl.tmpl
var files embed.FS

// templated are the shaders written once as NAME.tmpl and executed with
// their data when asked for: kernel variants come from one source, with no
// generated copy to keep current.
var templated = map[string]any{
	// in_a and in_b (channels ca.. of the concat) are read by the same
	// loops, one copy per input so each loop indexes one binding.
	"conv.wgsl": struct{ Inputs []string }{[]string{"a", "b"}},
}

// Source returns the WGSL source of the named file, e.g. "conv.wgsl".
func Source(name string) (string, error) {
	data, isTemplate := templated[name]
	file := name
	if isTemplate {
		file += ".tmpl"
	}
	src, err := files.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("shaders: %w", err)
	}
	if !isTemplate {
		return string(src), nil
	}
	var b strings.Builder
	t, err := template.New(file).Option("missingkey=error").Parse(string(src))
	if err == nil {
		err = t.Execute(&b, data)
	}
	if err != nil {
		return "", fmt.Errorf("shaders: %w", err)
	}
	return b.String(), nil
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

// Names lists the shaders Source returns, sorted.
func Names() []string {
	names, _ := fs.Glob(files, "*.wgsl")
	for n := range templated {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
