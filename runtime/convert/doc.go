// Package convert turns DiffUIR checkpoints into weight packs (package
// weights). It works on bytes, not file names, so the same code runs in the
// browser on a dropped .pt file.
//
// # Inputs
//
//   - torch.save zip checkpoints (torch >= 1.6), read without Python: the
//     zip is opened over the bytes, data.pkl is unpickled with gopickle and
//     tensor storages are decoded lazily (FloatStorage, HalfStorage,
//     BFloat16Storage, DoubleStorage; any storage offset and stride). The
//     zip root folder may have any name, storages may be tagged cuda:N.
//   - safetensors files (F64, F32, F16, BF16).
//   - either of those gzip-compressed.
//
// Legacy (pre-1.6, non-zip) torch files and TorchScript archives are
// rejected with a message saying how to re-save them.
//
// # Which weights
//
// Nested dicts are flattened to dotted keys. The UNet is looked up under the
// first of these prefixes that has an init_conv.weight:
//
//	ema.ema_model.model.unet0.   Trainer checkpoint {'step','model','opt0','ema','scaler'}: EMA weights
//	ema.ema_model.unet0.         older ema-pytorch layout
//	model.model.unet0.           Trainer checkpoint without usable EMA (online weights)
//	model.unet0., unet0., module., (none)   bare state_dicts
//	<anything>unet0.             if exactly one such UNet exists (e.g. DataParallel "module.model.unet0.")
//
// Schedule buffers, online_model.*, optimizer and scaler state are ignored.
// Under a prefix ending in "unet0." every key must belong to the UNet;
// under the others, keys whose first component is a UNet submodule
// (init_conv, downs, ...) must. The size is inferred from shapes (dim from
// init_conv.weight, one multiplier per level from downs.{i}.3.weight) and
// must be one of the official T, S, B, L; then every tensor of
// model.ParamSpecs must be present with exactly its shape, be a float
// tensor and hold only finite values.
//
// # What is stored
//
// Tensors are named by their key relative to the UNet, in ParamSpecs order.
// WeightStandardizedConv2d weights are standardized at conversion (per
// output channel, (w-mean)/sqrt(var_biased+1e-5), computed in float64 and
// rounded once to float32) and the pack's FlagStandardized is set. Conv and
// linear weights are stored as Options.DType (DefaultOptions: F16; a value
// that overflows f16 is an error), vectors always as F32.
//
// # Safety
//
// Inputs are untrusted: sizes named in headers and pickles are checked
// against the bytes present before anything is allocated, pickle opcodes
// are pre-scanned, and panics inside gopickle become errors.
package convert
