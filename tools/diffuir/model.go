package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/diffuir-web/diffuir/runtime/model"
	"github.com/diffuir-web/diffuir/runtime/restore"
)

// defaultPackName is the bundled default model, committed at models/.
const defaultPackName = "diffuir-tiny.duir"

// defaultPackCandidates lists where a bundled default pack is looked for:
// models/diffuir-tiny.duir in the working directory or any directory above it
// (the repository root), then next to the executable (and in its models/).
// A variable so tests can replace it.
var defaultPackCandidates = func() []string {
	var out []string
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; {
			out = append(out, filepath.Join(d, "models", defaultPackName))
			up := filepath.Dir(d)
			if up == d {
				break
			}
			d = up
		}
	}
	if exe, err := os.Executable(); err == nil {
		dir := filepath.Dir(exe)
		out = append(out, filepath.Join(dir, defaultPackName), filepath.Join(dir, "models", defaultPackName))
	}
	return out
}

// findDefaultPack returns the first candidate that exists.
func findDefaultPack() (string, error) {
	cands := defaultPackCandidates()
	for _, p := range cands {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("no --model given and no bundled default model found (looked for models/%s in this directory and above, and next to the executable); pass --model PACK", defaultPackName)
}

// loadModel reads a weight pack or a checkpoint (restore.Load). An empty
// path means the bundled default (findDefaultPack); the path read is
// returned.
func loadModel(path string) (*model.Model, string, error) {
	if path == "" {
		var err error
		if path, err = findDefaultPack(); err != nil {
			return nil, "", err
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("load model: %w", err)
	}
	m, _, err := restore.Load(data, restore.LoadOptions{})
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	return m, path, nil
}
