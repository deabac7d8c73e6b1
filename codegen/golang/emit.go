package golang

import (
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dave/jennifer/jen"
	"github.com/dlc-project/dlc/ir"
	"github.com/dlc-project/dlc/runtime"
)

// parallelMin is the number of elements below which a kernel runs on the
// calling goroutine: handing smaller work to the pool costs more in
// synchronisation than it saves.
const parallelMin = 1 << 15

// defaultMaxBatch is the arena's batch capacity when Options.MaxBatch <= 0.
const defaultMaxBatch = 128

// file assembles the generated file. Declarations come in a fixed order
// and every list is walked in module or body order, so the output depends
// only on the module.
func (g *gen) file() *jen.File {
	f := jen.NewFile(g.pkg)
	f.ImportName(runtimePath, "runtime")
	f.HeaderComment(strings.TrimPrefix(generatedHeader, "// "))
	// One comment per line: jennifer renders a multi-line comment as /* */,
	// which the quoted module name could close.
	for _, line := range []string{
		"Package " + g.pkg + " is the dlc model " + strconv.Quote(g.mod.Name) + " compiled to plain Go.",
		"",
		"Its kernels have every size but the batch as a constant and work in one arena",
		"allocated by New, so Predict" + g.ifTrain(" and TrainStep", "") + " do not allocate. A Model is not safe",
		"for concurrent use.",
	} {
		f.PackageComment(line)
	}

	g.emitConsts(f)
	g.emitOptions(f)
	g.emitModel(f)
	g.emitShardTypes(f)
	g.emitNew(f)
	g.emitInit(f)
	g.emitAccessors(f)
	g.emitPredict(f)
	if g.train != nil {
		g.emitTrain(f)
	}
	g.emitWeightIO(f)
	g.emitRun(f)
	for _, fp := range g.fns() {
		for _, k := range fp.kernels {
			f.Add(k.decl())
			f.Line()
		}
	}
	g.emitHelpers(f)
	g.emitData(f)
	return f
}

func (g *gen) ifTrain(yes, no string) string {
	if g.train != nil {
		return yes
	}
	return no
}

// fns lists the compiled functions, predict first.
func (g *gen) fns() []*fnPlan {
	if g.train == nil {
		return []*fnPlan{g.predict}
	}
	return []*fnPlan{g.predict, g.train}
}

func (g *gen) emitConsts(f *jen.File) {
	defs := []jen.Code{
		jen.Comment("inputSize is the number of float32 elements per sample of x."),
		jen.Id("inputSize").Op("=").Lit(int(g.inputSize)),
		jen.Comment("outputSize is the number of float32 elements per sample of Predict's result."),
		jen.Id("outputSize").Op("=").Lit(int(g.outputSize)),
	}
	if g.train != nil {
		defs = append(defs,
			jen.Comment("targetSize is the number of float32 elements per sample of TrainStep's y."),
			jen.Id("targetSize").Op("=").Lit(int(g.targetSize)),
		)
		if g.train.probs != nil {
			defs = append(defs,
				jen.Comment("trainOutputSize is the number of float32 elements per sample of TrainOutput."),
				jen.Id("trainOutputSize").Op("=").Lit(int(g.trainOutSize)),
			)
		}
	}
	defs = append(defs,
		jen.Comment("defaultMaxBatch is the batch capacity when Options.MaxBatch <= 0."),
		jen.Id("defaultMaxBatch").Op("=").Lit(defaultMaxBatch),
		jen.Comment("parallelMin is the number of elements below which a kernel runs on the"),
		jen.Comment("calling goroutine: handing less work to the pool costs more than it saves."),
		jen.Id("parallelMin").Op("=").Lit(parallelMin),
	)
	if g.shard != nil {
		defs = append(defs,
			jen.Comment("shardMin is the smallest batch Predict splits into one range per worker,"),
			jen.Comment("each running the whole graph (a dispatch per call, not per kernel)."),
			jen.Id("shardMin").Op("=").Lit(g.shard.min),
		)
	}
	f.Const().Defs(defs...)
	f.Line()
}

func (g *gen) emitOptions(f *jen.File) {
	f.Comment("Options configures New.")
	f.Type().Id("Options").Struct(
		jen.Comment("MaxBatch is the largest batch Predict and TrainStep accept; the arena"),
		jen.Comment("is sized for it. <= 0 means 128."),
		jen.Id("MaxBatch").Int(),
		jen.Comment("Seed seeds the weight initialisers (as interp.NewMachine does)."),
		jen.Id("Seed").Uint64(),
		jen.Comment("Workers is the number of goroutines kernels are split over;"),
		jen.Comment("<= 0 means GOMAXPROCS."),
		jen.Id("Workers").Int(),
	)
	f.Line()
}

// weightComment describes a weight for a comment; the name is quoted, so
// no model-chosen text can end the comment or the line.
func weightComment(wp *weightPlan) string {
	kind := "state"
	if wp.w.Trainable {
		kind = "weight"
	}
	return kind + " " + strconv.Quote(wp.w.Name) + " " + wp.w.Type.String()
}

