// Command mkshard cuts training pairs for DiffUIR: random patches of clean
// photos and of the same photos degraded by tools/internal/degrade -- the very code
// 'diffuir eval' scores with -- into one binary shard that
// tools/train/train.py memory-maps.
//
//	go run ./tools/train/mkshard --photos data/photos/train --out data/shards/train.shard \
//	    --patches 12000 --size 96 [--seed 1] [--max-side 1024] [--per-image 8] [--tasks all] [--workers N]
//
// Each photo is decoded, reduced by area averaging so its long side is at
// most --max-side, and snapped to 8 bits. Then, group by group, one photo is
// degraded once with every task (seeded by --seed and the group number) and
// --per-image patches are cut from each result at random places, the clean
// patch from the same place. Photos are visited in a seeded random order that
// is reshuffled each round, so every photo sees every task equally often and
// the tasks are balanced to within one group.
//
// The degraded patch is what the network will see at run time: when the
// whole degraded photo is underexposed (restore.ShouldEqualize), it is
// histogram-equalized (imageio.EqualizeHist) as the runtime does with
// Equalize auto, and the pair's flag bit 0 is set.
//
// # Shard layout (version 1, little-endian)
//
//	0    8  magic "DUIRSHRD"
//	8    4  uint32 version (1)
//	12   4  uint32 header length L
//	16   L  JSON header: count, size, tasks, offsets, photos, seed, ...
//	...     zero padding; each array starts at a multiple of 4096:
//	        clean     count×3×size×size uint8 (NCHW, RGB)
//	        degraded  count×3×size×size uint8
//	        task      count uint8 (index into header.tasks = degrade.Tasks)
//	        flags     count uint8 (bit 0: input equalized)
//	        photo     count uint16 (index into header.photos)
//
// The output is the same bytes for the same arguments whatever --workers is.
package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/diffuir-web/diffuir/runtime/imageio"
	"github.com/diffuir-web/diffuir/runtime/restore"
	"github.com/diffuir-web/diffuir/tools/internal/degrade"
	"github.com/diffuir-web/diffuir/tools/internal/metrics"
	"github.com/diffuir-web/diffuir/tools/internal/synth"
)

const (
	magic   = "DUIRSHRD"
	version = 1
	align   = 4096
)

// Header is the JSON header of a shard.
type Header struct {
	Version   int              `json:"version"`
	Count     int              `json:"count"`
	Size      int              `json:"size"`
	Channels  int              `json:"channels"`
	Layout    string           `json:"layout"`
	Tasks     []string         `json:"tasks"`
	Offsets   map[string]int64 `json:"offsets"`
	Photos    []string         `json:"photos"`
	Seed      uint64           `json:"seed"`
	MaxSide   int              `json:"max_side"`
	PerImage  int              `json:"per_image"`
	Groups    int              `json:"groups"`
	TaskCount map[string]int   `json:"task_count"`
	Equalized int              `json:"equalized"`
	Equalize  string           `json:"equalize"`
	Darken    float64          `json:"darken,omitempty"`
	Producer  string           `json:"producer"`
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "mkshard:", err)
		os.Exit(1)
	}
}

type options struct {
	photos, out     string
	patches, size   int
	seed            uint64
	maxSide, perImg int
	tasks           []degrade.Task
	workers         int
	darken          float64
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mkshard", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.photos, "photos", "", "directory of clean training photos")
	fs.StringVar(&o.out, "out", "", "shard file to write")
	fs.IntVar(&o.patches, "patches", 0, "number of patch pairs")
	fs.IntVar(&o.size, "size", 96, "patch side in pixels")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the photo order, degradations and crops")
	fs.IntVar(&o.maxSide, "max-side", 1024, "reduce photos so the long side is at most this before cutting (0: keep)")
	fs.IntVar(&o.perImg, "per-image", 8, "patches cut from each degraded photo")
	tasks := fs.String("tasks", "all", "comma-separated degradations")
	fs.IntVar(&o.workers, "workers", runtime.NumCPU(), "parallel workers")
	fs.Float64Var(&o.darken, "darken", 0, "probability that a photo is darkened (x0.35-0.75, unless that would make the runtime equalize it) "+
		"before a task other than lowlight degrades it, the clean patch darkened alike: teaches that a dark photo is not necessarily an underexposed one")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if o.tasks, err = degrade.ParseTasks(*tasks); err != nil {
		return err
	}
	if o.photos == "" || o.out == "" || o.patches <= 0 || o.darken < 0 || o.darken > 1 || o.size < 16 || o.perImg <= 0 || o.workers <= 0 || o.size > 65535 {
		return errors.New("usage: mkshard --photos DIR --out FILE --patches N [--size S>=16] [--seed K] [--max-side N] [--per-image N] [--tasks LIST] [--workers N]")
	}
	return makeShard(o, stdout)
}

