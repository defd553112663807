// Command score scores the MAXIM peer's outputs (tools/peer/maxim/run.sh) with
// the project's metrics (tools/internal/metrics: BasicSR Y-channel PSNR and
// SSIM on 8-bit images, as 'diffuir eval' reports them), per task, beside the
// inputs' scores, and the seconds per image from maxim-times.json.
//
//	go run ./tools/peer/maxim/score --dir DIR [--family heldout] [--json]
//
// Where the eval also saved its own restorations (NAME-[FAMILY-]TASK-out.png),
// they are scored on the same images in the last columns.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/diffuir-web/diffuir/runtime/imageio"
	"github.com/diffuir-web/diffuir/tools/internal/metrics"
)

type row struct {
	Task     string  `json:"task"`
	N        int     `json:"n"`
	PSNRIn   float64 `json:"psnr_in"`
	PSNROut  float64 `json:"psnr_out"`
	PSNRGain float64 `json:"psnr_gain"`
	SSIMIn   float64 `json:"ssim_in"`
	SSIMOut  float64 `json:"ssim_out"`
	Seconds  float64 `json:"seconds_per_image"`
	// Ours: the restorations 'diffuir eval --save' wrote beside the inputs
	// (NAME-[FAMILY-]TASK-out.png), scored on the same images; 0 when absent.
	OursN       int     `json:"ours_n"`
	OursPSNROut float64 `json:"ours_psnr_out"`
	OursGain    float64 `json:"ours_psnr_gain"`
	OursSSIMOut float64 `json:"ours_ssim_out"`
}

func main() {
	dir := flag.String("dir", "", "directory with NAME-clean.png, NAME-[FAMILY-]TASK-in.png and NAME-[FAMILY-]TASK-maxim.png")
	family := flag.String("family", "heldout", "recipe family of the inputs (train: no prefix)")
	asJSON := flag.Bool("json", false, "print JSON")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "usage: score --dir DIR [--family heldout] [--json]")
		os.Exit(2)
	}
	tag := *family + "-"
	if *family == "train" {
		tag = ""
	}
	var times struct {
		Images []struct {
			Photo, Task string
			Seconds     float64
		}
	}
	if b, err := os.ReadFile(filepath.Join(*dir, "maxim-times.json")); err == nil {
		_ = json.Unmarshal(b, &times)
	}
	sec := map[string]float64{}
	for _, t := range times.Images {
		sec[t.Photo+"/"+t.Task] = t.Seconds
	}
	outs, _ := filepath.Glob(filepath.Join(*dir, "*-"+tag+"*-maxim.png"))
	sort.Strings(outs)
	rows := map[string]*row{}
	var order []string
	for _, o := range outs {
		base := strings.TrimSuffix(filepath.Base(o), "-maxim.png")
		i := strings.LastIndex(base, "-"+tag)
		if i < 0 {
			continue
		}
		name, task := base[:i], base[i+1+len(tag):]
		clean, err1 := imageio.ReadFile(filepath.Join(*dir, name+"-clean.png"))
		in, err2 := imageio.ReadFile(filepath.Join(*dir, base+"-in.png"))
		out, err3 := imageio.ReadFile(o)
		if err1 != nil || err2 != nil || err3 != nil {
			fmt.Fprintln(os.Stderr, "score:", base, err1, err2, err3)
			os.Exit(1)
		}
		r := rows[task]
		if r == nil {
			r = &row{Task: task}
			rows[task] = r
			order = append(order, task)
		}
		pi, _ := metrics.PSNR(in, clean)
		po, _ := metrics.PSNR(out, clean)
		si, _ := metrics.SSIM(in, clean)
		so, _ := metrics.SSIM(out, clean)
		r.N++
		r.PSNRIn += metrics.Capped(pi)
		r.PSNROut += metrics.Capped(po)
		r.SSIMIn += si
		r.SSIMOut += so
		r.Seconds += sec[name+"/"+task]
		if ours, err := imageio.ReadFile(filepath.Join(*dir, base+"-out.png")); err == nil {
			p, _ := metrics.PSNR(ours, clean)
			ss, _ := metrics.SSIM(ours, clean)
			r.OursN++
			r.OursPSNROut += metrics.Capped(p)
			r.OursGain += metrics.Capped(p) - metrics.Capped(pi)
			r.OursSSIMOut += ss
		}
	}
	want := []string{"haze", "lowlight", "rain", "snow", "blur"}
	sort.SliceStable(order, func(a, b int) bool { return idx(want, order[a]) < idx(want, order[b]) })
	var list []row
	for _, t := range order {
		r := *rows[t]
		k := float64(r.N)
		r.PSNRIn, r.PSNROut, r.SSIMIn, r.SSIMOut, r.Seconds = r.PSNRIn/k, r.PSNROut/k, r.SSIMIn/k, r.SSIMOut/k, r.Seconds/k
		r.PSNRGain = r.PSNROut - r.PSNRIn
		if r.OursN > 0 {
			k := float64(r.OursN)
			r.OursPSNROut, r.OursGain, r.OursSSIMOut = r.OursPSNROut/k, r.OursGain/k, r.OursSSIMOut/k
		}
		list = append(list, r)
	}
	if *asJSON {
		e := json.NewEncoder(os.Stdout)
		e.SetIndent("", "  ")
		_ = e.Encode(list)
		return
	}
	fmt.Printf("%-9s %3s  %8s %8s %7s  %7s %7s  %7s  %s\n", "task", "n", "PSNR in", "PSNR out", "gain", "SSIM in", "SSIM out", "s/image", "ours on the same images: n, PSNR out, gain, SSIM out")
	for _, r := range list {
		fmt.Printf("%-9s %3d  %8.2f %8.2f %+7.2f  %7.4f %7.4f  %7.1f", r.Task, r.N, r.PSNRIn, r.PSNROut, r.PSNRGain, r.SSIMIn, r.SSIMOut, r.Seconds)
		if r.OursN > 0 {
			fmt.Printf("  %d %8.2f %+7.2f %7.4f", r.OursN, r.OursPSNROut, r.OursGain, r.OursSSIMOut)
		}
		fmt.Println()
	}
}

func idx(v []string, s string) int {
	for i, x := range v {
		if x == s {
			return i
		}
	}
	return len(v)
}