func (g *gen) emitModel(f *jen.File) {
	fields := []jen.Code{
		jen.Id("maxBatch").Int(),
		jen.Id("pool").Op("*").Qual(runtimePath, "Pool"),
		jen.Comment("refs names every weight and state buffer, in module order."),
		jen.Id("refs").Index().Qual(runtimePath, "TensorRef"),
		jen.Comment("tasks holds one preallocated call per kernel, so that handing a kernel"),
		jen.Comment("to the pool allocates nothing."),
		jen.Id("tasks").Index(jen.Lit(g.ntasks)).Id("task"),
		jen.Comment("arenaLen is the number of float32s of the arena."),
		jen.Id("arenaLen").Int(),
	}
	if len(g.weights) > 0 {
		fields = append(fields, jen.Line(), jen.Comment("Weights and optimizer state, by generated name."))
	}
	for _, wp := range g.weights {
		fields = append(fields, jen.Id(wp.field).Index().Float32().Comment(weightComment(wp)))
	}
	if g.shard != nil {
		fields = append(fields, jen.Line(), jen.Comment("shards run Predict's whole graph on one range of the batch each."), jen.Id("shards").Id("predictShards"))
	}
	fields = append(fields, jen.Line(), jen.Comment("Buffers Predict reads and writes outside its kernels."))
	if g.predict.params[0].kind == inArena {
		fields = append(fields, jen.Id("predictX").Index().Float32())
	}
	fields = append(fields, jen.Id("predictResult").Index().Float32())
	if fp := g.train; fp != nil {
		fields = append(fields, jen.Line(), jen.Comment("Buffers TrainStep reads and writes outside its kernels."))
		if fp.params[0].kind == inArena {
			fields = append(fields, jen.Id("trainX").Index().Float32())
		}
		if fp.params[1].kind == inArena {
			fields = append(fields, jen.Id("trainY").Index().Float32())
		}
		fields = append(fields, jen.Id("trainLoss").Index().Float32())
		if fp.probs != nil {
			fields = append(fields, jen.Id("trainProbs").Index().Float32())
		}
		for _, up := range fp.updates {
			fields = append(fields, jen.Id(up.field).Index().Float32().Comment("new value of "+weightComment(up.target)))
		}
		fields = append(fields, jen.Comment("trainN is the batch size of the last TrainStep."), jen.Id("trainN").Int())
	}
	for _, fp := range g.fns() {
		if len(fp.consts) > 0 {
			fields = append(fields, jen.Line(), jen.Comment("Constants of "+fp.prefix+", filled by New."))
		}
		for _, c := range fp.consts {
			fields = append(fields, jen.Id(c.field).Index().Float32())
		}
	}
	f.Comment("Model is the compiled model: weights, the arena holding every intermediate")
	f.Comment("value for up to MaxBatch samples, and a worker pool.")
	f.Type().Id("Model").Struct(fields...)
	f.Line()

	f.Comment("task is one kernel call: the kernel, its buffers and the batch size. It")
	f.Comment("implements runtime.Task so that the pool can split the kernel's outermost")
	f.Comment("loop; kernels are top-level functions, not closures, so nothing escapes.")
	taskFields := []jen.Code{
		jen.Id("fn").Func().Params(jen.Id("t").Op("*").Id("task"), jen.List(jen.Id("lo"), jen.Id("hi")).Int()),
		jen.Id("pool").Op("*").Qual(runtimePath, "Pool"),
		jen.Id("n").Int(),
		jen.Comment("in, out and tmp are slices of the arena (or weight and constant buffers):"),
		jen.Comment("the operands, the results and scratch space."),
		jen.List(jen.Id("in"), jen.Id("out"), jen.Id("tmp")).Index().Index().Float32(),
	}
	if g.gemmEpi {
		taskFields = append(taskFields,
			jen.Comment("epi is the epilogue a matmul task's GEMM runs on each block of finished"),
			jen.Comment("rows; a product row is epiRows indices of the epilogue's outermost loop."),
			jen.Id("epi").Op("*").Id("task"),
			jen.Id("epiRows").Int(),
		)
	}
	f.Type().Id("task").Struct(taskFields...)
	f.Line()
	f.Comment("RunRange runs the kernel on indices [lo, hi) of its outermost loop.")
	f.Func().Params(jen.Id("t").Op("*").Id("task")).Id("RunRange").Params(jen.List(jen.Id("lo"), jen.Id("hi")).Int()).Block(
		jen.Id("t").Dot("fn").Call(jen.Id("t"), jen.Id("lo"), jen.Id("hi")),
	)
	f.Line()
	if g.gemmEpi {
		f.Comment("Epilogue runs the epilogue of a matmul task on rows [r0, r1) of its product,")
		f.Comment("which the GEMM has just finished (runtime.SgemmEpilogue).")
		f.Func().Params(jen.Id("t").Op("*").Id("task")).Id("Epilogue").Params(jen.List(jen.Id("r0"), jen.Id("r1")).Int()).Block(
			jen.Id("e").Op(":=").Id("t").Dot("epi"),
			jen.Id("e").Dot("fn").Call(jen.Id("e"), jen.Id("r0").Op("*").Id("t").Dot("epiRows"), jen.Id("r1").Op("*").Id("t").Dot("epiRows")),
		)
		f.Line()
	}
}

