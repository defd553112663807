package backend

import "sort"

// MemoryPlan assigns every tensor of a graph to a slot so that tensors whose
// lifetimes do not overlap share memory. Slot sizes are in float32 values.
type MemoryPlan struct {
	Slot  []int // tensor ID -> slot index
	Sizes []int // slot index -> capacity in values
}

// Total is the planned memory in float32 values.
func (p *MemoryPlan) Total() int {
	n := 0
	for _, s := range p.Sizes {
		n += s
	}
	return n
}

// PlanMemory computes a greedy best-fit plan. Tensors in pinned (the input,
// the output, taps) live for the whole pass. An op's output never shares a
// slot with its own inputs, so kernels may assume no aliasing.
func (g *Graph) PlanMemory(pinned []Tensor) *MemoryPlan {
	n := len(g.Tensors)
	last := make([]int, n)
	for i := range last {
		last[i] = -1
	}
	for i, op := range g.Ops {
		for _, t := range op.Inputs() {
			last[t.ID] = i
		}
	}
	forever := len(g.Ops)
	for _, t := range pinned {
		last[t.ID] = forever
	}
	plan := &MemoryPlan{Slot: make([]int, n)}
	for i := range plan.Slot {
		plan.Slot[i] = -1
	}
	var free []int // slot indices, sorted by size
	take := func(size int) int {
		j := sort.Search(len(free), func(k int) bool { return plan.Sizes[free[k]] >= size })
		if j < len(free) {
			s := free[j]
			free = append(free[:j], free[j+1:]...)
			return s
		}
		if len(free) > 0 { // grow the largest free slot rather than add one
			s := free[len(free)-1]
			free = free[:len(free)-1]
			plan.Sizes[s] = size
			return s
		}
		plan.Sizes = append(plan.Sizes, size)
		return len(plan.Sizes) - 1
	}
	release := func(s int) {
		j := sort.Search(len(free), func(k int) bool { return plan.Sizes[free[k]] >= plan.Sizes[s] })
		free = append(free, 0)
		copy(free[j+1:], free[j:])
		free[j] = s
	}
	plan.Slot[g.Input.ID] = take(g.Input.Len())
	for i, op := range g.Ops {
		out := op.Output()
		if plan.Slot[out.ID] < 0 {
			plan.Slot[out.ID] = take(out.Len())
		}
		for _, t := range op.Inputs() {
			if last[t.ID] == i && plan.Slot[t.ID] >= 0 {
				release(plan.Slot[t.ID])
				plan.Slot[t.ID] = -2 - plan.Slot[t.ID] // released: keep the slot recoverable
			}
		}
		if last[out.ID] < i+1 && out.ID != g.Output.ID { // written but never read
			release(plan.Slot[out.ID])
			plan.Slot[out.ID] = -2 - plan.Slot[out.ID]
		}
	}
	for i, s := range plan.Slot {
		if s <= -2 {
			plan.Slot[i] = -2 - s
		}
	}
	return plan
}