// photo is a decoded, reduced, 8-bit training photo (planar RGB).
type photo struct {
	name string
	w, h int
	pix  []uint8
}

// darkened is the photo with every value scaled by k, as an exposure change
// would (approximately, in sRGB).
func (p *photo) darkened(k float64) *photo {
	d := &photo{name: p.name, w: p.w, h: p.h, pix: make([]uint8, len(p.pix))}
	for i, v := range p.pix {
		d.pix[i] = uint8(float64(v)*k + 0.5)
	}
	return d
}

func (p *photo) image() *imageio.Image {
	img := &imageio.Image{W: p.w, H: p.h, Depth: 8, RGB: make([]float32, len(p.pix))}
	for i, v := range p.pix {
		img.RGB[i] = float32(v) / 255
	}
	return img
}

func loadPhotos(dir string, maxSide, size, workers int, log io.Writer) ([]*photo, error) {
	names, err := imageio.ListImages(dir)
	if err != nil {
		return nil, err
	}
	out := make([]*photo, len(names))
	errs := make([]error, len(names))
	parallel(len(names), workers, func(i int) {
		data, err := os.ReadFile(filepath.Join(dir, names[i]))
		if err != nil {
			errs[i] = err
			return
		}
		img, _, err := imageio.DecodeBytes(data)
		if err != nil {
			errs[i] = fmt.Errorf("%s: %w", names[i], err)
			return
		}
		img = degrade.Downscale(img, maxSide)
		p := &photo{name: names[i], w: img.W, h: img.H, pix: make([]uint8, len(img.RGB))}
		for k, v := range img.RGB {
			p.pix[k] = metrics.Quantize8(v)
		}
		out[i] = p
	})
	var kept []*photo
	for i, p := range out {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if p.w < size || p.h < size {
			fmt.Fprintf(log, "mkshard: skipping %s: %dx%d is smaller than the %d-pixel patches\n", p.name, p.w, p.h, size)
			continue
		}
		kept = append(kept, p)
	}
	if len(kept) == 0 {
		return nil, fmt.Errorf("%s: no usable photos", dir)
	}
	return kept, nil
}

