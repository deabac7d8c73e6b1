// Command dlc is the deep-learning compiler's command line: compile a model
// to a Go package, train it, show its IR.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

type command struct {
	name    string
	args    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

var commands []command

func init() {
	commands = []command{
		{"compile", "MODEL -o DIR [flags]", "compile a model into a Go package", runCompile},
		{"train", "MODEL [flags]", "compile, build and train a model, then evaluate it on the test set", runTrain},
		{"ir", "MODEL [flags]", "print the model's IR (after the whole pipeline, or after one pass)", runIR},
		{"bench", "MODEL [flags]", "time the fused against the unfused generated code, side by side", runBench},
		{"onnx-test", "[--backend interp|go] [--json] PATH...", "run ONNX test cases (model.onnx with input/output .pb files) and compare", runONNXTest},
	}
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `dlc compiles deep-learning models into plain, specialised Go.

Usage:
  dlc COMMAND [arguments]

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, `
MODEL is a dlc model.json (docs/model-json.md) or a Keras model.to_json() file;
dlc compile also takes an ONNX model (.onnx), compiled for inference.
Run "dlc help COMMAND" or "dlc COMMAND -h" for a command's flags.
`)
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// errUsage marks an error already explained by printed usage.
var errUsage = errors.New("usage")

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		if name == "help" && len(args) > 1 {
			for _, c := range commands {
				if c.name == args[1] {
					_ = c.run([]string{"-h"}, stdout, stdout)
					return 0
				}
			}
			fmt.Fprintf(stderr, "dlc: unknown command %q\n", args[1])
			return 2
		}
		usage(stdout)
		return 0
	}
	for _, c := range commands {
		if c.name != name {
			continue
		}
		err := c.run(args[1:], stdout, stderr)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		}
		fmt.Fprintf(stderr, "dlc %s: %v\n", name, err)
		return 1
	}
	fmt.Fprintf(stderr, "dlc: unknown command %q (commands: compile, train, ir, bench, onnx-test; see dlc --help)\n", name)
	return 2
}

// multiFlag collects a repeatable or comma-separated flag.
type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error {
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*m = append(*m, p)
		}
	}
	return nil
}

// newFlags makes a flag set whose usage names the command.
func newFlags(name, args, summary string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: dlc %s %s\n\n%s.\n\nFlags:\n", name, args, summary)
		fs.PrintDefaults()
	}
	return fs
}

// parseInterspersed parses flags that may come before or after positional
// arguments (dlc train model.json --epochs 5), returning the positionals.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, errUsage
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

// parseModelArgs parses the flags of a command that takes exactly one MODEL
// argument and returns that argument.
func parseModelArgs(fs *flag.FlagSet, args []string, stderr io.Writer) (string, error) {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return "", err
	}
	return oneModel(fs, pos, stderr)
}

func oneModel(fs *flag.FlagSet, pos []string, stderr io.Writer) (string, error) {
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "dlc %s: want exactly one MODEL argument, got %d\n", fs.Name(), len(pos))
		fs.Usage()
		return "", errUsage
	}
	return pos[0], nil
}
