package main

import (
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/keenml/keen/ir"
)

// nodeProfile collects per-node times for `onnxrun bench --nodes`.
type nodeProfile struct {
	mu    sync.Mutex
	order []*ir.Node
	times map[*ir.Node][]time.Duration
}

func newNodeProfile() *nodeProfile { return &nodeProfile{times: map[*ir.Node][]time.Duration{}} }

func (p *nodeProfile) observe(n *ir.Node, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.times[n]; !ok {
		p.order = append(p.order, n)
	}
	p.times[n] = append(p.times[n], d)
}

func (p *nodeProfile) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.order, p.times = nil, map[*ir.Node][]time.Duration{}
}

// print writes one line per node, slowest first: median ms over the runs,
// its share of the sum of medians and the running share, op and name.
// Nodes inside subgraphs (If, Loop, Scan bodies) are listed as well, so
// their time also counts in the node that holds them.
func (p *nodeProfile) print(w io.Writer, runs int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	type row struct {
		n     *ir.Node
		med   float64
		calls int
	}
	rows := make([]row, 0, len(p.order))
	total := 0.0
	for _, n := range p.order {
		ts := slices.Clone(p.times[n])
		slices.Sort(ts)
		med := float64(ts[len(ts)/2].Microseconds()) / 1000 * float64(len(ts)) / float64(max(runs, 1))
		rows = append(rows, row{n, med, len(ts)})
		total += med
	}
	slices.SortStableFunc(rows, func(a, b row) int {
		switch {
		case a.med > b.med:
			return -1
		case a.med < b.med:
			return 1
		}
		return 0
	})
	fmt.Fprintf(w, "%9s %6s %6s  %-16s %s\n", "ms/run", "share", "cum", "op", "node")
	cum := 0.0
	for _, r := range rows {
		cum += r.med
		name := r.n.Name
		if name == "" && len(r.n.Outputs) > 0 {
			name = "-> " + r.n.Outputs[0]
		}
		fmt.Fprintf(w, "%9.3f %5.1f%% %5.1f%%  %-16s %s\n", r.med, 100*r.med/max(total, 1e-9), 100*cum/max(total, 1e-9), r.n.OpType, name)
	}
	fmt.Fprintf(w, "%9.3f  sum of node medians (%d nodes)\n", total, len(rows))
}
