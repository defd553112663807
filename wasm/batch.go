//go:build js && wasm

package main

import (
	"fmt"
	"syscall/js"
	"time"

	"github.com/diffuir-web/diffuir/runtime/bundle"
	"github.com/diffuir-web/diffuir/runtime/imageio"
)

// The page's strength and "Download all" calls; both stateless:
//
//	blend(original, restored, strength, {format, quality}) -> {bytes, mime}: imageio.Blend
//	zip([{name, bytes}])                                   -> {bytes, mime}: bundle.Zip

func (b *bridge) blend(args []js.Value) (any, error) {
	s := arg(args, 2)
	if s.Type() != js.TypeNumber || !(s.Float() >= 0 && s.Float() <= 1) {
		return nil, errBadRequest.with("blend: strength %v: want a number from 0 to 1", s)
	}
	out, err := outputArg(arg(args, 3))
	if err != nil {
		return nil, err
	}
	out.Depth = 0 // the restored file's
	a, _, err := photoArg(arg(args, 0))
	if err != nil {
		return nil, err
	}
	r, _, err := photoArg(arg(args, 1))
	if err != nil {
		return nil, err
	}
	m, err := imageio.Blend(a, r, s.Float())
	if err != nil {
		return nil, errBadRequest.with("%w", err)
	}
	return encoded(m, out)
}

func (b *bridge) zip(args []js.Value) (any, error) {
	list := arg(args, 0)
	if !js.Global().Get("Array").Call("isArray", list).Bool() {
		return nil, errBadRequest.with("zip: want an array of {name, bytes}")
	}
	files := make([]bundle.File, list.Length())
	for i := range files {
		e := list.Index(i)
		if e.Type() != js.TypeObject || e.Get("name").Type() != js.TypeString {
			return nil, errBadRequest.with("zip: entry %d: want {name, bytes}", i)
		}
		data, err := bytesFrom(e.Get("bytes"))
		if err != nil {
			return nil, fmt.Errorf("zip: entry %d: %w", i, err)
		}
		files[i] = bundle.File{Name: e.Get("name").String(), Data: data}
	}
	out, err := bundle.Zip(files, time.Now())
	if err != nil {
		return nil, errBadRequest.with("%w", err)
	}
	return object("bytes", bytesTo(out), "mime", "application/zip"), nil
}
