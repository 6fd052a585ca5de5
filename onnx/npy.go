package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/keenml/keen/ir"
)

// ReadNpy reads a NumPy .npy file (format versions 1, 2 and 3) holding a
// C-ordered array of a numeric or bool dtype, either byte order.
func ReadNpy(path string) (*ir.Tensor, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	t, err := decodeNpy(data)
	if err != nil {
		return nil, fmt.Errorf("onnx: npy: %s: %w", path, err)
	}
	return t, nil
}

// DecodeNpy parses the bytes of a .npy file; see ReadNpy.
func DecodeNpy(data []byte) (*ir.Tensor, error) {
	t, err := decodeNpy(data)
	if err != nil {
		return nil, fmt.Errorf("onnx: npy: %w", err)
	}
	return t, nil
}

func decodeNpy(data []byte) (*ir.Tensor, error) {
	const magic = "\x93NUMPY"
	if len(data) < 10 || string(data[:6]) != magic {
		return nil, errors.New("not a .npy file (bad magic)")
	}
	var hlen, start int
	switch major := data[6]; major {
	case 1:
		hlen, start = int(binary.LittleEndian.Uint16(data[8:])), 10
	case 2, 3:
		if len(data) < 12 {
			return nil, errors.New("truncated header")
		}
		hlen, start = int(binary.LittleEndian.Uint32(data[8:])), 12
	default:
		return nil, fmt.Errorf("unsupported format version %d.%d", major, data[7])
	}
	if hlen < 0 || hlen > len(data)-start {
		return nil, fmt.Errorf("header length %d past the end of the file", hlen)
	}
	h, err := parseNpyHeader(string(data[start : start+hlen]))
	if err != nil {
		return nil, err
	}
	if h.fortran {
		return nil, errors.New("Fortran-ordered arrays are not supported; save with a C-contiguous array (np.ascontiguousarray)")
	}
	dt, size, order, err := npyDType(h.descr)
	if err != nil {
		return nil, err
	}
	n, err := ir.NumElements(h.shape)
	if err != nil {
		return nil, err
	}
	body := data[start+hlen:]
	if want := int64(n) * int64(size); int64(len(body)) != want {
		return nil, fmt.Errorf("shape %v of %s needs %d data bytes, file has %d", h.shape, h.descr, want, len(body))
	}
	if order == binary.ByteOrder(binary.BigEndian) && size > 1 {
		body = swapBytes(body, size, dt.IsComplex())
	}
	vals, err := decodeRaw(dt, n, body)
	if err != nil {
		return nil, err
	}
	return &ir.Tensor{DType: dt, Shape: h.shape, Data: vals}, nil
}

// swapBytes turns big-endian elements of size bytes (complex: two halves)
// into little endian, in a copy.
func swapBytes(b []byte, size int, complexPair bool) []byte {
	if complexPair {
		size /= 2
	}
	out := make([]byte, len(b))
	for i := 0; i+size <= len(b); i += size {
		for j := 0; j < size; j++ {
			out[i+j] = b[i+size-1-j]
		}
	}
	return out
}

// npyDType maps a descr such as "<f4", ">i8", "|b1" or "|u1".
func npyDType(descr string) (ir.DType, int, binary.ByteOrder, error) {
	if len(descr) < 2 {
		return 0, 0, nil, fmt.Errorf("unsupported dtype %q", descr)
	}
	var order binary.ByteOrder = binary.LittleEndian
	switch descr[0] {
	case '<', '|', '=': // '=' is native; the formats Keen runs on are little endian
	case '>':
		order = binary.BigEndian
	default:
		return 0, 0, nil, fmt.Errorf("unsupported dtype %q (structured or without byte order)", descr)
	}
	types := map[string]ir.DType{
		"b1": ir.Bool, "?": ir.Bool, "i1": ir.Int8, "i2": ir.Int16, "i4": ir.Int32, "i8": ir.Int64,
		"u1": ir.Uint8, "u2": ir.Uint16, "u4": ir.Uint32, "u8": ir.Uint64,
		"f2": ir.Float16, "f4": ir.Float32, "f8": ir.Float64, "c8": ir.Complex64, "c16": ir.Complex128,
	}
	dt, ok := types[descr[1:]]
	if !ok {
		return 0, 0, nil, fmt.Errorf("unsupported dtype %q (numeric and bool dtypes only)", descr)
	}
	size := dt.Bits() / 8
	return dt, size, order, nil
}

type npyHeader struct {
	descr   string
	fortran bool
	shape   []int
}

// parseNpyHeader reads the Python dict literal of a .npy header:
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
func parseNpyHeader(h string) (*npyHeader, error) {
	s := strings.TrimSpace(h)
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return nil, fmt.Errorf("malformed header %q", h)
	}
	s = s[1 : len(s)-1]
	out := &npyHeader{}
	seen := map[string]bool{}
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		key, rest, err := npyString(s)
		if err != nil {
			return nil, fmt.Errorf("malformed header %q: %w", h, err)
		}
		rest = strings.TrimSpace(rest)
		if !strings.HasPrefix(rest, ":") {
			return nil, fmt.Errorf("malformed header %q: no ':' after %q", h, key)
		}
		rest = strings.TrimSpace(rest[1:])
		switch key {
		case "descr":
			out.descr, rest, err = npyString(rest)
		case "fortran_order":
			out.fortran, rest, err = npyBool(rest)
		case "shape":
			out.shape, rest, err = npyTuple(rest)
		default:
			err = fmt.Errorf("unknown key %q", key)
		}
		if err != nil {
			return nil, fmt.Errorf("malformed header %q: %w", h, err)
		}
		seen[key] = true
		s = strings.TrimPrefix(strings.TrimSpace(rest), ",")
	}
	if !seen["descr"] || !seen["shape"] || !seen["fortran_order"] {
		return nil, fmt.Errorf("header %q lacks descr, fortran_order or shape", h)
	}
	return out, nil
}

func npyString(s string) (string, string, error) {
	if s == "" || (s[0] != '\'' && s[0] != '"') {
		return "", s, errors.New("expected a quoted string")
	}
	end := strings.IndexByte(s[1:], s[0])
	if end < 0 {
		return "", s, errors.New("unterminated string")
	}
	return s[1 : 1+end], s[2+end:], nil
}

func npyBool(s string) (bool, string, error) {
	switch {
	case strings.HasPrefix(s, "True"):
		return true, s[4:], nil
	case strings.HasPrefix(s, "False"):
		return false, s[5:], nil
	}
	return false, s, errors.New("expected True or False")
}

// npyTuple parses "(2, 3)", "(5,)" or "()".
func npyTuple(s string) ([]int, string, error) {
	end := strings.IndexByte(s, ')')
	if !strings.HasPrefix(s, "(") || end < 0 {
		return nil, s, errors.New("expected a shape tuple")
	}
	shape := []int{}
	fields := strings.Split(s[1:end], ",")
	for i, f := range fields {
		f = strings.TrimSpace(f)
		if f == "" && i == len(fields)-1 {
			break // "(5,)" and "()"
		}
		f = strings.TrimSuffix(f, "L") // Python 2 longs
		v, err := strconv.Atoi(f)
		if err != nil || v < 0 {
			return nil, s, fmt.Errorf("bad dimension %q", f)
		}
		shape = append(shape, v)
	}
	return shape, s[end+1:], nil
}
