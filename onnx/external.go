package onnx

import (
	"bufio"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	pb "github.com/keenml/keen/onnx/internal/onnxpb"
)

// External data (docs/ExternalData.md): a tensor with data_location EXTERNAL
// keeps its raw bytes in a file named by the external_data key "location",
// relative to the model's folder, at "offset" for "length" bytes. Locations
// that are absolute or lead out of the folder (by "..", or by a symlink) are
// rejected.

// extReader opens external data files under one folder, each file once.
type extReader struct {
	dir   string
	root  *os.Root
	files map[string]*extFile
}

type extFile struct {
	f    *os.File
	size int64
	sum  string // hex SHA-1 of the whole file, computed on demand
}

func newExtReader(dir string) *extReader {
	if dir == "" {
		dir = "."
	}
	return &extReader{dir: dir, files: map[string]*extFile{}}
}

func (r *extReader) close() {
	for _, f := range r.files {
		f.f.Close()
	}
	if r.root != nil {
		r.root.Close()
	}
}

// external returns the bytes of a tensor stored in an external file; want
// is the size its dtype and dims call for.
func (d *decoder) external(tp *pb.TensorProto, want int64) ([]byte, error) {
	if d.ext == nil {
		return nil, ErrExternalData
	}
	return d.ext.read(tp, want)
}

func (r *extReader) read(tp *pb.TensorProto, want int64) ([]byte, error) {
	var loc, sum string
	offset, length := int64(0), int64(-1)
	for _, kv := range tp.GetExternalData() {
		var err error
		switch kv.GetKey() {
		case "location":
			loc = kv.GetValue()
		case "offset":
			offset, err = strconv.ParseInt(kv.GetValue(), 10, 64)
		case "length":
			length, err = strconv.ParseInt(kv.GetValue(), 10, 64)
		case "checksum":
			sum = strings.ToLower(kv.GetValue())
		}
		if err != nil || offset < 0 || (kv.GetKey() == "length" && length < 0) {
			return nil, fmt.Errorf("external data: bad %s %q", kv.GetKey(), kv.GetValue())
		}
	}
	if loc == "" {
		return nil, errors.New("external data: no location")
	}
	f, err := r.open(loc)
	if err != nil {
		return nil, fmt.Errorf("external data %q: %w", loc, err)
	}
	if length < 0 {
		length = f.size - offset
	}
	if offset > f.size || length > f.size-offset {
		return nil, fmt.Errorf("external data %q: offset %d length %d past the end of the file (%d bytes)",
			loc, offset, length, f.size)
	}
	if length != want {
		return nil, fmt.Errorf("external data %q: length %d, but dtype and dims need %d bytes", loc, length, want)
	}
	buf := make([]byte, length)
	if _, err := f.f.ReadAt(buf, offset); err != nil {
		return nil, fmt.Errorf("external data %q: %w", loc, err)
	}
	if sum != "" {
		if err := f.checkSum(buf, sum); err != nil {
			return nil, fmt.Errorf("external data %q: %w", loc, err)
		}
	}
	return buf, nil
}

// checkSum accepts the SHA-1 of the tensor's bytes or of the whole file
// (the spec says the file; some writers hash the tensor).
func (f *extFile) checkSum(buf []byte, want string) error {
	h := sha1.Sum(buf)
	if hex.EncodeToString(h[:]) == want {
		return nil
	}
	if f.sum == "" {
		hf := sha1.New()
		if _, err := io.Copy(hf, io.NewSectionReader(f.f, 0, f.size)); err != nil {
			return err
		}
		f.sum = hex.EncodeToString(hf.Sum(nil))
	}
	if f.sum != want {
		return fmt.Errorf("checksum mismatch: file has SHA-1 %s, tensor says %s", f.sum, want)
	}
	return nil
}