// parallel runs f(0..n-1) on up to workers goroutines.
func parallel(n, workers int, f func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(workers, max(n, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// mix derives a seed from two numbers (SplitMix64 draws the photo order,
// the crop positions and the darkening too).
func mix(a, b uint64) uint64 {
	r := synth.SplitMix64(a*0xD1B54A32D192ED03 ^ b)
	return r.Next()
}

func alignUp(n int64) int64 { return (n + align - 1) / align * align }

func makeShard(o options, log io.Writer) error {
	start := time.Now()
	photos, err := loadPhotos(o.photos, o.maxSide, o.size, o.workers, log)
	if err != nil {
		return err
	}
	nt := len(o.tasks)
	perGroup := nt * o.perImg
	groups := (o.patches + perGroup - 1) / perGroup

	// Photo of each group: seeded shuffles of all photos, one after another.
	order := make([]int, 0, groups+len(photos))
	or := synth.SplitMix64(mix(o.seed, 0xA11CE))
	for len(order) < groups {
		perm := make([]int, len(photos))
		for i := range perm {
			perm[i] = i
		}
		for i := len(perm) - 1; i > 0; i-- {
			j := or.Intn(i + 1)
			perm[i], perm[j] = perm[j], perm[i]
		}
		order = append(order, perm...)
	}

	n, s := o.patches, o.size
	plane := int64(3 * s * s)
	h := Header{Version: version, Count: n, Size: s, Channels: 3, Layout: "NCHW uint8, RGB",
		Seed: o.seed, MaxSide: o.maxSide, PerImage: o.perImg, Groups: groups, TaskCount: map[string]int{},
		Equalize: "restore.ShouldEqualize on the whole degraded photo, then imageio.EqualizeHist (the runtime's Equalize auto)",
		Darken:   o.darken, Producer: "tools/train/mkshard"}
	for _, t := range degrade.Tasks {
		h.Tasks = append(h.Tasks, string(t))
	}
	for _, p := range photos {
		h.Photos = append(h.Photos, p.name)
	}
	// The header's length depends on the offsets; reserve generously.
	hdrRoom := alignUp(int64(16 + 4096 + 64*len(photos) + 1024))
	h.Offsets = map[string]int64{}
	off := hdrRoom
	for _, a := range []struct {
		name string
		size int64
	}{{"clean", int64(n) * plane}, {"degraded", int64(n) * plane}, {"task", int64(n)}, {"flags", int64(n)}, {"photo", 2 * int64(n)}} {
		h.Offsets[a.name] = off
		off = alignUp(off + a.size)
	}
	total := off

	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		return err
	}
	tmp := o.out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := f.Truncate(total); err != nil {
		f.Close()
		return err
	}

	var mu sync.Mutex
	var firstErr error
	taskIDs := make([]uint8, n)
	flags := make([]uint8, n)
	photoIDs := make([]uint16, n)
	done := 0
	parallel(groups, o.workers, func(g int) {
		first := g * perGroup
		if first >= n {
			return
		}
		orig := photos[order[g]]
		cr := synth.SplitMix64(mix(o.seed, uint64(g)<<8|0xC))
		dr := synth.SplitMix64(mix(o.seed, uint64(g)<<8|0xD))
		cbuf, dbuf := make([]byte, plane), make([]byte, plane)
		for ti, task := range o.tasks {
			p := orig
			if o.darken > 0 && task != degrade.LowLight && dr.Float() < o.darken {
				// not so dark that the runtime would equalize it: that case is a low-light photo's
				if d := orig.darkened(0.35 + 0.4*dr.Float()); !restore.ShouldEqualize(d.image()) {
					p = d
				}
			}
			deg, _, err := degrade.Apply(p.image(), task, mix(o.seed, uint64(g)))
			if err == nil {
				metrics.Snap8(deg)
			}
			eq := err == nil && restore.ShouldEqualize(deg)
			if eq {
				imageio.EqualizeHist(deg)
			}
			for k := range o.perImg {
				idx := first + ti*o.perImg + k
				if idx >= n || err != nil {
					break
				}
				x0, y0 := cr.Intn(p.w-s+1), cr.Intn(p.h-s+1)
				for c := range 3 {
					for y := range s {
						src := c*p.w*p.h + (y0+y)*p.w + x0
						dst := c*s*s + y*s
						copy(cbuf[dst:dst+s], p.pix[src:src+s])
						for x := range s {
							dbuf[dst+x] = metrics.Quantize8(deg.RGB[src+x])
						}
					}
				}
				if _, werr := f.WriteAt(cbuf, h.Offsets["clean"]+int64(idx)*plane); werr != nil {
					err = werr
				} else if _, werr := f.WriteAt(dbuf, h.Offsets["degraded"]+int64(idx)*plane); werr != nil {
					err = werr
				}
				taskIDs[idx] = uint8(task.ID())
				photoIDs[idx] = uint16(order[g])
				if eq {
					flags[idx] = 1
				}
			}
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				return
			}
		}
		mu.Lock()
		done++
		if done%max(1, groups/10) == 0 || done == groups {
			fmt.Fprintf(log, "mkshard: %d/%d groups (%s)\n", done, groups, time.Since(start).Round(time.Second))
		}
		mu.Unlock()
	})
	if firstErr != nil {
		f.Close()
		return firstErr
	}
	for i := range n {
		h.TaskCount[string(degrade.Tasks[taskIDs[i]])]++
		if flags[i]&1 != 0 {
			h.Equalized++
		}
	}
	photoBytes := make([]byte, 2*n)
	for i, v := range photoIDs {
		binary.LittleEndian.PutUint16(photoBytes[2*i:], v)
	}
	hj, err := json.Marshal(h)
	if err != nil {
		f.Close()
		return err
	}
	if int64(16+len(hj)) > hdrRoom {
		f.Close()
		return fmt.Errorf("header of %d bytes does not fit its %d-byte room", len(hj), hdrRoom)
	}
	pre := make([]byte, 16, 16+len(hj))
	copy(pre, magic)
	binary.LittleEndian.PutUint32(pre[8:], version)
	binary.LittleEndian.PutUint32(pre[12:], uint32(len(hj)))
	for _, w := range []struct {
		b   []byte
		off int64
	}{{append(pre, hj...), 0}, {taskIDs, h.Offsets["task"]}, {flags, h.Offsets["flags"]}, {photoBytes, h.Offsets["photo"]}} {
		if _, err := f.WriteAt(w.b, w.off); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, o.out); err != nil {
		return err
	}
	counts := make([]string, 0, len(h.TaskCount))
	for _, t := range degrade.Tasks {
		if c, ok := h.TaskCount[string(t)]; ok {
			counts = append(counts, fmt.Sprintf("%s %d", t, c))
		}
	}
	fmt.Fprintf(log, "mkshard: wrote %s: %d pairs of %dx%d from %d photos (%s; %d equalized), %.1f MB in %s\n",
		o.out, n, s, s, len(photos), strings.Join(counts, ", "), h.Equalized, float64(total)/1e6, time.Since(start).Round(100*time.Millisecond))
	return nil
}
