package cpu

import (
	"fmt"
	"math"

	"github.com/keenml/keen/ir"
)

// mxAttnMask decides, for query row (b, h, i) and key j, whether the key is
// attended and which additive bias it gets: the attn_mask input (padded
// with "not attended" up to the total sequence length), the causal
// frontier, the sliding window and the nonpad_kv_seqlen padding.
type mxAttnMask struct {
	causal      bool
	left, right int
	offs        []int // per batch: valid keys before the query block
	nonpad      []int // per batch valid key count; nil when not given
	bools       []bool
	vals        []float64
	st          [4]int // strides of attn_mask broadcast to (b, h, sq, m)
	m           int    // last dim of attn_mask; 0 when absent
}

func mxAttnMaskOf(c *mxAttnConf, b, qh, sq, past, total int, mask *ir.Tensor, hasPast bool, nonpad *ir.Tensor) (*mxAttnMask, error) {
	m := &mxAttnMask{causal: c.causal, left: c.left, right: c.right, offs: make([]int, b)}
	if nonpad != nil {
		if nonpad.Len() != b {
			return nil, fmt.Errorf("Attention: %w: input 6 (nonpad_kv_seqlen) has shape %v, want [%d]", errShape, nonpad.Shape, b)
		}
		v, err := nonpad.Int64s()
		if err != nil {
			return nil, fmt.Errorf("Attention: %w: input 6: %v", errDType, err)
		}
		m.nonpad = make([]int, b)
		for i, n := range v {
			if n < 0 || n > int64(total) {
				return nil, fmt.Errorf("Attention: %w: nonpad_kv_seqlen[%d] = %d outside [0, %d]", errInput, i, n, total)
			}
			m.nonpad[i] = int(n)
		}
	}
	for i := range m.offs {
		switch {
		case hasPast:
			m.offs[i] = past
		case m.nonpad != nil:
			m.offs[i] = m.nonpad[i] - sq
		}
	}
	if mask == nil {
		return m, nil
	}
	r := mask.Rank()
	if r < 1 || r > 4 || mask.Shape[r-1] > total {
		return nil, fmt.Errorf("Attention: %w: attn_mask %v does not fit (%d, %d, %d, %d)", errShape, mask.Shape, b, qh, sq, total)
	}
	full := []int{b, qh, sq}
	lead := mask.Shape[:r-1]
	st := stridesOf(mask.Shape)
	for k := range lead {
		ax := 3 - len(lead) + k
		if lead[k] != 1 && lead[k] != full[ax] {
			return nil, fmt.Errorf("Attention: %w: attn_mask %v does not broadcast to (%d, %d, %d, %d)", errShape, mask.Shape, b, qh, sq, total)
		}
		if lead[k] != 1 {
			m.st[ax] = st[k]
		}
	}
	m.st[3] = 1
	m.m = mask.Shape[r-1]
	if mask.DType == ir.Bool {
		m.bools = mask.Data.([]bool)
	} else {
		m.vals = make([]float64, mask.Len())
		for i := range m.vals {
			m.vals[i] = mask.Float64At(i)
		}
	}
	if m.m == 0 {
		m.m = -1
	}
	return m, nil
}

// at reports whether key j is attended by query (b, h, i) and its bias.
func (m *mxAttnMask) at(b, h, i, j int) (bool, float64) {
	bias := 0.0
	if m.m != 0 {
		if j >= m.m {
			return false, 0
		}
		idx := b*m.st[0] + h*m.st[1] + i*m.st[2] + j
		if m.bools != nil {
			if !m.bools[idx] {
				return false, 0
			}
		} else {
			bias = m.vals[idx]
			if math.IsInf(bias, -1) {
				return false, 0
			}
		}
	}
	p := m.offs[b] + i
	if m.causal && j > p {
		return false, 0
	}
	if m.left >= 0 && j < p-m.left || m.right >= 0 && j > p+m.right {
		return false, 0
	}
	if m.nonpad != nil && j >= m.nonpad[b] {
		return false, 0
	}
	return true, bias
}
