package runtime

import (
	"fmt"
	"os"
	"sync"
	"unsafe"
)

// Sgemm is a packed, register-blocked GEMM in the style of GotoBLAS/BLIS
// (K. Goto and R. van de Geijn, "Anatomy of high-performance matrix
// multiplication", ACM TOMS 34(3), 2008; F. Van Zee and R. van de Geijn,
// "BLIS: A framework for rapidly instantiating BLAS functionality", ACM
// TOMS 41(3), 2015). C is cut into nc-column blocks, k into kc-deep slices
// and A into mc-row blocks; within a block a micro-kernel computes one
// mr×nr tile of C from an mr×kc sliver of A and a kc×nr sliver of B kept in
// registers and L1. The kernels (sgemm_kernels_amd64.s for AVX-512 and
// AVX2, sgemm_generic.go in Go) take their operands through strides, so
// the same kernel reads packed buffers or the caller's matrices in place:
//
//   - B is packed into contiguous kc×nr panels (a copy of row segments,
//     or a transposing copy, 16×16 blocks in registers, when transB) for
//     large products or long rows; otherwise the kernel reads B in place,
//     masking the ragged right edge (AVX-512), as for the MLP's shapes,
//     where packing would cost more than it saves.
//   - A is read in place (rows of A for A, columns for Aᵀ: the kernel
//     broadcasts single elements, so either layout streams), or, for large
//     products, copied row by row into a buffer whose stride avoids cache
//     set conflicts (Aᵀ: into mr-wide panels). No transpose of A is ever
//     materialised.
//   - Edge tiles use kernels specialised for each row count up to mr and
//     for one or two vectors of columns; tiles too small to hide the FMA
//     latency (m = 1: a vector-matrix product) accumulate over k in up to
//     four independent register sets.
//
// Threads split C into one rectangle per worker, along n in multiples of
// nr or along m in multiples of mr, whichever duplicates less packing; each
// worker packs into its own buffers, so no barrier is needed. Products too
// small to pay for waking a parked worker run on the calling goroutine (see
// sgemmParMinFlops). Blocking and thresholds were measured on a 2-vCPU AMD
// EPYC (Zen 5, AVX-512) VM; bench/peers.sh compares with OpenBLAS.

// sgemmVariant is one implementation of the micro-kernel and its packing
// helpers, with the blocking that suits it.
type sgemmVariant struct {
	name   string
	mr, nr int // register tile
	kc     int // depth of one k slice (k is split evenly into slices <= kc)
	mc     int // rows of A per block (a multiple of mr)
	nc     int // columns of B per block (a multiple of nr)

	// tile computes the mr×nr (mr <= variant mr, nr <= variant nr) tile
	// C[co + i*ldc + j] = alpha*sum_l A[ao + i*ars + l*aks]*B[bo + l*bks + j]
	// (+ beta*C when accum). It reads only columns j < nr of B.
	tile func(kc int, a []float32, ao, ars, aks int, b []float32, bo, bks int, c []float32, co, ldc, mr, nr int, alpha, beta float32, accum bool)
	// pack copies the rows×cols block at src[so:] (row stride lds) into
	// panels of width columns: dst[(p*rows+l)*width+j] =
	// src[so+l*lds+p*width+j], zero-padded to a whole panel.
	pack func(dst, src []float32, so, lds, rows, cols, width int)
	// packT is pack for a transposed source (see packTransposed).
	packT func(dst, src []float32, so, lds, rows, cols, width int)
	// fullB reports that the kernel loads whole vectors of B: B must then
	// be packed (zero-padded) whenever the last panel is partial.
	fullB bool
}

// sgemmVariants lists the variants this machine can run, best first; the
// first is used. Tests run all of them (see sgemmUse).
var sgemmVariants []*sgemmVariant

// sgemmImpl is the variant Sgemm uses.
var sgemmImpl *sgemmVariant

