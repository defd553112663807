// Package backend defines the graph that the model compiles for one image
// size, the Backend interface that executes it (CPU in backend/cpu, WebGPU
// and Vulkan in backend/gpu), and the memory planner both share.
//
// A Graph is a straight list of ops over activation tensors of one image
// (planar C×H×W float32). It is built once per padded image size; running it
// for a diffusion step only needs the 6-channel input and the per-step time
// vector (every ResnetBlock's FiLM scale and shift, computed on the host).
package backend
