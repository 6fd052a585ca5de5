// Command onnxrun runs, inspects, tests, differentiates, fine-tunes and
// benchmarks ONNX models with Keen.
//
//	onnxrun run MODEL [--inputs DIR] [--input NAME=FILE ...] [--outdir DIR] [--backend NAME] [--threads N]
//	onnxrun inspect MODEL [--backend NAME]
//	onnxrun ops [--backend NAME]
//	onnxrun conformance [--backend NAME] [--json FILE] [--run REGEX] [--baseline FILE] PATH...
//	onnxrun backends
//
// Exit status: 0 on success, 1 on failure, 2 on a usage error.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/keenml/keen/backends"
	_ "github.com/keenml/keen/backends/cpu"
	"github.com/keenml/keen/eager"
	_ "github.com/keenml/keen/plugins" // "plugin:PATH" and "cuda"
)

// usageError marks errors that exit with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

type command struct {
	run     func(args []string, stdout, stderr io.Writer) error
	summary string
}

var commands = map[string]command{}

func main() { os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr)) }

func runMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "onnxrun: unknown command %q\n", args[0])
		printUsage(stderr)
		return 2
	}
	before := eager.Fallbacks.Load()
	err := cmd.run(args[1:], stdout, stderr)
	if n := eager.Fallbacks.Load() - before; n > 0 {
		// Fallback is visible: ops the backend lacks ran on the CPU, with copies.
		fmt.Fprintf(stderr, "onnxrun: %d op runs fell back to the CPU backend (copying their inputs and outputs)\n", n)
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "onnxrun %s: %v\nusage: %s\n", args[0], err, cmd.summary)
		return 2
	case errors.Is(err, errFailed):
		return 1
	}
	fmt.Fprintf(stderr, "onnxrun %s: %v\n", args[0], err)
	return 1
}

// errFailed means the command already reported its failure.
var errFailed = errors.New("failed")

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: onnxrun COMMAND [ARGS]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %s\n", commands[n].summary)
	}
}

// parseArgs parses flags that may come before, between or after positional
// arguments, and returns the positional ones.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// listFlag collects repeated flag values.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// backendFlag adds --backend and --threads and opens the chosen backend.
type backendFlag struct {
	name    string
	threads int
}

func (b *backendFlag) register(fs *flag.FlagSet) {
	fs.StringVar(&b.name, "backend", "", "backend: cpu, cuda or plugin:PATH (default $KEEN_BACKEND or cpu)")
	fs.IntVar(&b.threads, "threads", 0, "worker threads for the backend (0: all cores)")
}

func (b *backendFlag) open() (backends.Backend, error) {
	name := b.name
	if name == "" {
		name = backends.DefaultName()
	}
	dev, err := backends.Open(name)
	if err != nil {
		return nil, err
	}
	if b.threads > 0 {
		if t, ok := dev.(backends.Threader); ok {
			t.SetThreads(b.threads)
		}
	}
	return dev, nil
}