func init() {
	sgemmVariants = append(sgemmVariants, sgemmAsmVariants()...)
	sgemmVariants = append(sgemmVariants, &sgemmGoVariant)
	sgemmImpl = sgemmVariants[0]
	// DLC_SGEMM_KERNEL=avx2 or go picks a kernel this CPU has other than
	// the best one: to test and time the other paths on one machine
	// (summation order, and so the last bits of results, differ by kernel).
	if want := os.Getenv("DLC_SGEMM_KERNEL"); want != "" {
		for _, v := range sgemmVariants {
			if v.name == want {
				sgemmImpl = v
			}
		}
	}
}

// SgemmKernel names the micro-kernel Sgemm uses on this machine
// ("avx512", "avx2" or "go").
func SgemmKernel() string { return sgemmImpl.name }

// Tuning knobs (variables so that tests can force every path).
var (
	// Products of at least sgemmParMinFlops (2*m*n*k) are split over
	// the pool when a worker is awake (polling for work). Parked workers
	// take 30-100 µs to start, on cold caches, so below
	// sgemmParMinFlopsCold the product is then done serially, but the
	// workers are woken for the calls that follow.
	sgemmParMinFlops     = float64(1 << 20)
	sgemmParMinFlopsCold = float64(1 << 26)
	// sgemmPackA and sgemmPackB override the choice to pack A and B:
	// 0 chooses per call, 1 packs always, -1 reads in place wherever the
	// kernel allows it.
	sgemmPackA, sgemmPackB = 0, 0
)

// Sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices with
// BLAS semantics: op(X) is X or Xᵀ according to transA/transB, op(A) is m×k,
// op(B) is k×n, C is m×n, and lda, ldb, ldc are the row strides of the
// matrices as stored (A is stored m×k, or k×m when transA). When k == 0 or
// alpha == 0, A and B are not read and C is just scaled by beta (beta == 0
// writes zeros, even over NaNs, as in reference BLAS; so does beta == 0
// with k > 0: C is never read then).
//
// Large products are split over p's workers (nil p: serially on the
// calling goroutine). Sgemm does not allocate once its packing buffers
// have grown to the sizes a program uses. Inconsistent dimensions, strides
// or slice lengths are programming errors in the caller and panic with a
// message naming the offending argument, as gonum and reference BLAS do.
func Sgemm(p *Pool, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if msg := checkSgemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc); msg != "" {
		panic("runtime.Sgemm: " + msg)
	}
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleRows(m, n, beta, c, ldc)
		return
	}
	v := sgemmImpl
	if flops := 2 * float64(m) * float64(n) * float64(k); p.Workers() > 1 && flops >= sgemmParMinFlops {
		if flops >= sgemmParMinFlopsCold || p.pollingWorkers() > 0 {
			if p.sgemmParallel(v, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
				return
			}
		} else {
			p.wake()
		}
	}
	var j sgemmJob
	j.set(v, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	s := getSerialScratch()
	j.compute(s, 0, m, 0, n)
	putSerialScratch(s)
}

// Epilogue is work to do on rows of a product as soon as the GEMM has
// finished them (generated code passes its epilogue task): bias,
// activation, an optimizer update. Epilogue(r0, r1) is called once for
// every row of C, on the goroutine that computed rows [r0, r1) (all
// columns), while they are still in cache; calls for disjoint ranges may
// run concurrently.
type Epilogue interface {
	Epilogue(r0, r1 int)
}

