package bundle

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
)

// File is one entry of an archive.
type File struct {
	Name string // a plain file name: no folders, no ".." (see Zip)
	Data []byte
}

// ErrBadName reports an entry name that is empty, has a folder part, or
// repeats an earlier one.
var ErrBadName = errors.New("bad file name for the archive")

// Zip writes files, in order, into one zip archive stamped with modified.
// Names must be plain, distinct file names: an archive that unpacks
// outside the folder it is unpacked into ("zip slip") is never made.
func Zip(files []File, modified time.Time) ([]byte, error) {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	seen := map[string]bool{}
	for _, f := range files {
		if f.Name == "" || f.Name != path.Base(f.Name) || strings.ContainsAny(f.Name, `/\:`) || f.Name == "." || f.Name == ".." {
			return nil, fmt.Errorf("bundle: %q: %w", f.Name, ErrBadName)
		}
		if seen[f.Name] {
			return nil, fmt.Errorf("bundle: %q twice: %w", f.Name, ErrBadName)
		}
		seen[f.Name] = true
		hw, err := w.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Store, Modified: modified})
		if err != nil {
			return nil, fmt.Errorf("bundle: %s: %w", f.Name, err)
		}
		if _, err := hw.Write(f.Data); err != nil {
			return nil, fmt.Errorf("bundle: %s: %w", f.Name, err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	return buf.Bytes(), nil
}
