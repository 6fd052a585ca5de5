package cpu

// RNN, GRU and LSTM kernels: one driver walks directions and time steps;
// each op supplies the cell update of one batch row.

import (
	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

func init() {
	reg("RNN", 1, prepRNN)
	reg("GRU", 1, prepGRU)
	reg("LSTM", 1, prepLSTM)
}

// mxCell updates one batch row in place: xg are the input projections plus
// W bias (gates*hidden), hg the recurrent projections h·Rᵀ (gates*hidden),
// h and cs the row's hidden and cell state.
type mxCell[T mxFloat] func(dir int, xg, hg, h, cs []T)

// mxRunRecurrent runs all directions and time steps of a recurrent node.
// rb returns the recurrent bias of a direction (added to hg before the cell).
func mxRunRecurrent[T mxFloat](c *mxRNNConf, d *mxRNNData[T], cell mxCell[T], skipRB bool) *mxRNNOut[T] {
	S, B, I, H, G := d.seq, d.batch, d.input, c.hidden, c.gates
	gh := G * H
	out := newMxRNNOut(c, d)
	xg := make([]T, S*B*gh)
	hg := make([]T, B*gh)
	for dir := 0; dir < c.dirs; dir++ {
		w := d.w[dir*gh*I : (dir+1)*gh*I]
		r := d.r[dir*gh*H : (dir+1)*gh*H]
		mxMatMulNT(xg, d.x, w, S*B, gh, I, false)
		var wb, rb []T
		if d.b != nil {
			wb = d.b[dir*2*gh : dir*2*gh+gh]
			rb = d.b[dir*2*gh+gh : (dir+1)*2*gh]
			for row := 0; row < S*B; row++ {
				for j, v := range wb {
					xg[row*gh+j] += v
				}
			}
		}
		h := make([]T, B*H)
		cs := make([]T, B*H)
		if d.h0 != nil {
			copy(h, d.h0[dir*B*H:(dir+1)*B*H])
		}
		if d.c0 != nil {
			copy(cs, d.c0[dir*B*H:(dir+1)*B*H])
		}
		for s := 0; s < S; s++ {
			mxMatMulNT(hg, h, r, B, gh, H, false)
			for b := 0; b < B; b++ {
				l := d.lens[b]
				if s >= l {
					continue
				}
				hr := hg[b*gh : (b+1)*gh]
				if rb != nil && !skipRB {
					for j, v := range rb {
						hr[j] += v
					}
				}
				t := c.timeOf(dir, s, l)
				cell(dir, xg[(t*B+b)*gh:(t*B+b+1)*gh], hr, h[b*H:(b+1)*H], cs[b*H:(b+1)*H])
				copy(out.y[((t*c.dirs+dir)*B+b)*H:][:H], h[b*H:(b+1)*H])
			}
		}
		copy(out.yh[dir*B*H:], h)
		copy(out.yc[dir*B*H:], cs)
	}
	return out
}

func prepRNN(s *backends.OpSpec) (kernelFunc, error) {
	c, err := mxParseRNN(s, 1, []string{"Tanh"})
	if err != nil {
		return nil, err
	}
	return mxRNNPrepare(s, c, mxRNNKernel[float32](c, s.NumOutputs), mxRNNKernel[float64](c, s.NumOutputs))
}

// Ht = f(Xt·Wᵀ + Ht-1·Rᵀ + Wb + Rb)
func mxRNNKernel[T mxFloat](c *mxRNNConf, numOut int) kernelFunc {
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		d, err := mxLoadRNN[T](c, in)
		if err != nil {
			return nil, err
		}
		cell := func(dir int, xg, hg, h, _ []T) {
			f := c.acts[dir][0]
			for j := range h {
				h[j] = T(f(c.clipped(float64(xg[j] + hg[j]))))
			}
		}
		return mxRunRecurrent(c, d, cell, false).tensors(c, d, numOut), nil
	}
}

func prepGRU(s *backends.OpSpec) (kernelFunc, error) {
	c, err := mxParseRNN(s, 3, []string{"Sigmoid", "Tanh"})
	if err != nil {
		return nil, err
	}
	c.flag = s.Attrs.Int("linear_before_reset", 0) != 0
	return mxRNNPrepare(s, c, mxGRUKernel[float32](c, s.NumOutputs), mxGRUKernel[float64](c, s.NumOutputs))
}

