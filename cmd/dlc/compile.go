package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dlc-project/dlc/codegen/golang"
	"github.com/dlc-project/dlc/compile"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/passes"
)

// modelFlags are the flags every command that loads a model shares.
type modelFlags struct {
	ov      compile.Overrides
	disable multiFlag
}

func (mf *modelFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&mf.ov.Loss, "loss", "", "loss, replacing the model's: categorical_crossentropy, sparse_categorical_crossentropy, binary_crossentropy, mse, mae or huber (Keras files carry none)")
	fs.StringVar(&mf.ov.Optimizer, "optimizer", "", "optimizer, replacing the model's: sgd, adam, adamw, adagrad or rmsprop (with their defaults)")
	fs.Float64Var(&mf.ov.LearningRate, "lr", 0, "learning rate, replacing the model's")
	fs.Var(&mf.disable, "disable", "pass to skip (repeatable or comma-separated; passes: "+strings.Join(passes.PassNames(), ", ")+")")
}

func runCompile(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("compile", "MODEL -o DIR [flags]", "Compile a model into a Go package: New, Predict, TrainStep, SaveWeights, LoadWeights", stderr)
	var mf modelFlags
	mf.register(fs)
	out := fs.String("o", "", "output directory of the generated package (required)")
	pkg := fs.String("pkg", "", "Go package name (default: the output directory's name)")
	noFuse := fs.Bool("no-fuse", false, "emit one kernel per IR op (the unfused baseline)")
	noVector := fs.Bool("no-vector", false, "keep elementwise loops scalar instead of vector-wide (the runtime's vector loops or generated assembly; same results; for measuring)")
	noShard := fs.Bool("no-shard", false, "split Predict kernel by kernel over the workers instead of the batch into one range per worker (same results; for measuring)")
	path, err := parseModelArgs(fs, args, stderr)
	if err != nil {
		return err
	}
	if *out == "" {
		fmt.Fprintln(stderr, "dlc compile: -o DIR is required")
		fs.Usage()
		return errUsage
	}
	name := *pkg
	if name == "" {
		name = packageName(filepath.Base(filepath.Clean(*out)))
	}
	var files map[string][]byte
	gopts := golang.Options{Package: name, NoFuse: *noFuse, NoVector: *noVector}
	if *noShard {
		gopts.ShardMin = -1
	}
	if isONNXPath(path) {
		// An ONNX model is inference only: a Predict package.
		if files, _, err = compile.PackageONNX(path, gopts, compile.Options{Disable: mf.disable}); err != nil {
			return err
		}
	} else {
		md, err := compile.Load(path, mf.ov)
		if err != nil {
			return err
		}
		if files, _, err = compile.PackageWith(md, gopts, compile.Options{Disable: mf.disable}); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := compile.WriteFiles(*out, files); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "dlc: wrote package %s to %s\n", name, *out)
	return nil
}

// isONNXPath reports whether path names an ONNX file (compiled for
// inference only) rather than a model.json or Keras file.
func isONNXPath(path string) bool { return strings.HasSuffix(strings.ToLower(path), ".onnx") }

// packageName derives a Go package name from a directory name.
func packageName(dir string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(dir) {
		if (r >= 'a' && r <= 'z') || r == '_' || (r >= '0' && r <= '9' && b.Len() > 0) {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "model"
	}
	return b.String()
}

func runIR(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ir", "MODEL [flags]", "Print the model's IR in the text form, after the whole pipeline or after one pass", stderr)
	var mf modelFlags
	mf.register(fs)
	after := fs.String("after", "", "print the IR after this pass instead of after the whole pipeline; \"trace\" prints it as traced, before any pass")
	dumpDir := fs.String("dump-dir", "", "also write the IR after every pass to DIR as numbered files (00-trace.ir, 01-autodiff.ir, ...)")
	fn := fs.String("func", "", "print only this function (predict or train_step)")
	path, err := parseModelArgs(fs, args, stderr)
	if err != nil {
		return err
	}
	md, err := compile.Load(path, mf.ov)
	if err != nil {
		return err
	}
	if *after != "" && *after != "trace" {
		known := false
		for _, n := range passes.PassNames() {
			known = known || n == *after
		}
		if !known {
			return fmt.Errorf("--after %q: no such pass (passes: trace, %s)", *after, strings.Join(passes.PassNames(), ", "))
		}
	}
	if *dumpDir != "" {
		if err := os.MkdirAll(*dumpDir, 0o755); err != nil {
			return err
		}
	}
	step := 0
	dump := func(pass string, m *ir.Module) error {
		if *dumpDir == "" {
			return nil
		}
		name := filepath.Join(*dumpDir, fmt.Sprintf("%02d-%s.ir", step, pass))
		step++
		return os.WriteFile(name, []byte(m.String()), 0o644)
	}
	if *after == "trace" || *dumpDir != "" {
		m, err := md.Build()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := dump("trace", m); err != nil {
			return err
		}
		if *after == "trace" {
			return printIR(stdout, m, *fn)
		}
	}
	stop := *after
	m, err := compile.Lower(md, compile.Options{Disable: mf.disable, Stop: stop, After: dump})
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return printIR(stdout, m, *fn)
}

func printIR(w io.Writer, m *ir.Module, fn string) error {
	if fn == "" {
		_, err := io.WriteString(w, m.String())
		return err
	}
	f := m.Func(fn)
	if f == nil {
		names := make([]string, len(m.Funcs))
		for i, f := range m.Funcs {
			names[i] = f.Name
		}
		return fmt.Errorf("--func %q: no such function (functions: %s)", fn, strings.Join(names, ", "))
	}
	_, err := io.WriteString(w, f.String())
	return err
}
