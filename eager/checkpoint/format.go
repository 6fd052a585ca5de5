// Package checkpoint saves and restores training state: a model's
// parameters and buffers by their dotted names (nn.NamedTensors), and an
// optimizer's state (optim.Optimizer State/LoadState, which holds its step
// count), so that a run resumed from a checkpoint continues bit for bit as
// if it had never stopped.
//
// # File format, version 1
//
// A small self-describing binary format; every integer is little-endian.
//
//	magic    8 bytes   "KEENCKPT"
//	version  uint32    1
//	count    uint32    number of entries
//	count entries, each:
//	  kind     uint8     1 parameter, 2 buffer, 3 optimizer state
//	  nameLen  uint16    then nameLen bytes of UTF-8 name
//	  dtype    uint32    the ONNX TensorProto.DataType value (1 float32, 11 float64, 7 int64, ...)
//	  rank     uint8     then rank dims, uint64 each
//	  nbytes   uint64    then nbytes of raw little-endian elements, row-major
//	crc      uint32    IEEE CRC-32 of every byte before it
//
// Elements are stored as Keen holds them in memory (ir.Tensor.Data): bool
// as one byte 0 or 1, float16 and bfloat16 as their 16-bit patterns, 8-bit
// floats and 4- and 2-bit integers one byte per element. String tensors
// cannot be stored. Names are unique within a kind. Save writes to a
// temporary file in the target's folder and renames it over the target, so
// a crash never leaves a half-written checkpoint under the real name.
package checkpoint

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/keenml/keen/ir"
)

// Version is the format version Write produces.
const Version = 1

var magic = [8]byte{'K', 'E', 'E', 'N', 'C', 'K', 'P', 'T'}

// Kind says what an entry holds.
type Kind uint8

const (
	Param          Kind = 1 // a trained model parameter
	Buffer         Kind = 2 // model state that is not trained (running statistics)
	OptimizerState Kind = 3 // an entry of optim.Optimizer.State
)

func (k Kind) String() string {
	switch k {
	case Param:
		return "parameter"
	case Buffer:
		return "buffer"
	case OptimizerState:
		return "optimizer state"
	}
	return fmt.Sprintf("kind %d", uint8(k))
}

// Entry is one named tensor of a checkpoint.
type Entry struct {
	Kind Kind
	Name string
	T    *ir.Tensor
}

// ErrFormat is wrapped by every error about a malformed checkpoint.
var ErrFormat = errors.New("malformed checkpoint")

const (
	maxRank    = 32
	maxEntries = 1 << 20
)

