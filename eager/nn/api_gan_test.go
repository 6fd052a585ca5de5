package nn_test

import (
	"math"
	"math/rand"
	"testing"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/eager/losses"
	"github.com/keenml/keen/eager/nn"
	"github.com/keenml/keen/eager/optim"
)

// A GAN is two ordinary Go models, two optimizers and one loop. The
// generator maps noise to numbers; the discriminator tells them from
// samples of N(3, 0.5²).

type generator struct {
	FC1, FC2 *nn.Linear
}

func (g *generator) Forward(z *eager.Tensor) *eager.Tensor {
	return g.FC2.Forward(eager.LeakyRelu(g.FC1.Forward(z), 0.2))
}

type discriminator struct {
	FC1, FC2 *nn.Linear
}

// Forward returns a logit per sample: high means "real".
func (d *discriminator) Forward(x *eager.Tensor) *eager.Tensor {
	return d.FC2.Forward(eager.LeakyRelu(d.FC1.Forward(x), 0.2))
}

// normals is an [n, dim] tensor of N(mean, std²) samples.
func normals(r *rand.Rand, n, dim int, mean, std float64) *eager.Tensor {
	v := make([]float32, n*dim)
	for i := range v {
		v[i] = float32(mean + std*r.NormFloat64())
	}
	return eager.New(v, n, dim)
}

func TestGANLearnsATargetDistribution(t *testing.T) {
	const target, batch, steps = 3.0, 64, 600
	r := rand.New(rand.NewSource(1))
	gen := &generator{FC1: nn.NewLinear(4, 16, nn.Seed(1)), FC2: nn.NewLinear(16, 1, nn.Seed(2))}
	disc := &discriminator{FC1: nn.NewLinear(1, 32, nn.Seed(3)), FC2: nn.NewLinear(32, 1, nn.Seed(4))}
	optG := optim.NewAdam(nn.Params(gen), 0.01)
	optD := optim.NewAdam(nn.Params(disc), 0.01)
	optG.Beta1, optD.Beta1 = 0.5, 0.5       // the usual GAN setting
	lr := optim.Cosine(0.01, 0.0005, steps) // calm the oscillation at the end

	sampleMean := func() float64 {
		var m float64
		eager.NoGrad(func() { m = eager.Mean(gen.Forward(normals(r, 1000, 4, 0, 1))).Item() })
		return m
	}
	startMean := sampleMean()
	var lossD, lossG float64 // averaged over the last 100 steps
	for step := 0; step < steps; step++ {
		optG.SetLR(lr(step))
		optD.SetLR(lr(step))
		real := normals(r, batch, 1, target, 0.5)
		z := normals(r, batch, 4, 0, 1)

		// Discriminator step: real -> 1, fake -> 0. Detach keeps the
		// generator out of this gradient.
		tape := eager.NewTape()
		dReal, dFake := disc.Forward(real), disc.Forward(gen.Forward(z).Detach())
		ld := eager.Add(losses.BCEWithLogits(dReal, eager.OnesLike(dReal)), losses.BCEWithLogits(dFake, eager.ZerosLike(dFake)))
		if err := optD.Step(tape.Gradient(ld, optD.Params()...)); err != nil {
			t.Fatal(err)
		}

		// Generator step: make the discriminator say "real". The gradient
		// flows through the discriminator, whose parameters stay put.
		tape = eager.NewTape()
		dGen := disc.Forward(gen.Forward(z))
		lg := losses.BCEWithLogits(dGen, eager.OnesLike(dGen))
		if err := optG.Step(tape.Gradient(lg, optG.Params()...)); err != nil {
			t.Fatal(err)
		}
		if step >= steps-100 {
			lossD += ld.Item() / 100
			lossG += lg.Item() / 100
		}
	}
	endMean := sampleMean()
	t.Logf("generator mean %.3f -> %.3f (target %.1f); last-100 losses: D %.3f, G %.3f (equilibrium: 2 ln 2 = 1.386, ln 2 = 0.693)",
		startMean, endMean, target, lossD, lossG)
	if math.Abs(startMean-target) < 2 {
		t.Fatalf("the untrained generator's mean %.3f is already near the target", startMean)
	}
	if math.Abs(endMean-target) > 0.15 {
		t.Fatalf("generator mean %.3f, want within 0.15 of %.1f", endMean, target)
	}
	// Near equilibrium neither side wins: D's loss stays near 2 ln 2 and
	// G's near ln 2, rather than one collapsing to 0.
	if lossD < 1.2 || lossD > 1.6 || lossG < 0.5 || lossG > 0.9 {
		t.Fatalf("last-100 losses D %.3f, G %.3f are far from the equilibrium values", lossD, lossG)
	}
}
