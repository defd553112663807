package cpu

import (
	"flag"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/diffuir-web/diffuir/runtime/model"
	"github.com/diffuir-web/diffuir/runtime/weights"
)

// BenchmarkPassByOp times one Tiny UNet pass at 256x256 op by op and logs
// the time per op kind (-v), to see where a pass goes on this build and
// kernel; in the browser's wasm:
//
//	GOOS=js GOARCH=wasm go test -tags simd128 -exec "$PWD/tools/wasmsimd/node_exec.sh" \
//	  -run - -bench PassByOp -benchtime 2x -v ./runtime/backend/cpu/
var byLayer = flag.Bool("pass.layers", false, "BenchmarkPassByOp: one line per convolution shape")

func BenchmarkPassByOp(b *testing.B) {
	cfg := weights.Tiny
	m, err := model.FromTensors(cfg, model.RandomWeights(cfg, 1, weights.F16))
	if err != nil {
		b.Fatal(err)
	}
	g, err := m.Graph(256, 256)
	if err != nil {
		b.Fatal(err)
	}
	be := &Backend{Threads: 1}
	prog, err := be.Compile(g, m.Params, false)
	if err != nil {
		b.Fatal(err)
	}
	defer prog.Close()
	p := prog.(*program)
	by := map[string]time.Duration{}
	calls := map[string]int{}
	macs := map[string]float64{} // multiply-adds of the convolutions
	for b.Loop() {
		for _, ph := range p.phases {
			t0 := time.Now()
			p.pool.parallel(ph.n, ph.grain, ph.t)
			k := strings.TrimPrefix(fmt.Sprintf("%T", ph.t), "*cpu.")
			if c, ok := ph.t.(*convTask); ok {
				sp := c.pc.spec
				k = fmt.Sprintf("conv%dx%d", sp.K, sp.K)
				if *byLayer {
					k = fmt.Sprintf("conv%dx%d s%d %d-%d %dx%d res%v cat%v", sp.K, sp.K, sp.Stride, sp.Cin, sp.Cout, c.w, c.h, c.res != nil, c.b != nil)
				}
				ho, wo := c.pc.OutSize(c.h, c.w)
				macs[k] += float64(ho * wo * sp.Cin * sp.Cout * sp.K * sp.K)
			}
			by[k] += time.Since(t0)
			calls[k]++
		}
	}
	var keys []string
	var total time.Duration
	for k, d := range by {
		keys = append(keys, k)
		total += d
	}
	sort.Slice(keys, func(i, j int) bool { return by[keys[i]] > by[keys[j]] })
	for _, k := range keys {
		rate := ""
		if macs[k] > 0 {
			rate = fmt.Sprintf(" %5.2f GMAC/s", macs[k]/by[k].Seconds()/1e9)
		}
		b.Logf("%-16s %2dx %8.1f ms/pass %5.1f%%%s", k, calls[k]/b.N, float64(by[k].Microseconds())/1e3/float64(b.N), 100*float64(by[k])/float64(total), rate)
	}
	b.Logf("%s: %.1f ms/pass", KernelName(), float64(total.Microseconds())/1e3/float64(b.N))
}