// buf renders, inside New, the buffer of value vp: a slice of the arena,
// a weight's or a constant's own buffer, or nil for a parameter read in
// place (Predict and TrainStep hand the caller's slice to the tasks).
func buf(vp *valPlan) *jen.Statement {
	switch vp.kind {
	case inWeight, inState:
		return jen.Id("m").Dot(vp.w.field)
	case inConst:
		return jen.Id("m").Dot(vp.field)
	case inParam:
		return jen.Nil()
	}
	end := vp.off.plus(mono{c: vp.size.c, p: vp.size.p})
	if vp.size.isZero() {
		end = vp.off
	}
	return jen.Id("arena").Index(vp.off.code("mb").Op(":").Add(end.code("mb")))
}

func (g *gen) emitNew(f *jen.File) {
	body := []jen.Code{
		jen.Id("mb").Op(":=").Id("opts").Dot("MaxBatch"),
		jen.If(jen.Id("mb").Op("<=").Lit(0)).Block(jen.Id("mb").Op("=").Id("defaultMaxBatch")),
		jen.Id("m").Op(":=").Op("&").Id("Model").Values(jen.Dict{
			jen.Id("maxBatch"): jen.Id("mb"),
			jen.Id("pool"):     jen.Qual(runtimePath, "NewPool").Call(jen.Id("opts").Dot("Workers")),
		}),
		jen.Id("arena").Op(":=").Make(jen.Index().Float32(), g.arena.code("mb")),
		jen.Id("m").Dot("arenaLen").Op("=").Len(jen.Id("arena")),
	}
	if len(g.weights) > 0 {
		refs := make([]jen.Code, 0, len(g.weights))
		for _, wp := range g.weights {
			body = append(body, jen.Id("m").Dot(wp.field).Op("=").Make(jen.Index().Float32(), jen.Lit(int(wp.size))))
			dims := make([]jen.Code, len(wp.shape))
			for i, d := range wp.shape {
				dims[i] = jen.Lit(int(d))
			}
			refs = append(refs, jen.Values(jen.Dict{
				jen.Id("Name"):  jen.Lit(wp.w.Name),
				jen.Id("Shape"): jen.Index().Int().Values(dims...),
				jen.Id("Data"):  jen.Id("m").Dot(wp.field),
			}))
		}
		body = append(body, jen.Id("m").Dot("refs").Op("=").Index().Qual(runtimePath, "TensorRef").Custom(
			jen.Options{Open: "{", Close: "}", Separator: ",", Multi: true}, refs...))
	}
	for _, fp := range g.fns() {
		for _, c := range fp.consts {
			body = append(body, g.constInit(c)...)
		}
	}
	if x := g.predict.params[0]; x.kind == inArena {
		body = append(body, jen.Id("m").Dot("predictX").Op("=").Add(buf(x)))
	}
	if res := g.predict.vals[g.predict.f.Results[0]]; res.kind != inParam {
		body = append(body, jen.Id("m").Dot("predictResult").Op("=").Add(buf(res)))
	}
	if fp := g.train; fp != nil {
		for i, name := range []string{"trainX", "trainY"} {
			if p := fp.params[i]; p.kind == inArena {
				body = append(body, jen.Id("m").Dot(name).Op("=").Add(buf(p)))
			}
		}
		body = append(body, jen.Id("m").Dot("trainLoss").Op("=").Add(buf(fp.loss)))
		if fp.probs != nil {
			src := fp.probs
			if fp.probsSlot != nil {
				src = fp.probsSlot
			}
			body = append(body, jen.Id("m").Dot("trainProbs").Op("=").Add(buf(src)))
		}
		for _, up := range fp.updates {
			src := up.src
			if up.slot != nil {
				src = up.slot
			}
			body = append(body, jen.Id("m").Dot(up.field).Op("=").Add(buf(src)))
		}
	}
	bufs := func(vps []*valPlan) jen.Code {
		list := make([]jen.Code, len(vps))
		for i, vp := range vps {
			list[i] = buf(vp)
		}
		return jen.Index().Index().Float32().Values(list...)
	}
	for _, fp := range g.fns() {
		for _, k := range fp.kernels {
			d := jen.Dict{jen.Id("fn"): jen.Id(k.name)}
			if k.pool {
				d[jen.Id("pool")] = jen.Id("m").Dot("pool")
			}
			if len(k.ins) > 0 {
				d[jen.Id("in")] = bufs(k.ins)
			}
			if len(k.outs) > 0 {
				d[jen.Id("out")] = bufs(k.outs)
			}
			if len(k.tmps) > 0 {
				d[jen.Id("tmp")] = bufs(k.tmps)
			}
			if k.epi != nil {
				d[jen.Id("epi")] = jen.Op("&").Id("m").Dot("tasks").Index(jen.Lit(k.epi.task))
				d[jen.Id("epiRows")] = jen.Lit(int(k.epiRows))
			}
			body = append(body, jen.Id("m").Dot("tasks").Index(jen.Lit(k.task)).Op("=").Id("task").Values(d))
		}
	}
	body = append(body, g.shardNew()...)
	body = append(body,
		jen.Id("m").Dot("initWeights").Call(jen.Id("opts").Dot("Seed")),
		jen.Return(jen.Id("m")),
	)
	f.Comment("New allocates a model for batches of up to opts.MaxBatch samples (the whole")
	f.Comment("arena, once), starts its worker pool and initialises the weights from")
	f.Comment("opts.Seed exactly as dlc's interpreter does. Call Close when done.")
	f.Func().Id("New").Params(jen.Id("opts").Id("Options")).Op("*").Id("Model").Block(body...)
	f.Line()
}

