// Package data streams training data: readers for common formats (IDX, as
// used by MNIST and Fashion-MNIST), datasets and batch iterators.
package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/keenml/keen/ir"
)

// idxTypes maps IDX type codes to dtypes.
var idxTypes = map[byte]ir.DType{
	0x08: ir.Uint8, 0x09: ir.Int8, 0x0B: ir.Int16, 0x0C: ir.Int32, 0x0D: ir.Float32, 0x0E: ir.Float64,
}

// ReadIDXFile reads an IDX file, gzip-compressed or not.
func ReadIDXFile(path string) (*ir.Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := ReadIDX(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// ReadIDX reads an IDX stream (gzip detected from its magic bytes).
func ReadIDX(r io.Reader) (*ir.Tensor, error) {
	br := bufio.NewReader(r)
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("idx: gzip: %w", err)
		}
		defer gz.Close()
		br = bufio.NewReader(gz)
	}
	var hdr [4]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, fmt.Errorf("idx: short header: %w", err)
	}
	dt, ok := idxTypes[hdr[2]]
	if hdr[0] != 0 || hdr[1] != 0 || !ok {
		return nil, fmt.Errorf("idx: bad magic % x (not an IDX file)", hdr)
	}
	rank := int(hdr[3])
	if rank == 0 || rank > 8 {
		return nil, fmt.Errorf("idx: rank %d out of range", rank)
	}
	shape := make([]int, rank)
	for i := range shape {
		var d uint32
		if err := binary.Read(br, binary.BigEndian, &d); err != nil {
			return nil, fmt.Errorf("idx: short header: %w", err)
		}
		shape[i] = int(d)
	}
	n, err := ir.NumElements(shape)
	if err != nil {
		return nil, fmt.Errorf("idx: %w", err)
	}
	// Read before allocating: the buffer grows only as data arrives, so a
	// header claiming gigabytes costs nothing unless the bytes are there.
	nbytes := int64(n) * int64(dt.GoSize())
	var raw bytes.Buffer
	if _, err := io.CopyN(&raw, br, nbytes); err != nil {
		return nil, fmt.Errorf("idx: data of shape %v truncated after %d of %d bytes: %w", shape, raw.Len(), nbytes, err)
	}
	if dt == ir.Uint8 {
		return ir.FromSlice(raw.Bytes(), shape...), nil
	}
	data, err := ir.MakeSlice(dt, n)
	if err != nil {
		return nil, fmt.Errorf("idx: %w", err)
	}
	if _, err := binary.Decode(raw.Bytes(), binary.BigEndian, data); err != nil {
		return nil, fmt.Errorf("idx: %w", err)
	}
	return &ir.Tensor{DType: dt, Shape: shape, Data: data}, nil
}

// WriteIDX writes t as an uncompressed IDX stream.
func WriteIDX(w io.Writer, t *ir.Tensor) error {
	var code byte
	for c, dt := range idxTypes {
		if dt == t.DType {
			code = c
		}
	}
	if code == 0 {
		return fmt.Errorf("idx: dtype %v has no IDX code", t.DType)
	}
	if err := t.Validate(); err != nil {
		return fmt.Errorf("idx: %w", err)
	}
	if len(t.Shape) == 0 || len(t.Shape) > 8 {
		return fmt.Errorf("idx: rank %d cannot be written (1 to 8)", len(t.Shape))
	}
	for _, d := range t.Shape {
		if uint64(d) > math.MaxUint32 {
			return fmt.Errorf("idx: dimension %d does not fit IDX's 32 bits", d)
		}
	}
	var buf bytes.Buffer
	buf.Write([]byte{0, 0, code, byte(len(t.Shape))})
	for _, d := range t.Shape {
		binary.Write(&buf, binary.BigEndian, uint32(d))
	}
	if d, ok := t.Data.([]uint8); ok {
		buf.Write(d)
	} else if err := binary.Write(&buf, binary.BigEndian, t.Data); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}
