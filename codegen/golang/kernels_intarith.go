package golang

import (
	"github.com/dave/jennifer/jen"
	"github.com/dlc-project/dlc/ir"
)

// Integer arithmetic in the Go backend.
//
// Integers are stored as whole float32 numbers (see kernels_index.go). An
// arithmetic op on integers converts its operands to int64 (exact), computes
// in int64 as the interpreter computes (add, sub, mul wrap; div truncates
// toward zero; mod is Python's or, with fmod, Go's %; pow by squaring),
// wraps the result to the dtype's width as a Go conversion does, and stores
// it back. i8, u8, i16 and u16 values always fit; an i32, u32, i64 or u64
// result beyond ±2^24 (for u64: a negative int64, 2^63 and up as a u64),
// which float32 cannot hold exactly, stops the program with a panic naming
// the limit rather than being rounded silently. A division or modulo by
// zero panics as Go's does (the interpreter reports it as an error).

// intArith lists the ops computed on integers this way.
var intArith = map[string]bool{
	ir.OpAdd: true, ir.OpSub: true, ir.OpMul: true, ir.OpDiv: true, ir.OpNeg: true,
	ir.OpAbs: true, ir.OpSign: true, ir.OpMod: true, ir.OpPow: true,
}

func init() {
	for op := range intArith {
		intResults[op] = true
	}
	for _, dt := range ir.IntDTypes {
		name, conv := intStoreHelper(dt)
		opHelpers[name] = func(f *jen.File) {
			body := []jen.Code{}
			if conv == nil { // i64, u64: no wrap
				body = append(body, jen.Id("v").Op(":=").Id("x"))
			} else {
				body = append(body, jen.Id("v").Op(":=").Int64().Call(conv(jen.Id("x"))))
			}
			lo := -maxExactInt
			if dt == ir.U64 {
				lo = 0 // a negative int64 is a u64 from 2^63 up
			}
			if dt == ir.I32 || dt == ir.I64 || dt == ir.U32 || dt == ir.U64 {
				body = append(body, jen.If(jen.Id("v").Op(">").Lit(maxExactInt).Op("||").Id("v").Op("<").Lit(lo)).Block(
					jen.Panic(jen.Lit("dlc: an "+dt.String()+" result beyond ±2^24, which the Go backend's float32 storage cannot hold exactly")),
				))
			}
			body = append(body, jen.Return(jen.Float32().Call(jen.Id("v"))))
			f.Commentf("%s wraps an exact int64 result to %s and stores it as float32.", name, dt)
			f.Func().Id(name).Params(jen.Id("x").Int64()).Float32().Block(body...)
		}
	}
	opHelpers["ipow"] = func(f *jen.File) {
		f.Comment("ipow is x^e in int64 arithmetic (wrapping), by squaring; for e < 0 it is")
		f.Comment("1/x^|e| truncated toward zero, as the interpreter computes it.")
		f.Func().Id("ipow").Params(jen.List(jen.Id("x"), jen.Id("e")).Int64()).Int64().Block(
			jen.If(jen.Id("e").Op("<")).Lit(0).Block(
				jen.Switch(jen.Id("x")).Block(
					jen.Case(jen.Lit(0)).Block(jen.Panic(jen.Lit("dlc: integer 0 to a negative power"))),
					jen.Case(jen.Lit(1)).Block(jen.Return(jen.Lit(1))),
					jen.Case(jen.Lit(-1)).Block(
						jen.If(jen.Id("e").Op("%").Lit(2).Op("==").Lit(0)).Block(jen.Return(jen.Lit(1))),
						jen.Return(jen.Lit(-1)),
					),
				),
				jen.Return(jen.Lit(0)),
			),
			jen.Id("r").Op(":=").Int64().Call(jen.Lit(1)),
			jen.For(jen.Id("e").Op(">").Lit(0)).Block(
				jen.If(jen.Id("e").Op("&").Lit(1).Op("==").Lit(1)).Block(jen.Id("r").Op("*=").Id("x")),
				jen.Id("x").Op("*=").Id("x"),
				jen.Id("e").Op(">>=").Lit(1),
			),
			jen.Return(jen.Id("r")),
		)
	}
	opHelpers["imod"] = func(f *jen.File) {
		f.Comment("imod is Python's modulo (the result has the divisor's sign).")
		f.Func().Id("imod").Params(jen.List(jen.Id("a"), jen.Id("b")).Int64()).Int64().Block(
			jen.Id("r").Op(":=").Id("a").Op("%").Id("b"),
			jen.If(jen.Id("r").Op("!=").Lit(0).Op("&&").Parens(jen.Id("r").Op("<").Lit(0)).Op("!=").Parens(jen.Id("b").Op("<").Lit(0))).Block(
				jen.Id("r").Op("+=").Id("b"),
			),
			jen.Return(jen.Id("r")),
		)
	}
}