// constInit fills a constant's buffer in New. A constant holding one value
// is splatted over its (possibly batch-sized) buffer; one holding data
// shares a package-level literal, which no kernel writes.
func (g *gen) constInit(c *valPlan) []jen.Code {
	if c.dtype() == ir.F64 {
		return g.constInitF64(c)
	}
	vals := toFloat32(c.v.Type.DType, c.v.Attrs.Floats("value"))
	field := jen.Id("m").Dot(c.field)
	if len(vals) != 1 {
		return []jen.Code{field.Op("=").Id(c.field + "Data")}
	}
	if c.size.p == 0 && c.size.c == 1 {
		return []jen.Code{field.Op("=").Index().Float32().Values(f32Lit(vals[0]))}
	}
	size := poly(nil).plus(c.size)
	if c.size.isZero() {
		size = nil
	}
	out := []jen.Code{jen.Id("m").Dot(c.field).Op("=").Make(jen.Index().Float32(), size.code("mb"))}
	if vals[0] != 0 || math.Signbit(float64(vals[0])) {
		g.helpers["fill"] = true
		out = append(out, jen.Id("fill").Call(jen.Id("m").Dot(c.field), f32Lit(vals[0])))
	}
	return out
}

// f32Lit renders x so that it converts back to exactly x as a float32:
// the shortest decimal that does, or an expression for the values no Go
// constant can denote (NaN, ±Inf, -0).
func f32Lit(x float32) jen.Code {
	switch {
	case x != x:
		return jen.Float32().Call(jen.Qual(mathPath, "NaN").Call())
	case math.IsInf(float64(x), 1):
		return jen.Float32().Call(jen.Qual(mathPath, "Inf").Call(jen.Lit(1)))
	case math.IsInf(float64(x), -1):
		return jen.Float32().Call(jen.Qual(mathPath, "Inf").Call(jen.Lit(-1)))
	case x == 0 && math.Signbit(float64(x)):
		return jen.Float32().Call(jen.Qual(mathPath, "Copysign").Call(jen.Lit(0), jen.Lit(-1)))
	}
	return jen.Id(strconv.FormatFloat(float64(x), 'g', -1, 32))
}

// emitInit replays interp.NewMachine's initialisation: one RNG from the
// seed, then each weight in module order from its data, its initialiser
// (spec and fans evaluated at generation time) or zeros.
func (g *gen) emitInit(f *jen.File) {
	var body []jen.Code
	usesRNG := false
	for _, wp := range g.weights {
		usesRNG = usesRNG || wp.hasInit
	}
	if usesRNG {
		body = append(body, jen.Id("rng").Op(":=").Qual(runtimePath, "NewRNG").Call(jen.Id("seed")))
	}
	for _, wp := range g.weights {
		switch {
		case wp.dataField != "":
			body = append(body, jen.Copy(jen.Id("m").Dot(wp.field), jen.Id(wp.dataField)))
		case wp.hasInit:
			body = append(body, jen.If(
				jen.Err().Op(":=").Qual(runtimePath, "Initialize").Call(
					jen.Id("m").Dot(wp.field), specLit(wp.spec), jen.Lit(wp.fanIn), jen.Lit(wp.fanOut), jen.Id("rng")),
				jen.Err().Op("!=").Nil(),
			).Block(jen.Panic(jen.Lit(g.pkg+": initialising weight "+strconv.Quote(wp.w.Name)+": ").Op("+").Err().Dot("Error").Call())))
			if wp.w.Type.DType == ir.Bool {
				// The interpreter stores an initialised bool weight as
				// x != 0.
				g.helpers["b2f"] = true
				body = append(body, jen.For(jen.List(jen.Id("i"), jen.Id("v")).Op(":=").Range().Id("m").Dot(wp.field)).Block(
					jen.Id("m").Dot(wp.field).Index(jen.Id("i")).Op("=").Id("b2f").Call(jen.Id("v").Op("!=").Lit(0))))
			}
		}
	}
	f.Comment("initWeights sets every weight as interp.NewMachine does with the same seed.")
	f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("initWeights").Params(jen.Id("seed").Uint64()).Block(body...)
	f.Line()
}

