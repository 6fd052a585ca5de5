package nn

import (
	"math"
	"math/rand"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

// Option configures a layer's construction.
type Option func(*config)

type config struct {
	seed    int64
	noBias  bool
	dtype   ir.DType
	hasSeed bool
}

// Seed makes a layer's initial weights deterministic.
func Seed(s int64) Option { return func(c *config) { c.seed, c.hasSeed = s, true } }

// NoBias leaves out the layer's bias.
func NoBias() Option { return func(c *config) { c.noBias = true } }

// DType sets the parameters' element type (float32 by default).
func DType(dt ir.DType) Option { return func(c *config) { c.dtype = dt } }

var seedCounter int64 = 1

func newConfig(opts []Option) *config {
	c := &config{dtype: ir.Float32}
	for _, o := range opts {
		o(c)
	}
	if !c.hasSeed {
		c.seed = seedCounter
		seedCounter++
	}
	return c
}

func (c *config) rng() *rand.Rand { return rand.New(rand.NewSource(c.seed)) }

// uniform makes a parameter of shape with values in [-bound, bound).
func uniform(c *config, r *rand.Rand, bound float64, shape ...int) *eager.Tensor {
	t := ir.Zeros(ir.Float64, shape...)
	d := t.Data.([]float64)
	for i := range d {
		d[i] = (2*r.Float64() - 1) * bound
	}
	return fromF64(c, t)
}

// normal makes a parameter with N(0, std²) values.
func normal(c *config, r *rand.Rand, std float64, shape ...int) *eager.Tensor {
	t := ir.Zeros(ir.Float64, shape...)
	d := t.Data.([]float64)
	for i := range d {
		d[i] = r.NormFloat64() * std
	}
	return fromF64(c, t)
}

// constant makes a parameter filled with v.
func constant(c *config, v float64, shape ...int) *eager.Tensor {
	t := ir.Zeros(ir.Float64, shape...)
	d := t.Data.([]float64)
	for i := range d {
		d[i] = v
	}
	return fromF64(c, t)
}

func fromF64(c *config, t *ir.Tensor) *eager.Tensor {
	var h *ir.Tensor
	switch c.dtype {
	case ir.Float64:
		h = t
	default:
		src := t.Data.([]float64)
		dst := make([]float32, len(src))
		for i, v := range src {
			dst[i] = float32(v)
		}
		h = ir.FromSlice(dst, t.Shape...)
	}
	e, err := eager.FromHost(nil, h)
	if err != nil {
		panic("nn: " + err.Error())
	}
	return e
}

// kaimingBound is PyTorch's default bound 1/sqrt(fan_in) for weights and biases.
func kaimingBound(fanIn int) float64 { return 1 / math.Sqrt(float64(max(fanIn, 1))) }
