package imageio

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestListImages(t *testing.T) {
	dir := t.TempDir()
	other := t.TempDir()
	for _, f := range []string{"b.PNG", "a.jpg", "c.webp", "notes.txt", "d.tiff"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(other, "real.png"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, l := range []struct{ target, name string }{
		{filepath.Join(other, "real.png"), "link.png"},   // a link to a photo: listed
		{filepath.Join(other, "gone.png"), "broken.png"}, // a broken link: skipped
		{other, "folder.jpg"},                            // a link to a folder: skipped
	} {
		if err := os.Symlink(l.target, filepath.Join(dir, l.name)); err != nil {
			t.Skipf("symlinks: %v", err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.png"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := ListImages(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a.jpg", "b.PNG", "c.webp", "d.tiff", "link.png"}; !slices.Equal(got, want) {
		t.Errorf("ListImages = %q, want %q", got, want)
	}
	if _, err := ListImages(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no images") {
		t.Errorf("empty folder: %v", err)
	}
	if _, err := ListImages(filepath.Join(dir, "nosuch")); err == nil {
		t.Error("missing folder: no error")
	}
}
