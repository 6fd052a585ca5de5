package cpu

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

func init() { reg("TfIdfVectorizer", 9, prepTfIdfVectorizer) }

// mxTfIdf is the parsed n-gram pool: pool maps an n-gram key to its index
// in ngram_indexes.
type mxTfIdf struct {
	minN, maxN, skip int
	mode             string
	pool             []map[string]int // by gram length
	indexes          []int64
	weights          []float32
	size             int
	strs             bool
}

func prepTfIdfVectorizer(s *backends.OpSpec) (kernelFunc, error) {
	a := s.Attrs
	t := &mxTfIdf{
		minN: int(a.Int("min_gram_length", 0)), maxN: int(a.Int("max_gram_length", 0)),
		skip: int(a.Int("max_skip_count", 0)), mode: a.Str("mode", ""),
		indexes: a.Ints("ngram_indexes", nil), weights: a.Floats("weights", nil),
	}
	if t.minN < 1 || t.maxN < t.minN || t.skip < 0 || (t.mode != "TF" && t.mode != "IDF" && t.mode != "TFIDF") {
		return nil, fmt.Errorf("TfIdfVectorizer: %w: gram lengths [%d, %d], max_skip_count %d, mode %q", errAttr, t.minN, t.maxN, t.skip, t.mode)
	}
	if t.weights != nil && len(t.weights) != len(t.indexes) {
		return nil, fmt.Errorf("TfIdfVectorizer: %w: %d weights for %d ngram_indexes", errAttr, len(t.weights), len(t.indexes))
	}
	for _, v := range t.indexes {
		if v < 0 || v > 1<<24 {
			return nil, fmt.Errorf("TfIdfVectorizer: %w: ngram index %d", errAttr, v)
		}
		t.size = max(t.size, int(v)+1)
	}
	var keys []string
	if ps := a.Strs("pool_strings", nil); ps != nil {
		t.strs, keys = true, ps
	} else {
		for _, v := range a.Ints("pool_int64s", nil) {
			keys = append(keys, mxIntKey(v))
		}
	}
	if err := t.buildPool(keys, a.Ints("ngram_counts", nil)); err != nil {
		return nil, err
	}
	dt := inputType(s.InputTypes, 0)
	if t.strs != (dt == ir.String) || (dt != ir.String && dt != ir.Int32 && dt != ir.Int64) {
		return nil, fmt.Errorf("TfIdfVectorizer: %w: input 0 is %v for this pool", errDType, dt)
	}
	return t.run, nil
}

func mxIntKey(v int64) string {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(v))
	return string(b[:])
}

// buildPool splits the flat pool into n-gram groups by ngram_counts.
func (t *mxTfIdf) buildPool(keys []string, counts []int64) error {
	idx := 0
	t.pool = make([]map[string]int, len(counts)+1)
	for g, start := range counts {
		n := g + 1
		end := int64(len(keys))
		if g+1 < len(counts) {
			end = counts[g+1]
		}
		if start < 0 || end < start || end > int64(len(keys)) || (end-start)%int64(n) != 0 {
			return fmt.Errorf("TfIdfVectorizer: %w: ngram_counts %v for a pool of %d", errAttr, counts, len(keys))
		}
		t.pool[n] = map[string]int{}
		for p := int(start); p < int(end); p += n {
			if idx >= len(t.indexes) {
				return fmt.Errorf("TfIdfVectorizer: %w: more n-grams than ngram_indexes (%d)", errAttr, len(t.indexes))
			}
			t.pool[n][strings.Join(keys[p:p+n], "\x00")] = idx
			idx++
		}
	}
	return nil
}

func (t *mxTfIdf) run(in []*ir.Tensor) ([]*ir.Tensor, error) {
	if err := needInputs(in, 1); err != nil {
		return nil, fmt.Errorf("TfIdfVectorizer: %w", err)
	}
	x := in[0]
	var toks []string
	if t.strs {
		toks = x.Data.([]string)
	} else {
		v, err := x.Int64s()
		if err != nil {
			return nil, fmt.Errorf("TfIdfVectorizer: %w: %v", errDType, err)
		}
		for _, e := range v {
			toks = append(toks, mxIntKey(e))
		}
	}
	rows, c := 1, x.Len()
	switch {
	case x.Rank() == 2:
		rows, c = x.Shape[0], x.Shape[1]
	case x.Rank() != 1:
		return nil, fmt.Errorf("TfIdfVectorizer: %w: input 0 has shape %v, want 1-D or 2-D", errShape, x.Shape)
	}
	out := make([]float32, rows*t.size)
	for r := 0; r < rows; r++ {
		t.countRow(toks[r*c:(r+1)*c], out[r*t.size:(r+1)*t.size])
	}
	if x.Rank() == 2 {
		return one(ir.FromSlice(out, rows, t.size))
	}
	return one(ir.FromSlice(out, t.size))
}

// countRow counts the pool n-grams of one row (1-grams once, longer grams
// at every skip distance) and applies the weighting mode.
func (t *mxTfIdf) countRow(toks []string, out []float32) {
	counts := make([]float32, len(t.indexes))
	key := make([]string, 0, t.maxN)
	for n := t.minN; n <= t.maxN && n < len(t.pool); n++ {
		pool := t.pool[n]
		if len(pool) == 0 {
			continue
		}
		maxSkip := t.skip
		if n == 1 {
			maxSkip = 0
		}
		for s := 0; s <= maxSkip; s++ {
			for i := 0; i+(n-1)*(s+1) < len(toks); i++ {
				key = key[:0]
				for k := 0; k < n; k++ {
					key = append(key, toks[i+k*(s+1)])
				}
				if idx, ok := pool[strings.Join(key, "\x00")]; ok {
					counts[idx]++
				}
			}
		}
	}
	for i, v := range counts {
		if v == 0 {
			continue
		}
		w := float32(1)
		if t.weights != nil {
			w = t.weights[i]
		}
		switch t.mode {
		case "IDF":
			v = w
		case "TFIDF":
			v *= w
		}
		out[t.indexes[i]] = v
	}
}
