// Package sampler holds DiffUIR's residual-diffusion schedules and the
// deterministic (DDIM, eta = 0) test-time sampler update. It knows nothing
// of the network: the caller supplies the UNet output for each step.
package sampler