// checkLocation rejects locations that are not plain relative paths inside
// the model's folder.
func checkLocation(loc string) error {
	native := filepath.FromSlash(loc)
	if filepath.IsAbs(native) || strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, `\`) ||
		filepath.VolumeName(native) != "" {
		return errors.New("absolute path not allowed; locations are relative to the model's folder")
	}
	if !filepath.IsLocal(native) || strings.ContainsRune(loc, 0) {
		return errors.New("path escapes the model's folder")
	}
	return nil
}

func (r *extReader) open(loc string) (*extFile, error) {
	if f, ok := r.files[loc]; ok {
		return f, nil
	}
	if err := checkLocation(loc); err != nil {
		return nil, err
	}
	if err := r.checkSymlinks(loc); err != nil {
		return nil, err
	}
	if r.root == nil {
		root, err := os.OpenRoot(r.dir)
		if err != nil {
			return nil, err
		}
		r.root = root
	}
	// os.Root refuses to leave the folder, so a symlink swapped in after the
	// check above still cannot lead out.
	file, err := r.root.Open(filepath.FromSlash(loc))
	if err != nil {
		return nil, err
	}
	st, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		file.Close()
		return nil, errors.New("not a regular file")
	}
	f := &extFile{f: file, size: st.Size()}
	r.files[loc] = f
	return f, nil
}

// checkSymlinks gives a clear error for a location that resolves, through
// symlinks, to a file outside the folder.
func (r *extReader) checkSymlinks(loc string) error {
	dir, err := filepath.EvalSymlinks(r.dir)
	if err != nil {
		return err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return err
	}
	target, err := filepath.EvalSymlinks(filepath.Join(r.dir, filepath.FromSlash(loc)))
	if err != nil {
		return err
	}
	target, err = filepath.Abs(target)
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(dir, target)
	if err != nil || !filepath.IsLocal(rel) {
		return errors.New("path leads out of the model's folder through a symlink")
	}
	return nil
}

// extAlign is the offset alignment of tensors in written data files (the
// page size, so readers may mmap them).
const extAlign = 4096

// extMinBytes is the smallest tensor moved to an external data file.
const extMinBytes = 1024

// externalize moves the raw data of initializers of at least extMinBytes
// (of every graph, subgraphs included) into a new temporary file in dir;
// location is the name the tensors will refer to. It returns the temporary
// file's path, which the caller renames to location.
func externalize(mp *pb.ModelProto, dir, location string) (string, error) {
	tmp, err := os.CreateTemp(dir, "."+location+".tmp-*")
	if err != nil {
		return "", err
	}
	w := &extWriter{w: bufio.NewWriterSize(tmp, 1<<20), location: location}
	w.graph(mp.GetGraph())
	if w.err == nil {
		w.err = w.w.Flush()
	}
	if w.err == nil {
		w.err = tmp.Sync()
	}
	if err := tmp.Close(); w.err == nil {
		w.err = err
	}
	if w.err != nil {
		os.Remove(tmp.Name())
		return "", w.err
	}
	return tmp.Name(), nil
}

type extWriter struct {
	w        *bufio.Writer
	location string
	off      int64
	err      error
}

func (w *extWriter) graph(gp *pb.GraphProto) {
	if gp == nil {
		return
	}
	for _, tp := range gp.GetInitializer() {
		w.tensor(tp)
	}
	for _, np := range gp.GetNode() {
		for _, ap := range np.GetAttribute() {
			w.graph(ap.GetG())
			for _, g := range ap.GetGraphs() {
				w.graph(g)
			}
		}
	}
}

func (w *extWriter) tensor(tp *pb.TensorProto) {
	if w.err != nil || len(tp.RawData) < extMinBytes {
		return
	}
	if pad := (extAlign - w.off%extAlign) % extAlign; pad > 0 {
		if _, w.err = w.w.Write(make([]byte, pad)); w.err != nil {
			return
		}
		w.off += pad
	}
	if _, w.err = w.w.Write(tp.RawData); w.err != nil {
		return
	}
	tp.ExternalData = []*pb.StringStringEntryProto{
		{Key: optString("location"), Value: optString(w.location)},
		{Key: optString("offset"), Value: optString(strconv.FormatInt(w.off, 10))},
		{Key: optString("length"), Value: optString(strconv.Itoa(len(tp.RawData)))},
	}
	tp.DataLocation = pb.TensorProto_EXTERNAL.Enum()
	w.off += int64(len(tp.RawData))
	tp.RawData = nil
}
