// Package passes transforms IR. Each pass is a function over a module,
// listed once in Pipeline, in order, as Go's own compiler lists its SSA
// passes: the list is data, so tools can show the IR after any pass, skip
// optional ones, and tests can verify the module after each.
package passes

import (
	"fmt"
	"strings"

	"github.com/dlc-project/dlc/ir"
)

// Function names the passes and backends agree on.
const (
	Predict   = "predict"    // (x) -> (output)
	TrainStep = "train_step" // (x, y) -> (loss, output), with updates after the optimizer pass
)

// Config carries the settings passes need beyond the module itself.
type Config struct {
	// Optimizer, when set, makes autodiff and optimizer lowering turn
	// train_step (forward and loss) into a full training step.
	Optimizer *Optimizer
}

// Pass is one entry of the pipeline.
type Pass struct {
	Name     string
	Doc      string
	Fn       func(m *ir.Module, cfg *Config) error
	Required bool // cannot be disabled: later passes or backends rely on it
}

// Pipeline is the ordered list of passes.
var Pipeline = []Pass{
	{Name: "autodiff", Doc: "derives the backward graph of train_step: gradients of the loss for every trainable weight", Fn: Autodiff, Required: true},
	{Name: "optimizer", Doc: "lowers the optimizer into train_step: state tensors and the update of every weight", Fn: LowerOptimizer, Required: true},
	{Name: "simplify", Doc: "canonicalises: exact algebraic identities (x*1, x+0, neg neg x, x/2^k → x*2^-k), transpose/reshape/broadcast chains, redundant casts, broadcasts and selects", Fn: Simplify},
	{Name: "constfold", Doc: "evaluates nodes whose operands are all constants", Fn: ConstFold},
	{Name: "cse", Doc: "merges nodes that compute the same value: same op, operands and attributes, equal constants, reads of one weight", Fn: CSE},
	{Name: "dce", Doc: "removes nodes that no result or update uses", Fn: DCE},
	{Name: "fuse", Doc: "groups elementwise work, matmul epilogues and row-wise reductions into fused nodes, one kernel each", Fn: Fuse},
}

// PassNames returns the names of the pipeline's passes in order.
func PassNames() []string {
	names := make([]string, len(Pipeline))
	for i, p := range Pipeline {
		names[i] = p.Name
	}
	return names
}

// Options control a pipeline run.
type Options struct {
	Disable []string // passes to skip (not Required ones)
	Stop    string   // stop after this pass ("" runs all)
	Verify  bool     // run the verifier after every pass
	// After, when set, is called with each pass's name and the module
	// after it (for --dump-dir and tests).
	After func(pass string, m *ir.Module) error
}

// Run runs the pipeline over m.
func Run(m *ir.Module, cfg *Config, opts Options) error {
	if cfg == nil {
		cfg = &Config{}
	}
	known := map[string]Pass{}
	for _, p := range Pipeline {
		known[p.Name] = p
	}
	disabled := map[string]bool{}
	for _, d := range opts.Disable {
		p, ok := known[d]
		if !ok {
			return fmt.Errorf("unknown pass %q (passes: %s)", d, strings.Join(PassNames(), ", "))
		}
		if p.Required {
			return fmt.Errorf("pass %q is required and cannot be disabled", d)
		}
		disabled[d] = true
	}
	if opts.Stop != "" {
		if _, ok := known[opts.Stop]; !ok {
			return fmt.Errorf("unknown pass %q (passes: %s)", opts.Stop, strings.Join(PassNames(), ", "))
		}
	}
	if opts.Verify {
		if err := ir.Verify(m); err != nil {
			return fmt.Errorf("before the pipeline: %w", err)
		}
	}
	for _, p := range Pipeline {
		if !disabled[p.Name] {
			if err := p.Fn(m, cfg); err != nil {
				return fmt.Errorf("pass %s: %w", p.Name, err)
			}
			if opts.Verify {
				if err := ir.Verify(m); err != nil {
					return fmt.Errorf("after pass %s: %w", p.Name, err)
				}
			}
		}
		if opts.After != nil {
			if err := opts.After(p.Name, m); err != nil {
				return err
			}
		}
		if p.Name == opts.Stop {
			break
		}
	}
	return nil
}

// DCE removes body nodes that no result or update depends on.
func DCE(m *ir.Module, _ *Config) error {
	for _, f := range m.Funcs {
		live := map[*ir.Value]bool{}
		var mark func(v *ir.Value)
		mark = func(v *ir.Value) {
			if live[v] {
				return
			}
			live[v] = true
			for _, a := range v.Args {
				mark(a)
			}
		}
		for _, r := range f.Results {
			mark(r)
		}
		for _, u := range f.Updates {
			mark(u.Value)
		}
		body := f.Body[:0]
		for _, v := range f.Body {
			if live[v] {
				body = append(body, v)
			}
		}
		for i := len(body); i < len(f.Body); i++ {
			f.Body[i] = nil
		}
		f.Body = body
	}
	// Regions no fused node calls any more.
	called := map[string]bool{}
	for _, f := range m.Funcs {
		for _, v := range f.Body {
			if v.Op == ir.OpFused {
				called[v.Attrs.String("region", "")] = true
			}
		}
	}
	funcs := m.Funcs[:0]
	for _, f := range m.Funcs {
		if !f.Region || called[f.Name] {
			funcs = append(funcs, f)
		}
	}
	m.Funcs = funcs
	return nil
}
