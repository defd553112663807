// Package weights defines the DiffUIR weight pack: a single self-describing
// file holding a model Config and the UNet tensors, laid out so that every
// tensor can be uploaded to a GPU buffer as is. It is the format leaf of the
// runtime and imports nothing else of this module.
//
// # Byte layout (version 2)
//
// All integers are little-endian; strings are a uint16 byte length followed
// by that many bytes of UTF-8 (no terminator).
//
//	offset  size   field
//	0       8      magic "DUIRPACK"
//	8       4      uint32 format version (2; version 1 is read too, see below)
//	12      4      uint32 header size H: bytes from offset 0 to the end of the tensor table
//	16      32     SHA-256 of bytes [48, file size): everything after this field
//	48      8      uint64 file size (the exact length of the file)
//	56      8      uint64 data offset D = H rounded up to a multiple of 256
//	64      4      uint32 flags (bit 0: conv weights are stored weight-standardized)
//	68      4      uint32 tensor count N
//	72      ...    config:
//	               string  name
//	               uint32  dim, groups, heads, dim_head, timesteps, default_steps
//	               float32 delta_end
//	               float32 norm_eps (epsilon of the channel LayerNorm)
//	               float32 group_eps (epsilon of the GroupNorms; version 3)
//	               uint32  level count L, then L x uint32 mults
//	...     ...    tensor table, N entries:
//	               string  name (the state_dict key relative to the UNet, e.g. "init_conv.weight")
//	               uint8   dtype (0 = f32, 1 = f16)
//	               uint8   rank R (0..4)
//	               R x uint32 dims, outermost first (row-major, PyTorch order)
//	               uint64  offset of the tensor's bytes, relative to D
//	               uint64  size in bytes (= product(dims) * dtype size)
//	H       D-H    zero padding
//	D       ...    tensor data: each tensor at a multiple of 256 from D (so
//	               absolutely 256-aligned), zero padding between tensors, the
//	               file ends right after the last tensor's bytes
//
// Version 1 is version 2 without norm_eps; readers take it as 1e-5
// (DefaultNormEps), the value the authors' float32 weights use. Version 2
// exists because weights trained under half-precision autocast learned the
// authors' half-precision epsilon, 1e-3, and run wrongly with any other.
// Version 3 adds group_eps, so the GroupNorms' epsilon travels like the
// LayerNorm's; versions 1 and 2 read as 1e-5 (DefaultGroupEps), PyTorch's
// GroupNorm default, which every earlier pack was made and run with.
//
// Pack.Data returns the data section for a single GPU buffer upload; each
// tensor then binds at its Offset, which meets WebGPU's 256-byte
// minStorageBufferOffsetAlignment. Pack.Raw returns one tensor's bytes.
//
// The hash covers the config, the table, all padding and all data; the
// fields before it (magic, version, header size) are checked exactly by the
// parser instead. Open verifies it; ReadHeader does not, so a loader can
// validate a header from the first bytes of a download.
//
// # Validation limits
//
// ReadHeader rejects, before allocating anything proportional to it: a
// header larger than MaxHeaderSize (2 MiB) or than the file; more than
// MaxTensors (4096) tensors or more than fit in the header; names empty,
// longer than MaxNameLen (256) bytes, not UTF-8 or duplicated; rank above 4;
// dims of 0 or above 2^31-1; element counts that cannot fit in the data
// section; sizes that disagree with dtype x element count; offsets not a
// multiple of 256, not strictly after the previous tensor's end (the table
// is in file order and tensors never overlap) or running past the file;
// unknown dtypes or flag bits; a config that fails Config.Validate; a file
// size field that differs from the actual size (truncation, trailing bytes).
//
// # Conventions
//
// Matrices (conv and linear weights) may be stored as f16; the converter
// keeps vectors (biases, norm parameters) in f32. F32ToF16 rounds to nearest
// even with correct subnormals, overflow to Inf and NaN propagation;
// F16ToF32 is exact. Packs written by Marshal always carry FlagStandardized:
// WeightStandardizedConv2d weights were standardized at conversion time.
package weights
