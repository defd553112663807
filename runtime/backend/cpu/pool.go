package cpu

import (
	"sync"
	"sync/atomic"
)

// task is a unit of parallel work over an index range. Ops implement it
// with pointer receivers, so handing one to the pool never allocates.
type task interface{ run(lo, hi int) }

// pool runs tasks on a fixed set of goroutines started once per program,
// so a diffusion step spawns nothing and allocates nothing.
type pool struct {
	workers int
	wake    []chan struct{}
	wg      sync.WaitGroup
	cur     task
	n       int
	chunk   int
	next    atomic.Int64
	quit    chan struct{}
}

func newPool(workers int) *pool {
	p := &pool{workers: max(workers, 1), quit: make(chan struct{})}
	for i := 1; i < p.workers; i++ {
		c := make(chan struct{})
		p.wake = append(p.wake, c)
		go p.loop(c)
	}
	return p
}

func (p *pool) loop(wake chan struct{}) {
	for {
		select {
		case <-wake:
			p.drain()
			p.wg.Done()
		case <-p.quit:
			return
		}
	}
}

// drain takes chunks until none are left.
func (p *pool) drain() {
	for {
		lo := int(p.next.Add(int64(p.chunk))) - p.chunk
		if lo >= p.n {
			return
		}
		p.cur.run(lo, min(lo+p.chunk, p.n))
	}
}

// parallel runs t over [0, n) in chunks of at least grain indices, on every
// worker and the calling goroutine, and returns when all are done.
func (p *pool) parallel(n, grain int, t task) {
	if n <= 0 {
		return
	}
	chunks := min(p.workers*4, (n+grain-1)/max(grain, 1))
	if p.workers == 1 || chunks <= 1 {
		t.run(0, n)
		return
	}
	p.cur, p.n, p.chunk = t, n, (n+chunks-1)/chunks
	p.next.Store(0)
	p.wg.Add(len(p.wake))
	for _, c := range p.wake {
		c <- struct{}{}
	}
	p.drain()
	p.wg.Wait()
	p.cur = nil
}

func (p *pool) close() {
	close(p.quit)
}
