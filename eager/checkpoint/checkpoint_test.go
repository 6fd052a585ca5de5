package checkpoint_test

import (
	"bytes"
	"errors"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/keenml/keen/backends/cpu"
	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/eager/checkpoint"
	"github.com/keenml/keen/eager/losses"
	"github.com/keenml/keen/eager/nn"
	"github.com/keenml/keen/eager/optim"
	"github.com/keenml/keen/ir"
)

// net has parameters, a frozen-able layer and BatchNorm buffers.
type net struct {
	FC1 *nn.Linear
	BN  *nn.BatchNorm
	FC2 *nn.Linear
}

func (m *net) Forward(x *eager.Tensor) *eager.Tensor {
	return m.FC2.Forward(eager.Tanh(m.BN.Forward(m.FC1.Forward(x))))
}

func newNet(seed int64) *net {
	return &net{FC1: nn.NewLinear(3, 8, nn.Seed(seed)), BN: nn.NewBatchNorm(8), FC2: nn.NewLinear(8, 2, nn.Seed(seed+1))}
}

// batch is step's training batch: the same for every run.
func batch(step int) (*eager.Tensor, *eager.Tensor) {
	r := rand.New(rand.NewSource(int64(100 + step)))
	x := make([]float32, 16*3)
	y := make([]float32, 16*2)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	for i := 0; i < 16; i++ {
		y[2*i] = x[3*i] * x[3*i+1]
		y[2*i+1] = x[3*i+2] - x[3*i]
	}
	return eager.New(x, 16, 3), eager.New(y, 16, 2)
}

func train(t *testing.T, m *net, opt optim.Optimizer, from, to int) {
	t.Helper()
	for step := from; step < to; step++ {
		x, y := batch(step)
		tape := eager.NewTape()
		loss := losses.MSE(m.Forward(x), y)
		if err := opt.Step(tape.Gradient(loss, opt.Params()...)); err != nil {
			t.Fatal(err)
		}
	}
}

// bits returns every model tensor's float32 bit patterns by name.
func bits(m any) map[string][]uint32 {
	out := map[string][]uint32{}
	for _, n := range nn.NamedTensors(m) {
		for _, v := range n.T.Floats() {
			out[n.Name] = append(out[n.Name], math.Float32bits(v))
		}
	}
	return out
}

var optimizers = []struct {
	name string
	make func(ps []*eager.Tensor) optim.Optimizer
}{
	{"adam", func(ps []*eager.Tensor) optim.Optimizer { return optim.NewAdam(ps, 0.01) }},
	{"adamw", func(ps []*eager.Tensor) optim.Optimizer { return optim.NewAdamW(ps, 0.01, 0.1) }},
	{"sgd-nesterov", func(ps []*eager.Tensor) optim.Optimizer {
		s := optim.NewSGD(ps, 0.05, 0.9)
		s.Nesterov = true
		return s
	}},
	{"rmsprop", func(ps []*eager.Tensor) optim.Optimizer { return optim.NewRMSprop(ps, 0.01) }},
	{"adagrad", func(ps []*eager.Tensor) optim.Optimizer { return optim.NewAdagrad(ps, 0.05) }},
}