// specLit renders an InitSpec literal with its non-zero fields.
func specLit(s runtime.InitSpec) jen.Code {
	d := jen.Dict{jen.Id("Kind"): jen.Lit(s.Kind)}
	for _, fl := range []struct {
		name string
		v    float64
	}{{"Scale", s.Scale}, {"Mean", s.Mean}, {"Stddev", s.Stddev}, {"Minval", s.Minval}, {"Maxval", s.Maxval}, {"Value", s.Value}} {
		if fl.v != 0 {
			d[jen.Id(fl.name)] = jen.Lit(fl.v)
		}
	}
	if s.Mode != "" {
		d[jen.Id("Mode")] = jen.Lit(s.Mode)
	}
	if s.Distribution != "" {
		d[jen.Id("Distribution")] = jen.Lit(s.Distribution)
	}
	return jen.Qual(runtimePath, "InitSpec").Values(d)
}

func method(name string, params []jen.Code, results []jen.Code, body ...jen.Code) *jen.Statement {
	s := jen.Func().Params(jen.Id("m").Op("*").Id("Model")).Id(name).Params(params...)
	switch len(results) {
	case 0:
	case 1:
		s.Add(results[0])
	default:
		s.Parens(jen.List(results...))
	}
	return s.Block(body...)
}

func (g *gen) emitAccessors(f *jen.File) {
	f.Comment("MaxBatch is the largest batch the model accepts.")
	f.Add(method("MaxBatch", nil, []jen.Code{jen.Int()}, jen.Return(jen.Id("m").Dot("maxBatch"))))
	f.Line()
	f.Comment("InputSize is the number of float32 elements per sample of x.")
	f.Add(method("InputSize", nil, []jen.Code{jen.Int()}, jen.Return(jen.Id("inputSize"))))
	f.Line()
	f.Comment("OutputSize is the number of float32 elements per sample of Predict's result.")
	f.Add(method("OutputSize", nil, []jen.Code{jen.Int()}, jen.Return(jen.Id("outputSize"))))
	f.Line()
	if g.train != nil {
		f.Comment("TargetSize is the number of float32 elements per sample of TrainStep's y.")
		f.Add(method("TargetSize", nil, []jen.Code{jen.Int()}, jen.Return(jen.Id("targetSize"))))
		f.Line()
	}
	f.Comment("ArenaBytes is the size in bytes of the arena that holds every intermediate")
	f.Comment("value for up to MaxBatch samples.")
	if g.shard != nil {
		f.Comment("With several workers it includes the second arena in which Predict's")
		f.Comment("shards each run the whole graph on their range of the batch.")
	}
	f.Add(method("ArenaBytes", nil, []jen.Code{jen.Int()}, jen.Return(jen.Lit(4).Op("*").Id("m").Dot("arenaLen"))))
	f.Line()
	f.Comment("Close stops the worker pool. The model must not be used afterwards.")
	f.Add(method("Close", nil, nil, jen.Id("m").Dot("pool").Dot("Close").Call()))
	f.Line()

	// Argument checks: panics, as for an out-of-range slice index, since a
	// wrong batch or slice is a bug in the caller. The messages are built
	// only when failing, so the checks do not allocate.
	prefix := g.pkg + ": Model."
	f.Comment("checkBatch panics unless least <= n <= MaxBatch.")
	f.Add(method("checkBatch", []jen.Code{jen.Id("name").String(), jen.List(jen.Id("n"), jen.Id("least")).Int()}, nil,
		jen.If(jen.Id("n").Op("<").Id("least").Op("||").Id("n").Op(">").Id("m").Dot("maxBatch")).Block(
			jen.Panic(jen.Lit(prefix).Op("+").Id("name").Op("+").Lit(": batch size ").Op("+").
				Qual(strconvPath, "Itoa").Call(jen.Id("n")).Op("+").Lit(" is outside [").Op("+").
				Qual(strconvPath, "Itoa").Call(jen.Id("least")).Op("+").Lit(", MaxBatch = ").Op("+").
				Qual(strconvPath, "Itoa").Call(jen.Id("m").Dot("maxBatch")).Op("+").Lit("]")),
		)))
	f.Line()
	f.Comment("checkLen panics if a slice argument is too short.")
	f.Func().Id("checkLen").Params(jen.List(jen.Id("name"), jen.Id("arg")).String(), jen.List(jen.Id("got"), jen.Id("want")).Int()).Block(
		jen.If(jen.Id("got").Op("<").Id("want")).Block(
			jen.Panic(jen.Lit(prefix).Op("+").Id("name").Op("+").Lit(": len(").Op("+").Id("arg").Op("+").Lit(") = ").Op("+").
				Qual(strconvPath, "Itoa").Call(jen.Id("got")).Op("+").Lit(", need at least ").Op("+").
				Qual(strconvPath, "Itoa").Call(jen.Id("want"))),
		))
	f.Line()
}

// calls renders the kernel calls of one function, in body order, for a
// batch of n.
func calls(fp *fnPlan) []jen.Code {
	var out []jen.Code
	for _, k := range fp.kernels {
		if k.inGemm {
			continue // its GEMM runs it
		}
		work := k.work.code("n")
		if k.rows.isOne() {
			work = jen.Lit(0)
		}
		out = append(out, jen.Id("m").Dot("run").Call(
			jen.Op("&").Id("m").Dot("tasks").Index(jen.Lit(k.task)), jen.Id("n"), k.rows.code("n"), work))
	}
	return out
}

