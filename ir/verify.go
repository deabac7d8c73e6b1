package ir

import (
	"errors"
	"fmt"
)

// Verify checks a module: every function's nodes in topological order, each
// operand defined before its use in the same function, each op known with
// the right operand count and attributes, each node's type equal to what its
// op infers, weight reads and updates naming defined weights of the right
// type. Every violation is reported, each naming the function, the node (as
// printed: %3 = matmul) and the rule broken.
func Verify(m *Module) error {
	var errs []error
	names := map[string]bool{}
	for _, w := range m.Weights {
		if names[w.Name] {
			errs = append(errs, fmt.Errorf("weight %q: defined twice", w.Name))
		}
		names[w.Name] = true
		if w.Data != nil {
			n, syms := w.Type.Shape.NumElements()
			if len(syms) > 0 || int64(len(w.Data)) != n {
				errs = append(errs, fmt.Errorf("weight %q: data has %d values for type %s", w.Name, len(w.Data), w.Type))
			}
		}
	}
	fnames := map[string]bool{}
	for _, f := range m.Funcs {
		if fnames[f.Name] {
			errs = append(errs, fmt.Errorf("func @%s: defined twice", f.Name))
		}
		fnames[f.Name] = true
		errs = append(errs, verifyFunc(m, f)...)
	}
	return errors.Join(errs...)
}

// VerifyFunc checks one function of m (see Verify).
func VerifyFunc(m *Module, f *Func) error { return errors.Join(verifyFunc(m, f)...) }

func verifyFunc(m *Module, f *Func) []error {
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("func @%s: "+format, append([]any{f.Name}, args...)...))
	}
	defined := map[*Value]string{}
	for i, p := range f.Params {
		if p == nil {
			fail("parameter %d is nil", i)
			continue
		}
		if p.Op != OpParam {
			fail("parameter %d is a %s node, not a parameter", i, p.Op)
		}
		if _, dup := defined[p]; dup {
			fail("parameter %%%s listed twice", p.Name)
		}
		defined[p] = "%" + p.Name
	}
	for i, v := range f.Body {
		if v == nil {
			fail("%%%d: nil node", i)
			continue
		}
		at := fmt.Sprintf("%%%d = %s", i, v.Op)
		if _, dup := defined[v]; dup {
			fail("%s: node appears twice in the body", at)
			continue
		}
		bad := false
		for j, a := range v.Args {
			if a == nil {
				fail("%s: operand %d is nil", at, j)
				bad = true
				continue
			}
			if _, ok := defined[a]; !ok {
				fail("%s: operand %d is not defined before its use (operands must come earlier in the same function)", at, j)
			}
		}
		if bad {
			defined[v] = at
			continue
		}
		d, ok := LookupOp(v.Op)
		if !ok {
			fail("%s: unknown op", at)
			defined[v] = at
			continue
		}
		var declared *Type
		if d.Infer == nil {
			t := v.Type
			declared = &t
		}
		t, err := InferType(v.Op, v.Args, v.Attrs, declared)
		switch {
		case err != nil:
			fail("%s: %v", at, err)
		case !t.Equal(v.Type):
			fail("%s: has type %s, but its op infers %s", at, v.Type, t)
		}
		if v.Op == OpFused {
			if err := checkFused(m, f, v); err != nil {
				fail("%s: %v", at, err)
			}
		}
		if f.Region && (v.Op == OpWeight || v.Op == OpFused) {
			fail("%s: a region may not hold %s nodes (they are operands of the fused node)", at, v.Op)
		}
		if v.Op == OpWeight {
			name := v.Attrs.String("name", "")
			w := m.Weight(name)
			switch {
			case w == nil:
				fail("%s: reads weight %q, which the module does not define", at, name)
			case !w.Type.Equal(v.Type):
				fail("%s: reads weight %q of type %s as %s", at, name, w.Type, v.Type)
			}
		}
		defined[v] = at
	}
	if len(f.ResultNames) != 0 && len(f.ResultNames) != len(f.Results) {
		fail("%d result names for %d results", len(f.ResultNames), len(f.Results))
	}
	for i, r := range f.Results {
		if _, ok := defined[r]; !ok {
			fail("result %d is not a value of this function", i)
		} else if r.Type.IsTuple() {
			fail("result %d is a tuple: functions return tensors", i)
		}
	}
	if f.Region && len(f.Updates) > 0 {
		fail("a region may not update state")
	}
	if f.Region && len(f.Results) == 0 {
		fail("a region must have a result")
	}
	updated := map[string]bool{}
	for _, u := range f.Updates {
		w := m.Weight(u.Weight)
		if w == nil {
			fail("update of %q: the module defines no such weight", u.Weight)
			continue
		}
		if updated[u.Weight] {
			fail("update of %q: updated twice", u.Weight)
		}
		updated[u.Weight] = true
		if _, ok := defined[u.Value]; !ok {
			fail("update of %q: the value is not a value of this function", u.Weight)
		} else if !u.Value.Type.Equal(w.Type) {
			fail("update of %q: value has type %s, weight has %s", u.Weight, u.Value.Type, w.Type)
		}
	}
	return errs
}

// checkFused checks a fused node against its region function.
func checkFused(m *Module, f *Func, v *Value) error {
	name := v.Attrs.String("region", "")
	r := m.Func(name)
	switch {
	case r == nil:
		return fmt.Errorf("region @%s is not defined", name)
	case !r.Region:
		return fmt.Errorf("@%s is a func, not a region", name)
	case r == f:
		return fmt.Errorf("region @%s calls itself", name)
	case len(r.Params) != len(v.Args):
		return fmt.Errorf("region @%s takes %d operands, has %d", name, len(r.Params), len(v.Args))
	}
	for i, p := range r.Params {
		if !p.Type.Equal(v.Args[i].Type) {
			return fmt.Errorf("operand %d has type %s, region @%s's parameter %%%s is %s", i, v.Args[i].Type, name, p.Name, p.Type)
		}
	}
	want := Type{}
	if len(r.Results) == 1 {
		want = r.Results[0].Type
	} else {
		elems := make([]Type, len(r.Results))
		for i, res := range r.Results {
			elems[i] = res.Type
		}
		want = Tuple(elems...)
	}
	if !v.Type.Equal(want) {
		return fmt.Errorf("has type %s, region @%s returns %s", v.Type, name, want)
	}
	return nil
}