// TestResumeIsBitIdentical: train 5 steps, save, train 5 more (A); load
// into a differently initialized model and optimizer, train the same 5
// steps (B): A and B agree bit for bit.
func TestResumeIsBitIdentical(t *testing.T) {
	for _, o := range optimizers {
		t.Run(o.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "run.ckpt")
			m := newNet(1)
			opt := o.make(nn.Params(m))
			train(t, m, opt, 0, 5)
			if err := checkpoint.Save(path, m, opt); err != nil {
				t.Fatal(err)
			}
			train(t, m, opt, 5, 10)
			a := bits(m)

			m2 := newNet(7)
			opt2 := o.make(nn.Params(m2))
			if err := checkpoint.Load(path, m2, opt2); err != nil {
				t.Fatal(err)
			}
			train(t, m2, opt2, 5, 10)
			b := bits(m2)
			for name, av := range a {
				bv := b[name]
				for i := range av {
					if av[i] != bv[i] {
						t.Fatalf("%s[%d]: %08x after an uninterrupted run, %08x after resuming", name, i, av[i], bv[i])
					}
				}
			}
			if st := opt2.State()["step"].Item(); st != 10 {
				t.Fatalf("optimizer step %v after resuming and 5 steps, want 10", st)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.ckpt")
	m := newNet(1)
	opt := optim.NewAdam(nn.Params(m), 0.01)
	if err := checkpoint.Save(path, m, opt); err != nil {
		t.Fatal(err)
	}
	wider := &net{FC1: nn.NewLinear(3, 8), BN: nn.NewBatchNorm(8), FC2: nn.NewLinear(8, 3)}
	type extra struct {
		*net
		Head *nn.Linear
	}
	for _, c := range []struct {
		name  string
		model any
		opt   optim.Optimizer
		want  []string
	}{
		{"shape", wider, nil, []string{`model tensor "fc2.weight": the file holds float32[2 8], the model has float32[3 8]`,
			`"fc2.bias": the file holds float32[2], the model has float32[3]`}},
		{"missing", &extra{newNet(2), nn.NewLinear(2, 2)}, nil, []string{`model tensor "head.weight" float32[2 2] is not in the file`}},
		{"unexpected", &struct{ FC1 *nn.Linear }{nn.NewLinear(3, 8)}, nil, []string{`the file holds model tensor "fc2.weight" float32[2 8] that the model lacks`, `"bn.running_mean"`}},
		{"optimizer", newNet(2), optim.NewSGD(nn.Params(newNet(3)), 0.1, 0.9), []string{`optimizer tensor "velocity.0" float32[8 3] is not in the file`, `"m.0"`}},
		{"float64 model", &net{FC1: nn.NewLinear(3, 8, nn.DType(ir.Float64)), BN: nn.NewBatchNorm(8), FC2: nn.NewLinear(8, 2)}, nil,
			[]string{`"fc1.weight": the file holds float32[8 3], the model has float64[8 3]`}},
	} {
		before := bits(c.model)
		err := checkpoint.Load(path, c.model, c.opt)
		if err == nil {
			t.Errorf("%s: Load succeeded", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", c.name, err, w)
			}
		}
		after := bits(c.model)
		for name := range before {
			if len(before[name]) > 0 && before[name][0] != after[name][0] {
				t.Errorf("%s: a failed Load changed %s", c.name, name)
			}
		}
	}
	noOpt := filepath.Join(dir, "noopt.ckpt")
	if err := checkpoint.Save(noOpt, m, nil); err != nil {
		t.Fatal(err)
	}
	if err := checkpoint.Load(noOpt, newNet(3), optim.NewAdam(nn.Params(newNet(3)), 0.1)); err == nil || !strings.Contains(err.Error(), "no optimizer state") {
		t.Errorf("loading optimizer state from a model-only file: %v", err)
	}
	if err := checkpoint.Load(noOpt, newNet(3), nil); err != nil {
		t.Errorf("model-only round trip: %v", err)
	}
	if err := checkpoint.Load(filepath.Join(dir, "absent.ckpt"), m, nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v, want os.ErrNotExist", err)
	}
}

func TestFormatRoundTripAndCorruption(t *testing.T) {
	entries := []checkpoint.Entry{
		{Kind: checkpoint.Param, Name: "w", T: ir.FromSlice([]float32{1, -2.5, 3}, 3)},
		{Kind: checkpoint.Param, Name: "scalar", T: ir.FromSlice([]float64{math.Pi})},
		{Kind: checkpoint.Buffer, Name: "count", T: ir.FromSlice([]int64{-7, 1 << 40}, 2, 1)},
		{Kind: checkpoint.Buffer, Name: "flags", T: ir.FromSlice([]bool{true, false, true, true}, 2, 2)},
		{Kind: checkpoint.Buffer, Name: "h", T: &ir.Tensor{DType: ir.Float16, Shape: []int{2}, Data: []uint16{0x3c00, 0xc000}}},
		{Kind: checkpoint.Buffer, Name: "i16", T: ir.FromSlice([]int16{-300, 300}, 2)},
		{Kind: checkpoint.Buffer, Name: "u8", T: ir.FromSlice([]uint8{0, 255}, 2)},
		{Kind: checkpoint.Buffer, Name: "c", T: ir.FromSlice([]complex64{1 + 2i}, 1)},
		{Kind: checkpoint.Buffer, Name: "empty", T: ir.FromSlice([]float32{}, 0, 4)},
		{Kind: checkpoint.OptimizerState, Name: "w", T: ir.FromSlice([]float32{0.5}, 1)},
	}
	var buf bytes.Buffer
	if err := checkpoint.Write(&buf, entries); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	got, err := checkpoint.Read(bytes.NewReader(good), int64(len(good)))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(entries) {
		t.Fatalf("%d entries back, wrote %d", len(got), len(entries))
	}
	for i, e := range entries {
		g := got[i]
		if g.Kind != e.Kind || g.Name != e.Name || g.T.DType != e.T.DType || g.T.String() != e.T.String() {
			t.Errorf("entry %d: %v %q %v, wrote %v %q %v", i, g.Kind, g.Name, g.T, e.Kind, e.Name, e.T)
		}
	}
	if !bytes.HasPrefix(good, []byte("KEENCKPT\x01\x00\x00\x00")) {
		t.Errorf("header % x", good[:12])
	}
	flip := append([]byte(nil), good...)
	flip[len(flip)-5] ^= 0x10 // inside the last tensor's data
	version := append([]byte(nil), good...)
	version[8] = 2
	huge := append([]byte(nil), good[:16]...) // a header claiming a giant tensor
	huge = append(huge, 1, 1, 0, 'x', 1, 0, 0, 0, 2)
	huge = append(huge, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0)
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "short header"},
		{"magic", []byte("NOTACKPT\x01\x00\x00\x00\x00\x00\x00\x00"), "bad magic"},
		{"version", version, "format version 2"},
		{"truncated", good[:len(good)-6], "data truncated"},
		{"no crc", good[:len(good)-4], "missing CRC"},
		{"flipped bit", flip, "CRC"},
		{"giant dims", huge, "too large"},
	} {
		_, err := checkpoint.Read(bytes.NewReader(c.data), int64(len(c.data)))
		if err == nil || !errors.Is(err, checkpoint.ErrFormat) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want ErrFormat saying %q", c.name, err, c.want)
		}
	}
	dup := append(entries[:1:1], entries[0])
	if err := checkpoint.Write(&bytes.Buffer{}, dup); err == nil || !strings.Contains(err.Error(), `two parameter entries named "w"`) {
		t.Errorf("duplicate names: %v", err)
	}
	str := []checkpoint.Entry{{Kind: checkpoint.Param, Name: "s", T: ir.FromSlice([]string{"a"}, 1)}}
	if err := checkpoint.Write(&bytes.Buffer{}, str); err == nil || !strings.Contains(err.Error(), "cannot be stored") {
		t.Errorf("string tensor: %v", err)
	}
}

