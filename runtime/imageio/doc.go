// Package imageio decodes photos into the planar float32 layout the
// restoration model consumes, and encodes results back to PNG or JPEG.
//
// An [Image] holds W×H pixels as three row-major planes (R, then G, then B)
// of float32 values in [0,1], plus an optional alpha plane that is present
// only when the source has at least one pixel that is not fully opaque.
// Colour is always stored straight (not premultiplied by alpha). Depth
// records whether the source had 8 or 16 bits per channel so that output
// can keep 16-bit precision.
//
// [DecodeBytes] understands JPEG, PNG (8/16-bit, palette, gray, gray+alpha),
// GIF (first frame), WebP, BMP and TIFF (including 16-bit and LZW). It reads
// the header first and refuses images that are empty ([ErrEmpty]) or larger
// than [MaxPixels] or [MaxSide] ([ErrTooLarge]) before any pixel memory is
// allocated, so a small malicious file cannot exhaust memory in the browser.
// JPEG EXIF orientation is applied, so W and H are the displayed size.
//
// Encoding quantizes with round(v*255) or round(v*65535) after clamping to
// [0,1]. JPEG has no alpha channel, so [Image.EncodeJPEG] composites
// translucent pixels over white, as a browser shows them on a white page.
//
// [EqualizeHist] reproduces OpenCV's cv2.equalizeHist per RGB channel
// on 8-bit quantized values, matching the Python reference pipeline.
package imageio
