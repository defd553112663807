//go:build js && wasm

package main

import (
	"errors"
	"fmt"
	"syscall/js"
)

// Small helpers around syscall/js: Promises out, Promises in, bytes both ways.

var (
	jsPromise    = js.Global().Get("Promise")
	jsError      = js.Global().Get("Error")
	jsUint8Array = js.Global().Get("Uint8Array")
)

// promise runs fn in a new goroutine and returns a Promise of its result.
// Blocking inside a js.FuncOf callback deadlocks the runtime, so every
// exported call returns at once and works here.
func promise(fn func() (any, error)) js.Value {
	var executor js.Func
	executor = js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject := args[0], args[1]
		executor.Release()
		go func() {
			var (
				v   any
				err error
			)
			func() {
				defer func() {
					if r := recover(); r != nil {
						err = &codedError{Code: ErrInternal, Msg: fmt.Sprintf("internal error: %v", r)}
					}
				}()
				v, err = fn()
			}()
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

// await blocks the calling goroutine (never a callback) until p settles.
func await(p js.Value) (js.Value, error) {
	done := make(chan struct{})
	var (
		res js.Value
		err error
	)
	onOK := js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) > 0 {
			res = args[0]
		}
		close(done)
		return nil
	})
	onErr := js.FuncOf(func(_ js.Value, args []js.Value) any {
		msg := "promise rejected"
		if len(args) > 0 {
			if m := args[0].Get("message"); m.Type() == js.TypeString {
				msg = m.String()
			} else {
				msg = args[0].Call("toString").String()
			}
		}
		err = errors.New(msg)
		close(done)
		return nil
	})
	p.Call("then", onOK, onErr)
	<-done
	onOK.Release()
	onErr.Release()
	return res, err
}

// yield gives the JS event loop a turn, so messages (a cancel) that arrived
// during a long computation are delivered. Go's wasm port has one thread:
// while a goroutine computes, nothing else in the worker runs.
func yield() {
	if y := js.Global().Get("diffuirYield"); y.Type() == js.TypeFunction {
		_, _ = await(y.Invoke())
		return
	}
	done := make(chan struct{})
	f := js.FuncOf(func(js.Value, []js.Value) any { close(done); return nil })
	js.Global().Call("setTimeout", f, 0)
	<-done
	f.Release()
}

// bytesFrom copies a Uint8Array (or ArrayBuffer) into Go memory.
func bytesFrom(v js.Value) ([]byte, error) {
	if v.InstanceOf(js.Global().Get("ArrayBuffer")) {
		v = jsUint8Array.New(v)
	}
	if !v.InstanceOf(jsUint8Array) {
		return nil, &codedError{Code: ErrBadRequest, Msg: "expected a Uint8Array or ArrayBuffer"}
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

// toJSError makes an Error whose code property is one of the protocol's
// error codes (see site/PROTOCOL.md).
func toJSError(err error) js.Value {
	ce := classify(err)
	e := jsError.New(ce.Msg)
	e.Set("code", ce.Code)
	return e
}