// TestSaveIsAtomic: saving over a checkpoint replaces it whole and leaves
// no temporary files; a failed save leaves the old file untouched.
func TestSaveIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.ckpt")
	m := newNet(1)
	if err := checkpoint.Save(path, m, nil); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(path)
	bad := []checkpoint.Entry{{Kind: checkpoint.Param, Name: "s", T: ir.FromSlice([]string{"a"}, 1)}}
	if err := checkpoint.WriteFile(path, bad); err == nil {
		t.Fatal("writing a string tensor succeeded")
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, old) {
		t.Fatal("a failed save changed the existing checkpoint")
	}
	train(t, m, optim.NewSGD(nn.Params(m), 0.1, 0), 0, 1)
	if err := checkpoint.Save(path, m, nil); err != nil {
		t.Fatal(err)
	}
	if now, _ := os.ReadFile(path); bytes.Equal(now, old) {
		t.Fatal("saving a trained model left the old checkpoint")
	}
	files, _ := os.ReadDir(dir)
	if len(files) != 1 {
		var names []string
		for _, f := range files {
			names = append(names, f.Name())
		}
		t.Fatalf("the folder holds %v, want only m.ckpt", names)
	}
	if err := checkpoint.Save(filepath.Join(dir, "no", "such", "dir", "m.ckpt"), m, nil); err == nil {
		t.Fatal("saving into a missing folder succeeded")
	}
}
