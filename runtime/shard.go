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
