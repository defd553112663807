package imageio

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// imageExts are the file extensions ListImages picks up: the formats DecodeBytes reads
// that photos come in.
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".tif": true, ".tiff": true, ".bmp": true, ".webp": true}

// ListImages returns the names of the image files in dir (by extension, any
// case), sorted. Symbolic links count when they lead to a regular file, so a
// folder of links to photos works; anything else (folders, sockets, broken
// links) is skipped. A folder with no images is an error.
func ListImages(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	var out []string
	for _, e := range ents {
		if !imageExts[strings.ToLower(filepath.Ext(e.Name()))] {
			continue
		}
		regular := e.Type().IsRegular()
		if e.Type()&os.ModeSymlink != 0 {
			fi, err := os.Stat(filepath.Join(dir, e.Name()))
			regular = err == nil && fi.Mode().IsRegular()
		}
		if regular {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no images (.png, .jpg, .tif, .bmp, .webp)", dir)
	}
	return out, nil
}

// ReadFile decodes the image file at path (DecodeBytes), naming path in
// its errors: the command-line tools' one way to read a photo.
func ReadFile(path string) (*Image, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	img, _, err := DecodeBytes(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}
