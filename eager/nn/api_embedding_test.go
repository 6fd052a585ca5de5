package nn_test

import (
	"math/rand"
	"testing"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/eager/losses"
	"github.com/keenml/keen/eager/nn"
	"github.com/keenml/keen/eager/optim"
)

// An embedding model maps a bag of token ids to a unit vector: Embedding,
// mean pooling over the tokens, a Linear projection, L2 normalization.
// It learns a toy similarity: two "sentences" about the same topic should
// have cosine similarity 1, sentences about different simTopics 0.

const (
	simTopics      = 4
	simTopicTokens = 6 // tokens 0..23 belong to a topic each
	simNoiseTokens = 6 // tokens 24..29 appear everywhere
	simVocab       = simTopics*simTopicTokens + simNoiseTokens
	simSentenceLen = 6 // 4 topic tokens and 2 noise tokens
)

type encoder struct {
	Emb  *nn.Embedding
	Proj *nn.Linear
}

// Forward maps ids [N, T] to unit vectors [N, D].
func (e *encoder) Forward(ids *eager.Tensor) *eager.Tensor {
	pooled := eager.ReduceMean(e.Emb.Forward(ids), []int64{1}, false) // [N, E]
	v := e.Proj.Forward(pooled)
	norm := eager.Sqrt(eager.Add(eager.ReduceSum(eager.Mul(v, v), []int64{1}, true), eager.ScalarLike(v, 1e-8)))
	return eager.Div(v, norm)
}

// sentence draws a sentence about topic.
func sentence(r *rand.Rand, topic int) []int64 {
	s := make([]int64, 0, simSentenceLen)
	for i := 0; i < simSentenceLen-2; i++ {
		s = append(s, int64(topic*simTopicTokens+r.Intn(simTopicTokens)))
	}
	for i := 0; i < 2; i++ {
		s = append(s, int64(simTopics*simTopicTokens+r.Intn(simNoiseTokens)))
	}
	r.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	return s
}

// pairs draws n sentence pairs, half about the same topic; target is 1 for
// those and 0 for the rest.
func pairs(r *rand.Rand, n int) (a, b *eager.Tensor, target []float32) {
	var as, bs []int64
	for i := 0; i < n; i++ {
		ta, tb := r.Intn(simTopics), r.Intn(simTopics)
		if i%2 == 0 {
			tb = ta
		} else {
			for tb == ta {
				tb = r.Intn(simTopics)
			}
		}
		as = append(as, sentence(r, ta)...)
		bs = append(bs, sentence(r, tb)...)
		target = append(target, float32(1-i%2))
	}
	return eager.New(as, n, simSentenceLen), eager.New(bs, n, simSentenceLen), target
}

// cosine is the row-wise dot product of unit vectors: [N].
func cosine(u, v *eager.Tensor) *eager.Tensor {
	return eager.ReduceSum(eager.Mul(u, v), []int64{1}, false)
}

func TestEmbeddingModelLearnsSimilarity(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	m := &encoder{Emb: nn.NewEmbedding(simVocab, 16, nn.Seed(1)), Proj: nn.NewLinear(16, 16, nn.Seed(2))}
	opt := optim.NewAdam(nn.Params(m), 0.02)
	evalA, evalB, evalT := pairs(r, 400)
	evaluate := func() (same, diff, acc float64) {
		var sims []float32
		eager.NoGrad(func() { sims = cosine(m.Forward(evalA), m.Forward(evalB)).Floats() })
		for i, s := range sims {
			if evalT[i] == 1 {
				same += float64(s) / 200
			} else {
				diff += float64(s) / 200
			}
			if (s > 0.5) == (evalT[i] == 1) {
				acc += 1.0 / 400
			}
		}
		return same, diff, acc
	}
	same0, diff0, acc0 := evaluate()
	for step := 0; step < 200; step++ {
		a, b, target := pairs(r, 64)
		tape := eager.NewTape()
		loss := losses.MSE(cosine(m.Forward(a), m.Forward(b)), eager.New(target, 64))
		if err := opt.Step(tape.Gradient(loss, opt.Params()...)); err != nil {
			t.Fatal(err)
		}
	}
	same, diff, acc := evaluate()
	t.Logf("held-out mean cosine: same topic %.3f -> %.3f, different topics %.3f -> %.3f; accuracy at 0.5: %.3f -> %.3f",
		same0, same, diff0, diff, acc0, acc)
	if same < 0.8 || diff > 0.2 || acc < 0.97 {
		t.Fatalf("same-topic cosine %.3f (want >= 0.8), different-topic %.3f (want <= 0.2), accuracy %.3f (want >= 0.97)", same, diff, acc)
	}
}