// paramArgs are the arguments the generated Predict or TrainStep takes for
// the parameters of its function, by index: each one's name and the name
// of its per-sample size constant.
var paramArgs = map[string][][2]string{
	"predict": {{"x", "inputSize"}},
	"train":   {{"x", "inputSize"}, {"y", "targetSize"}},
}

// paramArg renders the first n samples of parameter i of fp's function:
// the caller's slice.
func paramArg(fp *fnPlan, i int) *jen.Statement {
	a := paramArgs[fp.prefix][i]
	return jen.Id(a[0]).Index(jen.Op(":").Id("n").Op("*").Id(a[1]))
}

// bindParams renders, for a function whose kernels read parameters in
// place, the statements that hand the caller's slices to the tasks
// reading them (clear: that drop them again after the call, so that the
// model keeps no reference to the caller's memory); in the NoFuse
// baseline, the copies of the arguments into the arena.
func bindParams(fp *fnPlan, fields []string, clear bool) []jen.Code {
	var out []jen.Code
	for i, p := range fp.params {
		if p.kind == inArena {
			if !clear {
				name, size := paramArgs[fp.prefix][i][0], paramArgs[fp.prefix][i][1]
				out = append(out, jen.Copy(jen.Id("m").Dot(fields[i]).Index(jen.Op(":").Id("n").Op("*").Id(size)), jen.Id(name)))
			}
			continue
		}
		for _, k := range fp.kernels {
			for j, in := range k.ins {
				if in != p || !k.uses["x"+strconv.Itoa(j)] {
					continue // (an epilogue has its matmul's operands, unread)
				}
				val := jen.Code(jen.Nil())
				if !clear {
					val = paramArg(fp, i)
				}
				out = append(out, jen.Id("m").Dot("tasks").Index(jen.Lit(k.task)).Dot("in").Index(jen.Lit(j)).Op("=").Add(val))
			}
		}
	}
	return out
}

// readsInPlace reports whether fp's kernels read the caller's arguments.
func readsInPlace(fp *fnPlan) bool {
	for _, p := range fp.params {
		if p.kind == inParam {
			return true
		}
	}
	return false
}

func (g *gen) emitPredict(f *jen.File) {
	fp := g.predict
	body := []jen.Code{
		jen.Id("m").Dot("checkBatch").Call(jen.Lit("Predict"), jen.Id("n"), jen.Lit(0)),
		jen.Id("checkLen").Call(jen.Lit("Predict"), jen.Lit("x"), jen.Len(jen.Id("x")), jen.Id("n").Op("*").Id("inputSize")),
		jen.Id("checkLen").Call(jen.Lit("Predict"), jen.Lit("out"), jen.Len(jen.Id("out")), jen.Id("n").Op("*").Id("outputSize")),
		jen.If(jen.Id("n").Op("==").Lit(0)).Block(jen.Return()),
	}
	body = append(body, g.shardPredict()...)
	body = append(body, bindParams(fp, []string{"predictX"}, false)...)
	body = append(body, calls(fp)...)
	var res jen.Code = jen.Id("m").Dot("predictResult")
	if vp := fp.vals[fp.f.Results[0]]; vp.kind == inParam {
		res = paramArg(fp, vp.param)
	}
	body = append(body, jen.Copy(jen.Id("out").Index(jen.Op(":").Id("n").Op("*").Id("outputSize")), res))
	body = append(body, bindParams(fp, nil, true)...)
	f.Comment("Predict runs the model on the first n samples of x (n*InputSize() elements)")
	f.Comment("and writes n*OutputSize() results to out. It does not allocate; it panics if")
	f.Comment("n is negative or above MaxBatch, or if x or out is too short.")
	if readsInPlace(fp) {
		f.Comment("")
		f.Comment("The kernels read x in place, without copying it: x must not be modified")
		f.Comment("during the call.")
	}
	f.Add(method("Predict", []jen.Code{jen.List(jen.Id("out"), jen.Id("x")).Index().Float32(), jen.Id("n").Int()}, nil, body...))
	f.Line()
}

