package main

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
	"github.com/keenml/keen/onnx"
)

func init() {
	commands["inspect"] = command{runInspect, "inspect MODEL [--backend NAME]"}
	commands["ops"] = command{runOps, "ops [--backend NAME]"}
	commands["backends"] = command{runBackends, "backends"}
}

func runInspect(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	var bf backendFlag
	bf.register(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want one MODEL")
	}
	m, err := onnx.ReadModel(pos[0])
	if err != nil {
		return err
	}
	dev, err := bf.open()
	if err != nil {
		return err
	}
	g := m.Graph
	fmt.Fprintf(stdout, "model: %s\nir_version: %d\nproducer: %s %s\n", pos[0], m.IRVersion, m.ProducerName, m.ProducerVersion)
	var ops []string
	for _, o := range m.Opsets {
		d := o.Domain
		if d == "" {
			d = "ai.onnx"
		}
		ops = append(ops, fmt.Sprintf("%s %d", d, o.Version))
	}
	fmt.Fprintf(stdout, "opsets: %s\n", strings.Join(ops, ", "))
	fmt.Fprintln(stdout, "inputs:")
	for _, vi := range g.RealInputs() {
		fmt.Fprintf(stdout, "  %s: %v\n", vi.Name, vi.Type)
	}
	fmt.Fprintln(stdout, "outputs:")
	for _, vi := range g.Outputs {
		fmt.Fprintf(stdout, "  %s: %v\n", vi.Name, vi.Type)
	}
	var params, bytes int64
	for _, t := range g.Initializers {
		params += int64(t.Len())
		bytes += int64(t.Len()) * int64(max(t.DType.Bits(), 8)) / 8
	}
	fmt.Fprintf(stdout, "parameters: %d in %d initializers (%d bytes)\n", params, len(g.Initializers), bytes)
	hist := map[string]int{}
	countOps(g, hist)
	keys := make([]string, 0, len(hist))
	for k := range hist {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return hist[keys[i]] > hist[keys[j]] || hist[keys[i]] == hist[keys[j]] && keys[i] < keys[j]
	})
	fmt.Fprintln(stdout, "ops:")
	for _, k := range keys {
		fmt.Fprintf(stdout, "  %-28s %d\n", k, hist[k])
	}
	missing := missingOps(dev, m, keys)
	if len(missing) == 0 {
		fmt.Fprintf(stdout, "backend %s: implements every op\n", dev.Name())
	} else {
		fmt.Fprintf(stdout, "backend %s lacks: %s\n", dev.Name(), strings.Join(missing, ", "))
	}
	return nil
}

// countOps counts op types in g and its subgraphs.
func countOps(g *ir.Graph, hist map[string]int) {
	for _, n := range g.Nodes {
		k := n.OpType
		if n.Domain != "" && n.Domain != "ai.onnx" {
			k = n.Domain + "." + n.OpType
		}
		hist[k]++
		for _, a := range n.Attrs {
			if a.Graph != nil {
				countOps(a.Graph, hist)
			}
			for _, sg := range a.Graphs {
				countOps(sg, hist)
			}
		}
	}
}

var executorOps = map[string]bool{"If": true, "Loop": true, "Scan": true, "SequenceMap": true,
	"SequenceEmpty": true, "SequenceConstruct": true, "SequenceInsert": true, "SequenceAt": true,
	"SequenceErase": true, "SequenceLength": true, "SplitToSequence": true, "ConcatFromSequence": true,
	"Optional": true, "OptionalHasElement": true, "OptionalGetElement": true, "Identity": true}

func missingOps(dev backends.Backend, m *ir.Model, ops []string) []string {
	have := map[string]bool{}
	for _, c := range dev.Capabilities() {
		k := c.Op
		if c.Domain != "" {
			k = c.Domain + "." + c.Op
		}
		have[k] = true
	}
	funcs := map[string]bool{}
	for _, f := range m.Functions {
		k := f.Name
		if f.Domain != "" {
			k = f.Domain + "." + f.Name
		}
		funcs[k] = true
	}
	var miss []string
	for _, k := range ops {
		if !have[k] && !executorOps[k] && !funcs[k] {
			miss = append(miss, k)
		}
	}
	return miss
}

func runOps(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ops", flag.ContinueOnError)
	var bf backendFlag
	bf.register(fs)
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	dev, err := bf.open()
	if err != nil {
		return err
	}
	caps := dev.Capabilities()
	fmt.Fprintf(stdout, "%-26s %-24s %s\n", "domain", "op", "opsets")
	for _, c := range caps {
		d := c.Domain
		if d == "" {
			d = "ai.onnx"
		}
		until := "+"
		if c.Until > 0 {
			until = fmt.Sprintf("-%d", c.Until)
		}
		dts := "all"
		if len(c.DTypes) > 0 {
			s := make([]string, len(c.DTypes))
			for i, dt := range c.DTypes {
				s[i] = dt.String()
			}
			dts = strings.Join(s, ",")
		}
		fmt.Fprintf(stdout, "%-26s %-24s %d%s  %s\n", d, c.Op, c.Since, until, dts)
	}
	fmt.Fprintf(stdout, "%d kernels; the executor also runs: control flow (If, Loop, Scan), sequences, optionals and model-local functions\n", len(caps))
	return nil
}

func runBackends(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backends", flag.ContinueOnError)
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	names := backends.Names()
	if !contains(names, "cuda") {
		names = append(names, "cuda")
	}
	for _, n := range names {
		if n == "plugin" {
			continue
		}
		dev, err := backends.Open(n)
		if err != nil {
			fmt.Fprintf(stdout, "%s: unavailable: %v\n", n, err)
			continue
		}
		detail := ""
		if d, ok := dev.(backends.Describer); ok {
			detail = " (" + d.Describe() + ")"
		}
		fmt.Fprintf(stdout, "%s: available%s\n", n, detail)
	}
	return nil
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
