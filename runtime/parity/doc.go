// Package parity checks this runtime against the PyTorch reference
// (tools/pyref): fixtures in testdata/ hold random-weight checkpoints in the
// authors' formats and the activations of a 3-step restore, and the tests
// compare every layer, so a mismatch names the layer. It is test code only:
// nothing ships from here.
package parity