// Write writes entries in format version 1.
func Write(w io.Writer, entries []Entry) error {
	if len(entries) > maxEntries {
		return fmt.Errorf("checkpoint: Write: %d entries, at most %d", len(entries), maxEntries)
	}
	seen := map[Kind]map[string]bool{}
	for _, e := range entries {
		if err := checkEntry(e, seen); err != nil {
			return fmt.Errorf("checkpoint: Write: %w", err)
		}
	}
	crc := crc32.NewIEEE()
	bw := bufio.NewWriter(io.MultiWriter(w, crc))
	le := binary.LittleEndian
	bw.Write(magic[:])
	binary.Write(bw, le, uint32(Version))
	binary.Write(bw, le, uint32(len(entries)))
	for _, e := range entries {
		bw.WriteByte(byte(e.Kind))
		binary.Write(bw, le, uint16(len(e.Name)))
		bw.WriteString(e.Name)
		binary.Write(bw, le, uint32(e.T.DType))
		bw.WriteByte(byte(len(e.T.Shape)))
		for _, d := range e.T.Shape {
			binary.Write(bw, le, uint64(d))
		}
		binary.Write(bw, le, uint64(e.T.Len()*e.T.DType.GoSize()))
		if err := binary.Write(bw, le, e.T.Data); err != nil {
			return fmt.Errorf("checkpoint: Write: %s %q: %w", e.Kind, e.Name, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("checkpoint: Write: %w", err)
	}
	return binary.Write(w, le, crc.Sum32())
}

func checkEntry(e Entry, seen map[Kind]map[string]bool) error {
	if e.Kind < Param || e.Kind > OptimizerState {
		return fmt.Errorf("entry %q has unknown %v", e.Name, e.Kind)
	}
	if e.T == nil {
		return fmt.Errorf("%s %q has no tensor", e.Kind, e.Name)
	}
	if len(e.Name) > 0xFFFF {
		return fmt.Errorf("%s name of %d bytes is too long", e.Kind, len(e.Name))
	}
	if seen[e.Kind] == nil {
		seen[e.Kind] = map[string]bool{}
	}
	if seen[e.Kind][e.Name] {
		return fmt.Errorf("two %s entries named %q", e.Kind, e.Name)
	}
	seen[e.Kind][e.Name] = true
	if e.T.DType == ir.String || !e.T.DType.Valid() || e.T.DType.GoSize() == 0 {
		return fmt.Errorf("%s %q: dtype %v cannot be stored", e.Kind, e.Name, e.T.DType)
	}
	if len(e.T.Shape) > maxRank {
		return fmt.Errorf("%s %q: rank %d, at most %d", e.Kind, e.Name, len(e.T.Shape), maxRank)
	}
	if err := e.T.Validate(); err != nil {
		return fmt.Errorf("%s %q: %w", e.Kind, e.Name, err)
	}
	return nil
}

// Read reads a checkpoint written by Write, checking its CRC. limit, when
// positive, bounds the bytes any one tensor may claim (the file size), so a
// corrupt header cannot make Read allocate more than the file holds.
func Read(r io.Reader, limit int64) ([]Entry, error) {
	crc := crc32.NewIEEE()
	br := bufio.NewReader(r)
	tr := io.TeeReader(br, crc)
	le := binary.LittleEndian
	var hdr struct {
		Magic   [8]byte
		Version uint32
		Count   uint32
	}
	if err := binary.Read(tr, le, &hdr); err != nil {
		return nil, fmt.Errorf("checkpoint: %w: short header: %v", ErrFormat, err)
	}
	if hdr.Magic != magic {
		return nil, fmt.Errorf("checkpoint: %w: bad magic %q (not a Keen checkpoint)", ErrFormat, hdr.Magic[:])
	}
	if hdr.Version != Version {
		return nil, fmt.Errorf("checkpoint: %w: format version %d; this Keen reads version %d", ErrFormat, hdr.Version, Version)
	}
	if hdr.Count > maxEntries {
		return nil, fmt.Errorf("checkpoint: %w: %d entries, at most %d", ErrFormat, hdr.Count, maxEntries)
	}
	entries := make([]Entry, 0, min(hdr.Count, 1024))
	seen := map[Kind]map[string]bool{}
	for i := 0; i < int(hdr.Count); i++ {
		e, err := readEntry(tr, limit)
		if err != nil {
			return nil, fmt.Errorf("checkpoint: %w: entry %d: %v", ErrFormat, i, err)
		}
		if err := checkEntry(e, seen); err != nil {
			return nil, fmt.Errorf("checkpoint: %w: entry %d: %v", ErrFormat, i, err)
		}
		entries = append(entries, e)
	}
	want := crc.Sum32()
	var got uint32
	if err := binary.Read(br, le, &got); err != nil {
		return nil, fmt.Errorf("checkpoint: %w: missing CRC: %v", ErrFormat, err)
	}
	if got != want {
		return nil, fmt.Errorf("checkpoint: %w: CRC %08x, contents give %08x (the file is corrupt)", ErrFormat, got, want)
	}
	return entries, nil
}

func readEntry(r io.Reader, limit int64) (Entry, error) {
	le := binary.LittleEndian
	var head struct {
		Kind    uint8
		NameLen uint16
	}
	if err := binary.Read(r, le, &head); err != nil {
		return Entry{}, fmt.Errorf("short entry header: %v", err)
	}
	name := make([]byte, head.NameLen)
	if _, err := io.ReadFull(r, name); err != nil {
		return Entry{}, fmt.Errorf("short name: %v", err)
	}
	e := Entry{Kind: Kind(head.Kind), Name: string(name)}
	var meta struct {
		DType uint32
		Rank  uint8
	}
	if err := binary.Read(r, le, &meta); err != nil {
		return e, fmt.Errorf("%q: short header: %v", e.Name, err)
	}
	dt := ir.DType(meta.DType)
	if !dt.Valid() || dt == ir.String || meta.Rank > maxRank {
		return e, fmt.Errorf("%q: dtype %d, rank %d not allowed", e.Name, meta.DType, meta.Rank)
	}
	dims := make([]uint64, meta.Rank)
	if err := binary.Read(r, le, dims); err != nil {
		return e, fmt.Errorf("%q: short shape: %v", e.Name, err)
	}
	shape := make([]int, len(dims))
	for i, d := range dims {
		if d > uint64(ir.MaxElements) {
			return e, fmt.Errorf("%q: dimension %d of %d is too large", e.Name, i, d)
		}
		shape[i] = int(d)
	}
	n, err := ir.NumElements(shape)
	if err != nil {
		return e, fmt.Errorf("%q: %v", e.Name, err)
	}
	var nbytes uint64
	if err := binary.Read(r, le, &nbytes); err != nil {
		return e, fmt.Errorf("%q: short header: %v", e.Name, err)
	}
	if want := uint64(n) * uint64(dt.GoSize()); nbytes != want {
		return e, fmt.Errorf("%q: %d data bytes for %v%v, want %d", e.Name, nbytes, dt, shape, want)
	}
	if limit > 0 && nbytes > uint64(limit) {
		return e, fmt.Errorf("%q: %d data bytes in a file of %d", e.Name, nbytes, limit)
	}
	var raw bytes.Buffer
	if limit > 0 {
		raw.Grow(int(nbytes))
	}
	if _, err := io.CopyN(&raw, r, int64(nbytes)); err != nil {
		return e, fmt.Errorf("%q: data truncated: %v", e.Name, err)
	}
	data, err := ir.MakeSlice(dt, n)
	if err != nil {
		return e, fmt.Errorf("%q: %v", e.Name, err)
	}
	if _, err := binary.Decode(raw.Bytes(), le, data); err != nil {
		return e, fmt.Errorf("%q: %v", e.Name, err)
	}
	e.T = &ir.Tensor{DType: dt, Shape: shape, Data: data}
	return e, nil
}
