//go:build !amd64 || purego

package runtime

func maxPool2x2Fast(g *ConvGeom, vols int, x, y []float32) bool { return false }

func maxPoolGrad2x2Fast(g *ConvGeom, vols int, x, dy, dx []float32) bool { return false }

func hasIdxTile() bool { return false }

func tileIdx(kc int, a []float32, ao, ars, aks int, b []float32, bo int, boff []int32, c []float32, co, ldc, mr, nr int) {
	panic("runtime: no indexed GEMM kernel on this platform")
}

func convRowsT(g *ConvGeom, p *padPlan, m, k int, wT, src []float32, off []int32, yT, y []float32) {
	panic("runtime: no indexed GEMM kernel on this platform")
}

func filterGradIdx(g *ConvGeom, p *padPlan, m, mp, stride int, src, dyTu []float32, aoff []int32, dwT []float32, lo, hi int, first bool) {
	panic("runtime: no indexed GEMM kernel on this platform")
}

// tileSets: the Go kernel keeps one sum per element, whatever the tile.
func tileSets(v *sgemmVariant, mr, nr int) int { return 1 }

func tileFixed(v *sgemmVariant, sets, kc int, a []float32, ao, ars, aks int, b []float32, bo, bks int, c []float32, co, ldc, mr, nr int, beta float32, accum bool) {
	v.tile(kc, a, ao, ars, aks, b, bo, bks, c, co, ldc, mr, nr, 1, beta, accum)
}
