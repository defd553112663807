// Package tile splits an image that is too large for one model pass into
// overlapping tiles and blends the processed tiles back without seams.
//
// [Plan] lays out a grid of equally sized tiles (at most size×size) whose
// neighbours overlap by at least the requested number of pixels. A
// [Blender] then accumulates each processed tile with a separable weight
// that is 1 in the tile interior and falls along a raised cosine to a small
// positive value across the overlap band on every side that has a
// neighbour, so a tile's less reliable border fades into the next tile and
// differences between tiles turn into a gradual transition. Sides without
// a neighbour (the image border) keep weight 1. The result is the weighted
// sum divided by the sum of weights.
//
// Data is planar float32, C×H×W, like the rest of the runtime.
package tile