// intStoreHelper names the helper that stores an int64 result of dtype
// dt, and the Go conversion that wraps it (nil for i64).
func intStoreHelper(dt ir.DType) (string, func(jen.Code) *jen.Statement) {
	switch dt {
	case ir.I8:
		return "storeI8", func(c jen.Code) *jen.Statement { return jen.Int8().Call(c) }
	case ir.U8:
		return "storeU8", func(c jen.Code) *jen.Statement { return jen.Uint8().Call(c) }
	case ir.I16:
		return "storeI16", func(c jen.Code) *jen.Statement { return jen.Int16().Call(c) }
	case ir.U16:
		return "storeU16", func(c jen.Code) *jen.Statement { return jen.Uint16().Call(c) }
	case ir.I32:
		return "storeI32", func(c jen.Code) *jen.Statement { return jen.Int32().Call(c) }
	case ir.U32:
		return "storeU32", func(c jen.Code) *jen.Statement { return jen.Uint32().Call(c) }
	case ir.U64:
		return "storeU64", nil
	}
	return "storeI64", nil
}

// isIntArith reports whether node v is integer arithmetic (intArith on an
// integer result).
func isIntArith(v *ir.Value) bool { return v.Type.DType.IsInt() && intArith[v.Op] }

// intArithElem is the element expression of integer arithmetic node v.
func intArithElem(v *ir.Value) elemFunc {
	return func(k *kernel, x []*jen.Statement) *jen.Statement {
		i := func(j int) *jen.Statement { return jen.Int64().Call(x[j]) }
		var e *jen.Statement
		switch v.Op {
		case ir.OpAdd:
			e = i(0).Op("+").Add(i(1))
		case ir.OpSub:
			e = i(0).Op("-").Add(i(1))
		case ir.OpMul:
			e = i(0).Op("*").Add(i(1))
		case ir.OpDiv:
			e = i(0).Op("/").Add(i(1))
		case ir.OpNeg:
			e = jen.Op("-").Add(i(0))
		case ir.OpAbs:
			e = k.helper("iabs").Call(i(0))
		case ir.OpSign:
			e = k.helper("isign").Call(i(0))
		case ir.OpMod:
			if v.Attrs.Bool("fmod", false) {
				e = i(0).Op("%").Add(i(1))
			} else {
				e = k.helper("imod").Call(i(0), i(1))
			}
		case ir.OpPow:
			e = k.helper("ipow").Call(i(0), i(1))
		}
		name, _ := intStoreHelper(v.Type.DType)
		return k.helper(name).Call(e)
	}
}

func init() {
	opHelpers["iabs"] = func(f *jen.File) {
		f.Comment("iabs is |x| in int64.")
		f.Func().Id("iabs").Params(jen.Id("x").Int64()).Int64().Block(
			jen.If(jen.Id("x").Op("<").Lit(0)).Block(jen.Return(jen.Op("-").Id("x"))),
			jen.Return(jen.Id("x")),
		)
	}
	opHelpers["isign"] = func(f *jen.File) {
		f.Comment("isign is -1, 0 or 1 by the sign of x.")
		f.Func().Id("isign").Params(jen.Id("x").Int64()).Int64().Block(
			jen.Switch().Block(
				jen.Case(jen.Id("x").Op("<").Lit(0)).Block(jen.Return(jen.Lit(-1))),
				jen.Case(jen.Id("x").Op(">").Lit(0)).Block(jen.Return(jen.Lit(1))),
			),
			jen.Return(jen.Lit(0)),
		)
	}
}
