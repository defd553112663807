// Package model builds the DiffUIR UNet for a weight pack: the list of its
// parameters (named as the authors' state_dict), the compute graph for one
// padded image size, and the host-side time embedding that turns a diffusion
// time into every ResnetBlock's FiLM scale and shift.
package model
