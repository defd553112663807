// Package backendtest checks every backend against the plain Go reference
// (runtime/ref) with one table of ops at odd sizes (Ops), as ggml's
// test-backend-ops does, and holds what the backends' tests share:
// in-memory Weights, graphs whose inputs the test sets (Graph) and Compare.
// Only tests import it.
package backendtest
