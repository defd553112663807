package convert

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// safetensors layout: uint64 LE header length N, N bytes of JSON
// {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
// "__metadata__": {...}}, then the byte buffer the offsets index.

var safetensorsTypes = map[string]storageType{
	"F64":     {"float64", 8, true},
	"F32":     {"float32", 4, true},
	"F16":     {"float16", 2, true},
	"BF16":    {"bfloat16", 2, true},
	"I64":     {"int64", 8, false},
	"U64":     {"uint64", 8, false},
	"I32":     {"int32", 4, false},
	"U32":     {"uint32", 4, false},
	"I16":     {"int16", 2, false},
	"U16":     {"uint16", 2, false},
	"I8":      {"int8", 1, false},
	"U8":      {"uint8", 1, false},
	"BOOL":    {"bool", 1, false},
	"F8_E4M3": {"float8_e4m3fn", 1, false},
	"F8_E5M2": {"float8_e5m2", 1, false},
}

type safetensorsEntry struct {
	DType   string  `json:"dtype"`
	Shape   []int64 `json:"shape"`
	Offsets []int64 `json:"data_offsets"`
}

func parseSafetensors(data []byte) (*checkpoint, error) {
	if len(data) < 8 {
		return nil, errors.New("convert: safetensors: truncated header")
	}
	n := binary.LittleEndian.Uint64(data)
	if n > maxSafetensorsHeader || n > uint64(len(data)-8) {
		return nil, fmt.Errorf("convert: safetensors: header length %d exceeds the file (%d bytes) or the %d limit", n, len(data), maxSafetensorsHeader)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+n], &raw); err != nil {
		return nil, fmt.Errorf("convert: safetensors: bad header: %w", err)
	}
	buf := data[8+n:]
	type item struct {
		name  string
		typ   storageType
		shape []int
		begin int64
		end   int64
	}
	items := make([]item, 0, len(raw))
	for name, msg := range raw {
		if name == "__metadata__" {
			continue
		}
		var e safetensorsEntry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, fmt.Errorf("convert: safetensors: %s: %w", name, err)
		}
		typ, ok := safetensorsTypes[e.DType]
		if !ok {
			return nil, fmt.Errorf("convert: safetensors: %s: unknown dtype %q", name, e.DType)
		}
		if len(e.Shape) > maxRank {
			return nil, fmt.Errorf("convert: safetensors: %s: rank %d exceeds %d", name, len(e.Shape), maxRank)
		}
		shape := make([]int, len(e.Shape))
		for i, d := range e.Shape {
			if d < 0 || d > 1<<31 {
				return nil, fmt.Errorf("convert: safetensors: %s: bad shape %v", name, e.Shape)
			}
			shape[i] = int(d)
		}
		cnt, err := numel(shape)
		if err != nil {
			return nil, fmt.Errorf("convert: safetensors: %s: %w", name, err)
		}
		if len(e.Offsets) != 2 || e.Offsets[0] < 0 || e.Offsets[1] < e.Offsets[0] || e.Offsets[1] > int64(len(buf)) {
			return nil, fmt.Errorf("convert: safetensors: %s: data_offsets %v outside the %d-byte buffer", name, e.Offsets, len(buf))
		}
		if want := int64(cnt) * int64(typ.size); e.Offsets[1]-e.Offsets[0] != want {
			return nil, fmt.Errorf("convert: safetensors: %s: %d bytes for %s %v, want %d", name, e.Offsets[1]-e.Offsets[0], typ.dtype, shape, want)
		}
		items = append(items, item{name, typ, shape, e.Offsets[0], e.Offsets[1]})
	}
	// File order, and the format forbids overlapping tensors.
	sort.Slice(items, func(i, j int) bool {
		if items[i].begin != items[j].begin {
			return items[i].begin < items[j].begin
		}
		return items[i].end < items[j].end
	})
	ck := newCheckpoint(FormatSafetensors, len(data))
	var prevEnd int64
	for i, it := range items {
		if i > 0 && it.begin < prevEnd && it.end > it.begin {
			return nil, fmt.Errorf("convert: safetensors: %s overlaps %s", it.name, items[i-1].name)
		}
		prevEnd = max(prevEnd, it.end)
		e := &entry{name: it.name, dtype: it.typ.dtype, shape: it.shape}
		if it.typ.float {
			b, typ := buf[it.begin:it.end], it.typ
			e.load = func() ([]float32, error) {
				out := make([]float32, len(b)/typ.size)
				decoder(typ.dtype)(out, b)
				return out, nil
			}
		}
		ck.add(e)
	}
	return ck, nil
}
