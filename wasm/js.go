//go:build js && wasm

package main

import (
	"context"
	"errors"
	"fmt"
	"syscall/js"

	"github.com/norunners/vert"

	"github.com/diffuir-web/diffuir/runtime/imageio"
	"github.com/diffuir-web/diffuir/runtime/restore"
)

// Small helpers around syscall/js: Promises out, a turn of the event loop,
// bytes both ways, options in, and the protocol's error codes.

var (
	jsPromise    = js.Global().Get("Promise")
	jsError      = js.Global().Get("Error")
	jsUint8Array = js.Global().Get("Uint8Array")
)

// promise runs fn in a new goroutine and returns a Promise of its result
// (a panic rejects it too). Blocking inside a js.FuncOf callback deadlocks
// the runtime, so every exported call returns at once and works here.
func promise(fn func() (any, error)) js.Value {
	var executor js.Func
	executor = js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject := args[0], args[1]
		executor.Release()
		go func() {
			defer func() {
				if r := recover(); r != nil {
					reject.Invoke(toJSError(fmt.Errorf("internal error: %v", r)))
				}
			}()
			v, err := fn()
			if err != nil {
				reject.Invoke(toJSError(err))
				return
			}
			resolve.Invoke(v)
		}()
		return nil
	})
	return jsPromise.New(executor)
}

// yield gives the JS event loop a turn, so messages (a cancel) that arrived
// during a long computation are delivered. Go's wasm port has one thread:
// while a goroutine computes, nothing else in the worker runs. The worker's
// diffuirYield (a MessageChannel round trip) is quicker than setTimeout's
// clamped delay.
func yield() {
	done := make(chan struct{})
	f := js.FuncOf(func(js.Value, []js.Value) any { close(done); return nil })
	defer f.Release()
	if y := js.Global().Get("diffuirYield"); y.Type() == js.TypeFunction {
		y.Invoke().Call("then", f, f)
	} else {
		js.Global().Call("setTimeout", f, 0)
	}
	<-done
}

// bytesFrom copies a Uint8Array (or ArrayBuffer) into Go memory.
func bytesFrom(v js.Value) ([]byte, error) {
	if v.InstanceOf(js.Global().Get("ArrayBuffer")) {
		v = jsUint8Array.New(v)
	}
	if !v.InstanceOf(jsUint8Array) {
		return nil, errBadRequest.with("expected a Uint8Array or ArrayBuffer")
	}
	b := make([]byte, v.Get("length").Int())
	js.CopyBytesToGo(b, v)
	return b, nil
}

// bytesTo copies b into a new Uint8Array.
func bytesTo(b []byte) js.Value {
	u := jsUint8Array.New(len(b))
	js.CopyBytesToJS(u, b)
	return u
}

// arg is args[i], or undefined.
func arg(args []js.Value, i int) js.Value {
	if i < len(args) {
		return args[i]
	}
	return js.Undefined()
}

// intArg is args[i] as an int, or -1 when it is no number.
func intArg(args []js.Value, i int) int {
	if v := arg(args, i); v.Type() == js.TypeNumber {
		return v.Int()
	}
	return -1
}

// decode fills an options struct from a JS object; undefined leaves it zero.
func decode(v js.Value, dst any) error {
	if v.Type() != js.TypeObject {
		return nil
	}
	if err := vert.ValueOf(v).AssignTo(dst); err != nil {
		return errBadRequest.with("options: %v", err)
	}
	return nil
}

// object makes a JS object from key, value pairs.
func object(kv ...any) js.Value {
	o := js.Global().Get("Object").New()
	for i := 0; i+1 < len(kv); i += 2 {
		o.Set(kv[i].(string), kv[i+1])
	}
	return o
}

// code is one of the protocol's error codes (site/PROTOCOL.md lists them
// all, including the ones only the worker's JavaScript raises).
type code string

const (
	errBadRequest code = "E_BAD_REQUEST"
	errDecode     code = "E_IMAGE_DECODE"
	errBackend    code = "E_BACKEND"
)

// codedError is an error the bridge raises itself, with its code.
type codedError struct {
	code code
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

// with makes an error of code c; %w in format wraps as fmt.Errorf does.
func (c code) with(format string, args ...any) error {
	return &codedError{code: c, err: fmt.Errorf(format, args...)}
}

// codes maps the runtime's sentinel errors to protocol codes, first match wins.
var codes = []struct {
	err  error
	code code
}{
	{context.Canceled, "E_CANCELLED"},
	{restore.ErrBudget, errBadRequest},
	{restore.ErrBackendName, errBadRequest},
	{restore.ErrOption, errBadRequest},
	{restore.ErrNoModel, "E_NO_MODEL"},
	{imageio.ErrOutput, errBadRequest},
	{imageio.ErrTooLarge, "E_IMAGE_TOO_LARGE"},
	{imageio.ErrEmpty, "E_IMAGE_EMPTY"},
	{imageio.ErrUnsupported, errDecode},
	{restore.ErrModelCorrupt, "E_MODEL_CORRUPT"},
	{restore.ErrModelInvalid, "E_MODEL_INVALID"},
}

// toJSError makes an Error whose code property is the error's protocol code.
func toJSError(err error) js.Value {
	c, msg := code("E_INTERNAL"), err.Error()
	var ce *codedError
	if errors.As(err, &ce) {
		c = ce.code
	} else {
		for _, k := range codes {
			if errors.Is(err, k.err) {
				c = k.code
				break
			}
		}
	}
	if c == "E_CANCELLED" {
		msg = "cancelled"
	}
	e := jsError.New(msg)
	e.Set("code", string(c))
	return e
}
