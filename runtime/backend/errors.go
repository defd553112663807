package backend

import "errors"

// Failure classes every backend reports (wrapped) so callers can recover
// without knowing which backend they hold: restore retries ErrLimits and
// ErrOutOfMemory with smaller tiles and falls back to the CPU on
// ErrDeviceLost.
var (
	// ErrDeviceLost: the device was lost (driver reset, GPU removed, a hung
	// submission). The backend is unusable afterwards.
	ErrDeviceLost = errors.New("GPU device lost")
	// ErrOutOfMemory: the device could not allocate a buffer.
	ErrOutOfMemory = errors.New("GPU out of memory")
	// ErrLimits: the graph needs more than the device allows (a tensor beyond
	// the largest buffer binding, a grid beyond the dispatch limits).
	// Smaller tiles fit.
	ErrLimits = errors.New("beyond the GPU adapter's limits")
)