// zt = f(Xt·Wzᵀ + Ht-1·Rzᵀ + Wbz + Rbz), rt likewise,
// ht = g(Xt·Whᵀ + (rt⊙Ht-1)·Rhᵀ + Rbh + Wbh)     (linear_before_reset 0)
// ht = g(Xt·Whᵀ + rt⊙(Ht-1·Rhᵀ + Rbh) + Wbh)     (linear_before_reset 1)
// Ht = (1-zt)⊙ht + zt⊙Ht-1
func mxGRUKernel[T mxFloat](c *mxRNNConf, numOut int) kernelFunc {
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		d, err := mxLoadRNN[T](c, in)
		if err != nil {
			return nil, err
		}
		H := c.hidden
		rh, z, r, prod := make([]T, H), make([]T, H), make([]T, H), make([]T, H)
		cell := func(dir int, xg, hg, h, _ []T) {
			f, g := c.acts[dir][0], c.acts[dir][1]
			var rb []T
			if d.b != nil {
				rb = d.b[(dir*6+3)*H : (dir+1)*6*H]
			}
			bias := func(j int) T {
				if rb == nil {
					return 0
				}
				return rb[j]
			}
			for j := 0; j < H; j++ {
				z[j] = T(f(c.clipped(float64(xg[j] + hg[j] + bias(j)))))
				r[j] = T(f(c.clipped(float64(xg[H+j] + hg[H+j] + bias(H+j)))))
			}
			if c.flag {
				for j := 0; j < H; j++ {
					rh[j] = r[j] * (hg[2*H+j] + bias(2*H+j))
				}
			} else {
				for j := 0; j < H; j++ {
					rh[j] = r[j] * h[j]
				}
				rmat := d.r[(dir*3+2)*H*H : (dir*3+3)*H*H]
				mxMatMulNT(prod, rh, rmat, 1, H, H, false)
				for j := 0; j < H; j++ {
					rh[j] = prod[j] + bias(2*H+j)
				}
			}
			for j := 0; j < H; j++ {
				ht := T(g(c.clipped(float64(xg[2*H+j] + rh[j]))))
				h[j] = (1-z[j])*ht + z[j]*h[j]
			}
		}
		return mxRunRecurrent(c, d, cell, true).tensors(c, d, numOut), nil
	}
}

func prepLSTM(s *backends.OpSpec) (kernelFunc, error) {
	c, err := mxParseRNN(s, 4, []string{"Sigmoid", "Tanh", "Tanh"})
	if err != nil {
		return nil, err
	}
	c.flag = s.Attrs.Int("input_forget", 0) != 0
	return mxRNNPrepare(s, c, mxLSTMKernel[float32](c, s.NumOutputs), mxLSTMKernel[float64](c, s.NumOutputs))
}

// it = f(Xt·Wiᵀ + Ht-1·Riᵀ + Pi⊙Ct-1 + Wbi + Rbi)
// ft = f(Xt·Wfᵀ + Ht-1·Rfᵀ + Pf⊙Ct-1 + Wbf + Rbf)   (1-it with input_forget)
// ct = g(Xt·Wcᵀ + Ht-1·Rcᵀ + Wbc + Rbc)
// Ct = ft⊙Ct-1 + it⊙ct
// ot = f(Xt·Woᵀ + Ht-1·Roᵀ + Po⊙Ct + Wbo + Rbo)
// Ht = ot⊙h(Ct)
func mxLSTMKernel[T mxFloat](c *mxRNNConf, numOut int) kernelFunc {
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		d, err := mxLoadRNN[T](c, in)
		if err != nil {
			return nil, err
		}
		H := c.hidden
		cell := func(dir int, xg, hg, h, cs []T) {
			f, g, hf := c.acts[dir][0], c.acts[dir][1], c.acts[dir][2]
			var pi, po, pf []T
			if d.p != nil {
				p := d.p[dir*3*H : (dir+1)*3*H]
				pi, po, pf = p[:H], p[H:2*H], p[2*H:]
			}
			peep := func(p []T, j int, cv T) float64 {
				if p == nil {
					return 0
				}
				return float64(p[j] * cv)
			}
			for j := 0; j < H; j++ {
				pre := func(k int) float64 { return float64(xg[k*H+j] + hg[k*H+j]) }
				i := f(c.clipped(pre(0) + peep(pi, j, cs[j])))
				var ft float64
				if c.flag {
					ft = 1 - i
				} else {
					ft = f(c.clipped(pre(2) + peep(pf, j, cs[j])))
				}
				ct := g(c.clipped(pre(3)))
				cn := ft*float64(cs[j]) + i*ct
				cs[j] = T(cn)
				o := f(c.clipped(pre(1) + peep(po, j, cs[j])))
				h[j] = T(o * hf(cn))
			}
		}
		return mxRunRecurrent(c, d, cell, false).tensors(c, d, numOut), nil
	}
}
