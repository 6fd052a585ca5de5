package cpu

// Random generators: RandomNormal, RandomUniform, their *Like forms,
// Bernoulli and Multinomial. A node with a seed gets its own generator,
// created at prepare time, whose stream continues across runs (so the
// kernel is reproducible per prepared kernel, as in ONNX Runtime); without
// a seed each prepared kernel is seeded from the process's entropy.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

func init() {
	reg("RandomNormal", 1, prepRandom(true, false))
	reg("RandomUniform", 1, prepRandom(false, false))
	reg("RandomNormalLike", 1, prepRandom(true, true))
	reg("RandomUniformLike", 1, prepRandom(false, true))
	reg("Bernoulli", 15, prepBernoulli)
	reg("Multinomial", 7, prepMultinomial)
}

// mxRNG is a goroutine-safe random stream.
type mxRNG struct {
	mu sync.Mutex
	r  *rand.Rand
}

func newMxRNG(a ir.Attrs) *mxRNG {
	if s := a.Find("seed"); s != nil {
		bits := uint64(math.Float32bits(s.Float))
		return &mxRNG{r: rand.New(rand.NewPCG(bits, bits^0x9e3779b97f4a7c15))}
	}
	return &mxRNG{r: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
}

// fill sets vals from draw under the lock.
func (g *mxRNG) fill(vals []float64, draw func(r *rand.Rand) float64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := range vals {
		vals[i] = draw(g.r)
	}
}

func mxRandomFloatType(op string, dt ir.DType) error {
	switch dt {
	case ir.Float32, ir.Float64, ir.Float16, ir.BFloat16:
		return nil
	}
	return fmt.Errorf("%s: %w: dtype %v, want a float type", op, errAttr, dt)
}

func prepRandom(normal, like bool) prepareFunc {
	return func(s *backends.OpSpec) (kernelFunc, error) {
		g := newMxRNG(s.Attrs)
		var a, b float64 // mean, scale or low, high
		if normal {
			a, b = float64(s.Attrs.Float("mean", 0)), float64(s.Attrs.Float("scale", 1))
		} else {
			a, b = float64(s.Attrs.Float("low", 0)), float64(s.Attrs.Float("high", 1))
		}
		draw := func(r *rand.Rand) float64 { return a + (b-a)*r.Float64() }
		if normal {
			draw = func(r *rand.Rand) float64 { return a + b*r.NormFloat64() }
		}
		dt := ir.DType(s.Attrs.Int("dtype", int64(ir.Float32)))
		var shape []int
		if like {
			dt = ir.DType(s.Attrs.Int("dtype", int64(inputType(s.InputTypes, 0))))
		} else {
			for _, d := range s.Attrs.Ints("shape", nil) {
				if d < 0 {
					return nil, fmt.Errorf("%s: %w: shape %v", s.Op, errAttr, s.Attrs.Ints("shape", nil))
				}
				shape = append(shape, int(d))
			}
			if !s.Attrs.Has("shape") {
				return nil, fmt.Errorf("%s: %w: shape attribute is required", s.Op, errAttr)
			}
			if _, err := ir.NumElements(shape); err != nil {
				return nil, fmt.Errorf("%s: %w: %v", s.Op, errAttr, err)
			}
		}
		if err := mxRandomFloatType(s.Op, dt); err != nil {
			return nil, err
		}
		return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
			sh := shape
			if like {
				if err := needInputs(in, 1); err != nil {
					return nil, fmt.Errorf("%s: %w", s.Op, err)
				}
				sh = in[0].Shape
			}
			vals := make([]float64, ir.Size(sh))
			g.fill(vals, draw)
			return one(mxTensorFrom64(dt, append([]int{}, sh...), vals))
		}, nil
	}
}

func prepBernoulli(s *backends.OpSpec) (kernelFunc, error) {
	g := newMxRNG(s.Attrs)
	in0 := inputType(s.InputTypes, 0)
	if err := mxCheckFloat("Bernoulli", in0, 0); err != nil {
		return nil, err
	}
	dt := ir.DType(s.Attrs.Int("dtype", int64(in0)))
	if dt != ir.Bool {
		if err := mxCheckNumeric("Bernoulli", dt); err != nil {
			return nil, err
		}
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, fmt.Errorf("Bernoulli: %w", err)
		}
		p := mxFloat64s(in[0])
		for i, v := range p {
			if !(v >= 0 && v <= 1) {
				return nil, fmt.Errorf("Bernoulli: %w: probability %v at %d outside [0, 1]", errInput, v, i)
			}
		}
		vals := make([]float64, len(p))
		i := 0
		g.fill(vals, func(r *rand.Rand) float64 {
			v := 0.0
			if r.Float64() < p[i] {
				v = 1
			}
			i++
			return v
		})
		shape := append([]int{}, in[0].Shape...)
		if dt == ir.Bool {
			bs := make([]bool, len(vals))
			for k, v := range vals {
				bs[k] = v != 0
			}
			return one(ir.FromSlice(bs, shape...))
		}
		return one(mxCastFrom64(dt, shape, vals))
	}, nil
}

func prepMultinomial(s *backends.OpSpec) (kernelFunc, error) {
	g := newMxRNG(s.Attrs)
	if err := mxCheckFloat("Multinomial", inputType(s.InputTypes, 0), 0); err != nil {
		return nil, err
	}
	dt := ir.DType(s.Attrs.Int("dtype", int64(ir.Int32)))
	if dt != ir.Int32 && dt != ir.Int64 {
		return nil, fmt.Errorf("Multinomial: %w: dtype %v, want int32 or int64", errAttr, dt)
	}
	n := int(s.Attrs.Int("sample_size", 1))
	if n < 0 {
		return nil, fmt.Errorf("Multinomial: %w: sample_size %d", errAttr, n)
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, fmt.Errorf("Multinomial: %w", err)
		}
		if in[0].Rank() != 2 {
			return nil, fmt.Errorf("Multinomial: %w: input 0 has shape %v, want [batch, classes]", errShape, in[0].Shape)
		}
		b, c := in[0].Shape[0], in[0].Shape[1]
		logits := mxFloat64s(in[0])
		out := make([]float64, b*n)
		cdf := make([]float64, c)
		for bi := 0; bi < b; bi++ {
			row := logits[bi*c : (bi+1)*c]
			mx := math.Inf(-1)
			for _, v := range row {
				mx = math.Max(mx, v)
			}
			sum := 0.0
			for k, v := range row {
				sum += math.Exp(v - mx)
				cdf[k] = sum
			}
			g.fill(out[bi*n:(bi+1)*n], func(r *rand.Rand) float64 {
				u := r.Float64() * sum
				for k, v := range cdf {
					if u < v {
						return float64(k)
					}
				}
				return float64(c - 1)
			})
		}
		return one(mxCastFrom64(dt, []int{b, n}, out))
	}, nil
}
