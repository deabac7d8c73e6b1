package runtime

// SgemmRowTile is the number of rows of C that Sgemm's micro-kernel
// computes together (its register tile's height). How a row's dot
// products are summed depends on the height of the tile it falls in, since
// short tiles split the sum over k into several register sets to hide the
// FMA latency; tiles start at multiples of this from C's first row. So
// products of row ranges that start at multiples of it, the last one
// ending where C ends, compute exactly the bits of the whole product: the
// pool splits a GEMM that way, and generated code shards a batch that way.
func SgemmRowTile() int { return sgemmImpl.mr }

// Awake reports whether some worker of p is polling for work, so that a
// Run now would have it start a chunk at once rather than after a
// wake-up. Generated code shards Predict over the pool only then (as
// Sgemm splits a product only then): a worker that has parked, after
// idling or because the machine is busy, is woken instead (Wake), and the
// call takes the per-kernel path.
func (p *Pool) Awake() bool { return p.pollingWorkers() > 0 }

// SgemmShardAlign returns the number of samples that ranges of a batch
// split over workers start at multiples of, so that every GEMM of the
// generated code computes each element in a tile of the same shape as
// for the whole batch: a multiple of SgemmRowTile() (for products whose
// rows are samples), and for each c in cols, the columns per sample of a
// product whose columns are samples (a convolution's batched GEMM over
// n·c columns), a multiple of nr/gcd(c, nr) so that the range's columns
// start at a column tile, whose width also orders the sums of short
// tiles. Non-positive cols are ignored.
func SgemmShardAlign(cols ...int) int {
	gcd := func(a, b int) int {
		for b != 0 {
			a, b = b, a%b
		}
		return a
	}
	a := sgemmImpl.mr
	for _, c := range cols {
		if c > 0 {
			q := sgemmImpl.nr / gcd(c, sgemmImpl.nr)
			a = a / gcd(a, q) * q
		}
	}
	return a
}