// SgemmEpilogue is Sgemm followed by epi over every row of C, interleaved:
// each block of rows of C is handed to epi right after its last k slice,
// on the worker that computed it. Work is split over the pool along m
// only, so that every block spans all columns. A product wider than one
// column block runs whole first, then epi(0, m).
func SgemmEpilogue(p *Pool, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, epi Epilogue) {
	if msg := checkSgemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc); msg != "" {
		panic("runtime.SgemmEpilogue: " + msg)
	}
	v := sgemmImpl
	if m == 0 {
		return
	}
	if n == 0 || k == 0 || alpha == 0 || n > v.nc {
		Sgemm(p, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		epi.Epilogue(0, m)
		return
	}
	if flops := 2 * float64(m) * float64(n) * float64(k); p.Workers() > 1 && flops >= sgemmParMinFlops {
		if flops >= sgemmParMinFlopsCold || p.pollingWorkers() > 0 {
			if p.sgemmParallelEpi(v, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, epi) {
				return
			}
		} else {
			p.wake()
		}
	}
	var j sgemmJob
	j.set(v, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	j.epi = epi
	s := getSerialScratch()
	j.compute(s, 0, m, 0, n)
	putSerialScratch(s)
}

func (p *Pool) sgemmParallelEpi(v *sgemmVariant, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, epi Epilogue) bool {
	if !p.mu.TryLock() {
		return false
	}
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	j := &p.gemm
	j.set(v, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	j.epi = epi
	defer j.set(nil, false, false, 0, 0, 0, 0, nil, 0, nil, 0, 0, nil, 0)
	parts := j.partition(p.workers)
	if parts < 2 {
		return false
	}
	if len(p.gemmScratch) < parts {
		p.gemmScratch = make([]sgemmScratch, p.workers)
	}
	j.scratch = p.gemmScratch
	defer func() { j.scratch = nil }()
	p.runLocked(parts, j)
	return true
}

// sgemmParallel runs the job on the pool using its preallocated job and
// per-worker buffers. It reports false, doing nothing, when the pool is
// busy (a concurrent or nested call) or closed, or when the product has
// too few tiles to split; the caller then runs serially.
func (p *Pool) sgemmParallel(v *sgemmVariant, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) bool {
	if !p.mu.TryLock() {
		return false
	}
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	j := &p.gemm
	j.set(v, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	// Drop the references afterwards so the pool does not keep the
	// caller's matrices alive.
	defer j.set(nil, false, false, 0, 0, 0, 0, nil, 0, nil, 0, 0, nil, 0)
	parts := j.partition(p.workers)
	if parts < 2 {
		return false
	}
	if len(p.gemmScratch) < parts {
		p.gemmScratch = make([]sgemmScratch, p.workers)
	}
	j.scratch = p.gemmScratch
	defer func() { j.scratch = nil }()
	p.runLocked(parts, j)
	return true
}

// sgemmJob is one Sgemm call. As a Task, index i of Pool.Run computes the
// i-th rectangle of C with the i-th scratch buffers.
type sgemmJob struct {
	v              *sgemmVariant
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
	packA, packB   bool

	wm, wn  int // rectangles of C: wm along m times wn along n
	scratch []sgemmScratch
	epi     Epilogue // nil, or run on each block of rows once final (split along m only)
}

func (j *sgemmJob) set(v *sgemmVariant, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	j.v = v
	j.transA, j.transB = transA, transB
	j.m, j.n, j.k = m, n, k
	j.alpha, j.beta = alpha, beta
	j.a, j.b, j.c = a, b, c
	j.lda, j.ldb, j.ldc = lda, ldb, ldc
	j.wm, j.wn = 1, 1
	j.epi = nil
	if v != nil {
		j.choosePacking()
	}
}

// choosePacking decides whether A and B are packed or read in place.
func (j *sgemmJob) choosePacking() {
	v := j.v
	// Packing costs one pass over the operand; reading in place costs
	// strided access each time a sliver is reused, which on this generation
	// of cores is nearly free unless the stride is large (each row of a
	// sliver on its own page, rows in the same cache sets) or the product
	// is large enough that blocks fall out of L2. Measured (AVX-512, 2
	// vCPUs): packing loses 5-15% at the MLP's shapes and 256³, is even
	// at 512³ and wins 3-15% at 1024³ and 2048³, most with two threads.
	large := j.m >= 512 && j.n >= 512 && j.k >= 256
	j.packB = j.transB || (v.fullB && j.n%v.nr != 0) || (j.m > 2*v.mr && (large || j.ldb >= 1024))
	j.packA = j.n > 4*v.nr && j.m > v.mr && (large || j.lda >= 1024)
	switch sgemmPackA {
	case 1:
		j.packA = true
	case -1:
		j.packA = false
	}
	switch sgemmPackB {
	case 1:
		j.packB = true
	case -1:
		j.packB = j.transB || (v.fullB && j.n%v.nr != 0)
	}
}

// partition splits C into at most workers rectangles and returns their
// number. A split along n duplicates the packing of A in each worker, one
// along m that of B; the cheaper is chosen among splits that balance the
// tiles.
func (j *sgemmJob) partition(workers int) int {
	v := j.v
	rowTiles, colTiles := ceilDiv(j.m, v.mr), ceilDiv(j.n, v.nr)
	bestCost := -1.0
	if j.epi != nil {
		// Every rectangle spans all columns, so that its rows are final.
		j.wm, j.wn = min(workers, rowTiles), 1
		return j.wm
	}
	for wm := 1; wm <= workers; wm++ {
		if workers%wm != 0 {
			continue
		}
		wn := workers / wm
		if wm > rowTiles || wn > colTiles {
			continue
		}
		// Work of the largest rectangle, in padded tile units...
		work := float64(ceilDiv(rowTiles, wm)*v.mr) * float64(ceilDiv(colTiles, wn)*v.nr) * float64(j.k)
		// ... plus the packing each worker repeats: all of A's rows in
		// its row range for each column rectangle, and vice versa.
		pack := 0.0
		if j.packA {
			pack += float64(ceilDiv(j.m, wm)) * float64(j.k)
		}
		if j.packB {
			pack += float64(ceilDiv(j.n, wn)) * float64(j.k)
		}
		cost := work/8 + pack // a packed float costs about as much as 8 FMA lanes
		if bestCost < 0 || cost < bestCost {
			bestCost = cost
			j.wm, j.wn = wm, wn
		}
	}
	if bestCost < 0 {
		// Fewer tiles than workers: split the longer side only.
		if rowTiles >= colTiles {
			j.wm, j.wn = min(workers, rowTiles), 1
		} else {
			j.wm, j.wn = 1, min(workers, colTiles)
		}
	}
	return j.wm * j.wn
}

// RunRange computes rectangles [lo, hi) of C.
func (j *sgemmJob) RunRange(lo, hi int) {
	for idx := lo; idx < hi; idx++ {
		ri, ci := idx/j.wn, idx%j.wn
		i0, i1 := splitTiles(j.m, j.v.mr, j.wm, ri)
		j0, j1 := splitTiles(j.n, j.v.nr, j.wn, ci)
		j.compute(&j.scratch[idx], i0, i1, j0, j1)
	}
}

// splitTiles returns part idx of parts of [0, total) cut at multiples of unit.
func splitTiles(total, unit, parts, idx int) (lo, hi int) {
	tiles := ceilDiv(total, unit)
	lo = min(total, idx*tiles/parts*unit)
	hi = min(total, (idx+1)*tiles/parts*unit)
	return lo, hi
}

// compute does C[i0:i1, j0:j1] serially with the buffers in s.
func (j *sgemmJob) compute(s *sgemmScratch, i0, i1, j0, j1 int) {
	v := j.v
	mr, nr := v.mr, v.nr
	k := j.k
	kcs := ceilDiv(k, ceilDiv(k, v.kc)) // even k slices
	for jc := j0; jc < j1; jc += v.nc {
		nc := min(v.nc, j1-jc)
		for pc := 0; pc < k; pc += kcs {
			kc := min(kcs, k-pc)
			beta, accum := j.beta, j.beta != 0
			if pc > 0 {
				beta, accum = 1, true
			}
			// B sliver p (columns jc+p*nr...) starts at bs[bo+p*bstep].
			bs, bo, bks, bstep := j.b, pc*j.ldb+jc, j.ldb, nr
			if j.packB {
				buf := s.bufB(ceilDiv(nc, nr) * nr * kc)
				if j.transB {
					v.packT(buf, j.b, jc*j.ldb+pc, j.ldb, kc, nc, nr)
				} else {
					v.pack(buf, j.b, pc*j.ldb+jc, j.ldb, kc, nc, nr)
				}
				bs, bo, bks, bstep = buf, 0, nr, kc*nr
			}
			for ic := i0; ic < i1; ic += v.mc {
				mc := min(v.mc, i1-ic)
				// Row ir of the block starts at as[ao+ir*arow] with
				// element strides ars (rows) and aks (k).
				var as []float32
				var ao, arow, ars, aks int
				switch {
				case j.packA && j.transA:
					as = s.bufA(ceilDiv(mc, mr) * mr * kc)
					v.pack(as, j.a, pc*j.lda+ic, j.lda, kc, mc, mr)
					ao, arow, ars, aks = 0, kc, 1, mr // panel = mr rows × kc
				case j.packA:
					ld := packStride(kc)
					as = s.bufA(mc * ld)
					for i := range mc {
						src := j.a[(ic+i)*j.lda+pc:]
						copy(as[i*ld:i*ld+kc], src[:kc])
					}
					ao, arow, ars, aks = 0, ld, ld, 1
				case j.transA:
					as, ao, arow, ars, aks = j.a, pc*j.lda+ic, 1, 1, j.lda
				default:
					as, ao, arow, ars, aks = j.a, ic*j.lda+pc, j.lda, j.lda, 1
				}
				for jr := 0; jr < nc; jr += nr {
					tnr := min(nr, nc-jr)
					boff := bo + jr/nr*bstep
					co := ic*j.ldc + jc + jr
					for ir := 0; ir < mc; ir += mr {
						tmr := min(mr, mc-ir)
						off := ao + ir*arow
						if j.packA && j.transA {
							off = ao + ir/mr*mr*kc
						}
						v.tile(kc, as, off, ars, aks, bs, boff, bks, j.c, co+ir*j.ldc, j.ldc, tmr, tnr, j.alpha, beta, accum)
					}
				}
				if j.epi != nil && pc+kc >= k {
					// SgemmEpilogue keeps n within one column block and
					// splits along m only: these rows are final.
					j.epi.Epilogue(ic, ic+mc)
				}
			}
		}
	}
}

// packStride returns the row stride for rows of kc floats copied into a
// buffer: a whole number of cache lines, odd, so that the rows of a sliver
// fall into different L1 and L2 sets.
func packStride(kc int) int {
	lines := ceilDiv(kc, 16)
	if lines%2 == 0 {
		lines++
	}
	return lines * 16
}

// packTransposed is pack for a transposed source: the rows×cols block of
// op(X) = Xᵀ, with X stored cols×rows at src[so:] with row stride lds, goes
// into width-column panels: dst[(p*rows+l)*width+j] = src[so+(p*width+j)*lds+l].
func packTransposed(dst, src []float32, so, lds, rows, cols, width int) {
	for p := 0; p*width < cols; p++ {
		w := min(width, cols-p*width)
		d := dst[p*rows*width : (p+1)*rows*width]
		transposeBlock(d, width, src[so+p*width*lds:], lds, rows, 0, w)
		if w < width {
			for l := range rows {
				clear(d[l*width+w : (l+1)*width])
			}
		}
	}
}

// transposeBlock sets d[l*ldd+j] = s[j*lds+l] for l0 <= l < rows, j < w.
func transposeBlock(d []float32, ldd int, s []float32, lds, rows, l0, w int) {
	for j := range w {
		col := s[j*lds+l0 : j*lds+rows]
		for l, x := range col {
			d[(l0+l)*ldd+j] = x
		}
	}
}

// packGo is the portable pack (see sgemmVariant.pack).
func packGo(dst, src []float32, so, lds, rows, cols, width int) {
	for p := 0; p*width < cols; p++ {
		w := min(width, cols-p*width)
		d := dst[p*rows*width : (p+1)*rows*width]
		s := src[so+p*width:]
		for l := range rows {
			row := d[l*width : (l+1)*width]
			copy(row, s[l*lds:l*lds+w])
			clear(row[w:])
		}
	}
}

// sgemmScratch holds one worker's packing buffers. They grow to the
// largest size needed and are then reused, so steady-state calls do not
// allocate. Both are 64-byte aligned.
type sgemmScratch struct {
	a, b []float32
}

func (s *sgemmScratch) bufA(n int) []float32 { return growAligned(&s.a, n) }
func (s *sgemmScratch) bufB(n int) []float32 { return growAligned(&s.b, n) }

func growAligned(buf *[]float32, n int) []float32 {
	if cap(*buf) < n {
		raw := make([]float32, n+16)
		off := 0
		if r := uintptr(unsafe.Pointer(&raw[0])) % 64; r != 0 {
			off = int(64-r) / 4
		}
		*buf = raw[off : off+n : off+n]
	}
	return (*buf)[:n]
}

// Serial calls (nil pool, busy pool, small products, the workers of a
// sharded Predict) take one of a few fixed sets of buffers, each guarded
// by its own lock; only more concurrent serial calls than that take a set
// from a sync.Pool. The fixed sets are what keeps steady-state calls free
// of allocations (a sync.Pool may drop what it holds: at every GC, and at
// random under the race detector).
const serialScratchSets = 8

var (
	serialScratchMu [serialScratchSets]sync.Mutex
	serialScratch   [serialScratchSets]sgemmScratch
	spareScratch    = sync.Pool{New: func() any { return new(sgemmScratch) }}
)

func getSerialScratch() *sgemmScratch {
	for i := range serialScratchMu {
		if serialScratchMu[i].TryLock() {
			return &serialScratch[i]
		}
	}
	return spareScratch.Get().(*sgemmScratch)
}

func putSerialScratch(s *sgemmScratch) {
	for i := range serialScratch {
		if s == &serialScratch[i] {
			serialScratchMu[i].Unlock()
			return
		}
	}
	spareScratch.Put(s)
}

// scaleRows sets C = beta*C for the m×n matrix C with row stride ldc.
func scaleRows(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// checkSgemm validates Sgemm's arguments and returns a description of the
// first problem, or "". It returns a constant string or builds one only on
// failure, so the success path does not allocate.
func checkSgemm(transA, transB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) string {
	if m < 0 || n < 0 || k < 0 {
		return fmt.Sprintf("negative dimension m=%d n=%d k=%d", m, n, k)
	}
	// Stored shapes: A is m×k (k×m when transposed), B is k×n (n×k).
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	if msg := checkMatrix("a", ar, ac, la, lda); msg != "" {
		return msg
	}
	if msg := checkMatrix("b", br, bc, lb, ldb); msg != "" {
		return msg
	}
	return checkMatrix("c", m, n, lc, ldc)
}

// checkMatrix checks that a row-major rows×cols matrix with the given
// stride fits in a slice of length l.
func checkMatrix(name string, rows, cols, l, ld int) string {
	if ld < max(1, cols) {
		return fmt.Sprintf("ld%s=%d is less than max(1, %d), the number of columns of %s as stored", name, ld, cols, name)
	}
	if rows == 0 || cols == 0 {
		return ""
	}
	if need := (rows-1)*ld + cols; l < need {
		return fmt.Sprintf("len(%s)=%d is too short for a %dx%d matrix with stride %d (need %d)", name, l, rows, cols, ld, need)
	}
	return ""
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
