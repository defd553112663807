package convert

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// scanPickle walks the opcodes of a pickle up to STOP without executing
// them and checks that every length-prefixed argument fits in the bytes
// that remain. gopickle allocates such arguments before reading them, so
// without this a 30-byte file could ask for gigabytes.
func scanPickle(b []byte) error {
	le := binary.LittleEndian
	i := 0
	need := func(n uint64) error {
		if n > uint64(len(b)-i) {
			return fmt.Errorf("opcode at byte %d needs %d bytes, %d left (truncated?)", i-1, n, len(b)-i)
		}
		return nil
	}
	skip := func(n uint64) error {
		if err := need(n); err != nil {
			return err
		}
		i += int(n)
		return nil
	}
	line := func(max int) error {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return fmt.Errorf("unterminated text argument at byte %d", i)
		}
		if j > max {
			return fmt.Errorf("%d-byte text argument at byte %d", j, i)
		}
		i += j + 1
		return nil
	}
	// gopickle decodes long integers in quadratic time: torch never writes
	// ones wider than 64 bits, so anything much bigger is hostile.
	const maxLong = 64
	for i < len(b) {
		op := b[i]
		i++
		var err error
		switch op {
		case '.': // STOP
			return nil
		case '(', '0', '1', '2', 'N', 'R', 'b', 'd', '}', 'e', 'l', ']', 'o', 's', 't', ')', 'u', 'a', 'Q',
			0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x97, 0x98:
		case 'K', 'q', 'h', 0x80, 0x82:
			err = skip(1)
		case 'M', 0x83:
			err = skip(2)
		case 'J', 'r', 'j', 0x84:
			err = skip(4)
		case 'G':
			err = skip(8)
		case 0x95: // FRAME: its length must fit; its contents are further opcodes
			if err = need(8); err == nil {
				n := le.Uint64(b[i:])
				i += 8
				err = need(n)
			}
		case 'U', 0x8c, 'C', 0x8a:
			if err = need(1); err == nil {
				n := uint64(b[i])
				i++
				if op == 0x8a && n > maxLong {
					return fmt.Errorf("%d-byte integer at byte %d", n, i-2)
				}
				err = skip(n)
			}
		case 'T', 'X', 'B', 0x8b:
			if err = need(4); err == nil {
				n := le.Uint32(b[i:])
				i += 4
				if (op == 'T' || op == 0x8b) && int32(n) < 0 {
					return fmt.Errorf("negative length at byte %d", i-5)
				}
				if op == 0x8b && n > maxLong {
					return fmt.Errorf("%d-byte integer at byte %d", n, i-5)
				}
				err = skip(uint64(n))
			}
		case 0x8d, 0x8e, 0x96:
			if err = need(8); err == nil {
				n := le.Uint64(b[i:])
				i += 8
				err = skip(n)
			}
		case 'I', 'L':
			err = line(3 * maxLong) // decimal digits
		case 'F', 'S', 'V', 'P', 'p', 'g':
			err = line(len(b))
		case 'c', 'i':
			if err = line(len(b)); err == nil {
				err = line(len(b))
			}
		default:
			return fmt.Errorf("unknown opcode %#x at byte %d", op, i-1)
		}
		if err != nil {
			return err
		}
	}
	return fmt.Errorf("no STOP opcode (truncated)")
}