func (g *gen) emitTrain(f *jen.File) {
	fp := g.train
	body := []jen.Code{
		jen.Id("m").Dot("checkBatch").Call(jen.Lit("TrainStep"), jen.Id("n"), jen.Lit(1)),
		jen.Id("checkLen").Call(jen.Lit("TrainStep"), jen.Lit("x"), jen.Len(jen.Id("x")), jen.Id("n").Op("*").Id("inputSize")),
		jen.Id("checkLen").Call(jen.Lit("TrainStep"), jen.Lit("y"), jen.Len(jen.Id("y")), jen.Id("n").Op("*").Id("targetSize")),
	}
	body = append(body, bindParams(fp, []string{"trainX", "trainY"}, false)...)
	body = append(body, calls(fp)...)
	body = append(body, jen.Id("loss").Op(":=").Id("m").Dot("trainLoss").Index(jen.Lit(0)))
	// Every read above saw the old state: the kernels wrote the updates
	// that they may write in place only once nothing reads the old value.
	// Values that are other weights' buffers are staged first, so that no
	// update reads a weight another update has already written.
	if fp.probsStage != nil {
		body = append(body, jen.Copy(jen.Id("m").Dot("trainProbs"), jen.Id("m").Dot(fp.probsStage.field)))
	}
	if p := fp.probsParam; p != nil {
		body = append(body, jen.Copy(jen.Id("m").Dot("trainProbs"), paramArg(fp, p.param)))
	}
	for _, up := range fp.updates {
		if up.stage != nil {
			body = append(body, jen.Copy(jen.Id("m").Dot(up.field), jen.Id("m").Dot(up.stage.field)))
		}
	}
	for _, up := range fp.updates {
		body = append(body, jen.Copy(jen.Id("m").Dot(up.target.field), jen.Id("m").Dot(up.field)))
	}
	body = append(body, bindParams(fp, nil, true)...)
	body = append(body,
		jen.Id("m").Dot("trainN").Op("=").Id("n"),
		jen.Return(jen.Id("loss")),
	)
	f.Comment("TrainStep runs one training step on the first n samples of x and y")
	f.Comment("(n*InputSize() and n*TargetSize() elements): it computes the loss and the")
	f.Comment("new weights and optimizer state from the old ones, stores the new ones, and")
	f.Comment("returns the loss. It does not allocate; it panics if n is not in")
	f.Comment("[1, MaxBatch] or if x or y is too short.")
	if readsInPlace(fp) {
		f.Comment("")
		f.Comment("The kernels read x and y in place, without copying them: they must not be")
		f.Comment("modified during the call, so they must not be views of the model's own")
		f.Comment("memory (TrainOutput's result, Weights' buffers), which the call writes.")
	}
	f.Add(method("TrainStep", []jen.Code{jen.List(jen.Id("x"), jen.Id("y")).Index().Float32(), jen.Id("n").Int()},
		[]jen.Code{jen.Float32()}, body...))
	f.Line()

	f.Comment("TrainOutput returns the predictions of the last TrainStep (n*trainOutputSize")
	f.Comment("elements, a view into the arena that the next TrainStep overwrites), or nil")
	f.Comment("if the model's train_step returns none.")
	var ret jen.Code = jen.Nil()
	if fp.probs != nil {
		ret = jen.Id("m").Dot("trainProbs").Index(jen.Op(":").Id("m").Dot("trainN").Op("*").Id("trainOutputSize"))
	}
	f.Add(method("TrainOutput", nil, []jen.Code{jen.Index().Float32()}, jen.Return(ret)))
	f.Line()
}

func (g *gen) emitWeightIO(f *jen.File) {
	f.Comment("Weights returns every weight and optimizer-state tensor under its name in")
	f.Comment("the model, in module order. The Data slices are the model's own buffers.")
	f.Add(method("Weights", nil, []jen.Code{jen.Index().Qual(runtimePath, "TensorRef")},
		jen.Return(jen.Append(jen.Index().Qual(runtimePath, "TensorRef").Call(jen.Nil()), jen.Id("m").Dot("refs").Op("...")))))
	f.Line()

	meta := jen.Dict{jen.Lit("generator"): jen.Lit("dlc")}
	if utf8.ValidString(g.mod.Name) {
		meta[jen.Lit("model")] = jen.Lit(g.mod.Name)
	}
	f.Comment("SaveWeights writes every weight and optimizer-state tensor to w in the")
	f.Comment("safetensors format, under the names the model gives them.")
	f.Add(method("SaveWeights", []jen.Code{jen.Id("w").Qual(ioPath, "Writer")}, []jen.Code{jen.Error()},
		jen.Return(jen.Qual(runtimePath, "WriteSafetensors").Call(jen.Id("w"), jen.Id("m").Dot("refs"),
			jen.Map(jen.String()).String().Values(meta)))))
	f.Line()

	f.Comment("LoadWeights reads a safetensors checkpoint (as SaveWeights writes) into the")
	f.Comment("model's buffers. Every weight and state tensor must be present with its")
	f.Comment("shape; on error, which names the tensor, the model is left unchanged.")
	f.Add(method("LoadWeights", []jen.Code{jen.Id("r").Qual(ioPath, "Reader")}, []jen.Code{jen.Error()},
		jen.Id("tmp").Op(":=").Make(jen.Index().Qual(runtimePath, "TensorRef"), jen.Len(jen.Id("m").Dot("refs"))),
		jen.For(jen.List(jen.Id("i"), jen.Id("t")).Op(":=").Range().Id("m").Dot("refs")).Block(
			jen.Id("tmp").Index(jen.Id("i")).Op("=").Qual(runtimePath, "TensorRef").Values(jen.Dict{
				jen.Id("Name"):  jen.Id("t").Dot("Name"),
				jen.Id("Shape"): jen.Id("t").Dot("Shape"),
				jen.Id("Data"):  jen.Make(jen.Index().Float32(), jen.Len(jen.Id("t").Dot("Data"))),
			}),
		),
		jen.If(jen.Err().Op(":=").Qual(runtimePath, "ReadSafetensorsInto").Call(jen.Id("r"), jen.Id("tmp")), jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Err()),
		),
		jen.For(jen.List(jen.Id("i"), jen.Id("t")).Op(":=").Range().Id("tmp")).Block(
			jen.Copy(jen.Id("m").Dot("refs").Index(jen.Id("i")).Dot("Data"), jen.Id("t").Dot("Data")),
		),
		jen.Return(jen.Nil()),
	))
	f.Line()
}

