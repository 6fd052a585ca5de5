package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/keenml/keen/conformance"
)

func init() {
	commands["conformance"] = command{runConformance,
		"conformance [--backend NAME] [--json FILE] [--run REGEX] [--baseline FILE] PATH..."}
}

func runConformance(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("conformance", flag.ContinueOnError)
	var bf backendFlag
	bf.register(fs)
	jsonPath := fs.String("json", "", "write the report as JSON to FILE")
	runRe := fs.String("run", "", "only cases whose name matches REGEX")
	baseline := fs.String("baseline", "", "exit 0 when every case named in FILE passes")
	verbose := fs.Bool("v", false, "print every case")
	repeat := fs.Int("repeat", 1, "run every data set `N` times on the one loaded model (later runs reuse prepared weights)")
	rtol := fs.Float64("rtol", 0, "relative tolerance for float outputs (default 1e-3)")
	atol := fs.Float64("atol", 0, "absolute tolerance for float outputs (default 1e-7)")
	paths, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return usagef("no test case folder given")
	}
	var filter *regexp.Regexp
	if *runRe != "" {
		if filter, err = regexp.Compile(*runRe); err != nil {
			return usagef("--run: %v", err)
		}
	}
	dev, err := bf.open()
	if err != nil {
		return err
	}
	cases, err := conformance.Discover(paths, filter)
	if err != nil {
		return err
	}
	bar := newProgress(stderr, "conformance", len(cases))
	rep := conformance.Run(context.Background(), dev, cases, conformance.Options{
		RTol: *rtol, ATol: *atol, Repeat: *repeat,
		Progress: func(done, total int, r conformance.Result) {
			bar.set(done)
			if r.Status != conformance.Pass || *verbose {
				bar.clear()
				fmt.Fprintf(stdout, "%s %s: %s\n", strings.ToUpper(r.Status), r.Name, r.Reason)
			}
		},
	})
	bar.done()
	fmt.Fprintln(stdout, rep.Summary())
	if *jsonPath != "" {
		data, err := json.MarshalIndent(rep, "", " ")
		if err != nil {
			return err
		}
		if err := writeFileAtomic(*jsonPath, append(data, '\n')); err != nil {
			return err
		}
	}
	if *baseline != "" {
		names, err := conformance.ReadBaseline(*baseline)
		if err != nil {
			return err
		}
		status := map[string]string{}
		for _, c := range rep.Cases {
			status[c.Name] = c.Status
		}
		var missing []string
		for _, n := range names {
			if s, ok := status[n]; ok && s != conformance.Pass {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			fmt.Fprintf(stdout, "baseline: %d cases of %s no longer pass: %s\n", len(missing), *baseline, strings.Join(missing, " "))
			return errFailed
		}
		return nil
	}
	if rep.Failed > 0 {
		return errFailed
	}
	return nil
}
