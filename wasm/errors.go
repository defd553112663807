//go:build js && wasm

package main

import (
	"context"
	"errors"
	"strings"

	"github.com/diffuir-web/diffuir/runtime/imageio"
	"github.com/diffuir-web/diffuir/runtime/restore"
	"github.com/diffuir-web/diffuir/runtime/weights"
)

// Error codes of the worker protocol (site/PROTOCOL.md lists them all,
// including the ones only the worker's JavaScript raises).
const (
	ErrBadRequest    = "E_BAD_REQUEST"
	ErrNoModel       = "E_NO_MODEL"
	ErrModelCorrupt  = "E_MODEL_CORRUPT"
	ErrModelInvalid  = "E_MODEL_INVALID"
	ErrImageDecode   = "E_IMAGE_DECODE"
	ErrImageTooLarge = "E_IMAGE_TOO_LARGE"
	ErrImageEmpty    = "E_IMAGE_EMPTY"
	ErrNoResult      = "E_NO_RESULT"
	ErrCancelled     = "E_CANCELLED"
	ErrBackend       = "E_BACKEND"
	ErrInternal      = "E_INTERNAL"
)

// codedError carries a protocol code and a message meant for people.
type codedError struct {
	Code string
	Msg  string
	Err  error
}

func (e *codedError) Error() string { return e.Msg }
func (e *codedError) Unwrap() error { return e.Err }

func coded(code, msg string, err error) error { return &codedError{Code: code, Msg: msg, Err: err} }

// classify maps any error to a codedError.
func classify(err error) *codedError {
	var ce *codedError
	if errors.As(err, &ce) {
		return ce
	}
	msg := err.Error()
	switch {
	case errors.Is(err, context.Canceled):
		return &codedError{Code: ErrCancelled, Msg: "cancelled", Err: err}
	case errors.Is(err, restore.ErrBudget):
		return &codedError{Code: ErrBadRequest, Msg: msg, Err: err}
	case errors.Is(err, imageio.ErrTooLarge):
		return &codedError{Code: ErrImageTooLarge, Msg: msg, Err: err}
	case errors.Is(err, imageio.ErrEmpty):
		return &codedError{Code: ErrImageEmpty, Msg: msg, Err: err}
	case errors.Is(err, imageio.ErrUnsupported):
		return &codedError{Code: ErrImageDecode, Msg: msg, Err: err}
	case errors.Is(err, weights.ErrNotPack), errors.Is(err, weights.ErrChecksum):
		return &codedError{Code: ErrModelCorrupt, Msg: msg, Err: err}
	case strings.HasPrefix(msg, "pack:"), strings.HasPrefix(msg, "config:"), strings.HasPrefix(msg, "convert:"):
		return &codedError{Code: ErrModelInvalid, Msg: msg, Err: err}
	}
	return &codedError{Code: ErrInternal, Msg: msg, Err: err}
}