func (g *gen) emitRun(f *jen.File) {
	f.Comment("run calls kernel t for a batch of n: inline when its outermost loop has one")
	f.Comment("iteration or the work is small, else split over the pool.")
	f.Add(method("run", []jen.Code{jen.Id("t").Op("*").Id("task"), jen.List(jen.Id("n"), jen.Id("rows"), jen.Id("work")).Int()}, nil,
		jen.Id("t").Dot("n").Op("=").Id("n"),
		jen.If(jen.Id("rows").Op("<").Lit(2).Op("||").Id("work").Op("<").Id("parallelMin")).Block(
			jen.Id("t").Dot("fn").Call(jen.Id("t"), jen.Lit(0), jen.Id("rows")),
			jen.Return(),
		),
		jen.Id("m").Dot("pool").Dot("Run").Call(jen.Id("rows"), jen.Id("t")),
	))
	f.Line()
}

// emitHelpers emits the small functions kernels call, in a fixed order.
// Each is short enough for the Go compiler to inline.
func (g *gen) emitHelpers(f *jen.File) {
	if g.helpers["b2f"] {
		f.Comment("b2f stores a bool as 0 or 1.")
		f.Func().Id("b2f").Params(jen.Id("c").Bool()).Float32().Block(
			jen.If(jen.Id("c")).Block(jen.Return(jen.Lit(1))),
			jen.Return(jen.Lit(0)),
		)
		f.Line()
	}
	if g.helpers["sel"] {
		f.Comment("sel is c ? a : b for a bool c stored as 0 or 1.")
		f.Func().Id("sel").Params(jen.List(jen.Id("c"), jen.Id("a"), jen.Id("b")).Float32()).Float32().Block(
			jen.If(jen.Id("c").Op("!=").Lit(0)).Block(jen.Return(jen.Id("a"))),
			jen.Return(jen.Id("b")),
		)
		f.Line()
	}
	if g.helpers["relu"] {
		f.Comment("relu is max(x, 0), keeping NaN as the interpreter does.")
		f.Func().Id("relu").Params(jen.Id("x").Float32()).Float32().Block(
			jen.If(jen.Id("x").Op("<").Lit(0)).Block(jen.Return(jen.Lit(0))),
			jen.Return(jen.Id("x")),
		)
		f.Line()
	}
	if g.helpers["fill"] {
		f.Comment("fill sets every element of dst to v.")
		f.Func().Id("fill").Params(jen.Id("dst").Index().Float32(), jen.Id("v").Float32()).Block(
			jen.For(jen.Id("i").Op(":=").Range().Id("dst")).Block(jen.Id("dst").Index(jen.Id("i")).Op("=").Id("v")),
		)
		f.Line()
	}
	for _, name := range slices.Sorted(maps.Keys(opHelpers)) {
		if g.helpers[name] {
			opHelpers[name](f)
			f.Line()
		}
	}
	g.emitDecls(f)
}

// opHelpers holds the helpers that the kernels of an op file
// (kernels_<topic>.go) call, by name, each emitting its declaration;
// emitHelpers emits those some kernel calls, sorted by name, after the
// ones above.
var opHelpers = map[string]func(f *jen.File){}

// emitData emits the package-level literals holding weight data and
// constant tensors, eight values a line.
func (g *gen) emitData(f *jen.File) {
	for _, wp := range g.weights {
		if wp.dataField != "" {
			f.Comment(wp.dataField + " is the stored value of " + weightComment(wp) + ".")
			f.Var().Id(wp.dataField).Op("=").Index().Float32().Add(floatList(wp.data))
			f.Line()
		}
	}
	for _, fp := range g.fns() {
		for _, c := range fp.consts {
			if c.dtype() == ir.F64 && len(c.v.Attrs.Floats("value")) != 1 {
				f.Comment(c.field + "Data is the value of the constant " + c.field + ".")
				f.Var().Id(c.field + "Data").Op("=").Index().Float64().Add(f64List(c.v.Attrs.Floats("value")))
				f.Line()
				continue
			}
			vals := toFloat32(c.v.Type.DType, c.v.Attrs.Floats("value"))
			if len(vals) == 1 {
				continue
			}
			f.Comment(c.field + "Data is the value of the constant " + c.field + ".")
			f.Var().Id(c.field + "Data").Op("=").Index().Float32().Add(floatList(vals))
			f.Line()
		}
	}
}

func floatList(vals []float32) jen.Code {
	const perLine = 8
	var rows []jen.Code
	for i := 0; i < len(vals); i += perLine {
		var row []jen.Code
		for _, v := range vals[i:min(i+perLine, len(vals))] {
			row = append(row, f32Lit(v))
		}
		rows = append(rows, jen.List(row...))
	}
	if len(rows) == 0 {
		return jen.Values()
	}
	return jen.Custom(jen.Options{Open: "{", Close: "}", Separator: ",", Multi: true}, rows...)
}
