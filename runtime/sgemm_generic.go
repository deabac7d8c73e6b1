package runtime

// sgemmGoVariant is the portable micro-kernel: plain Go, 4×4 tiles held in
// scalar variables. It runs on every architecture, under -tags purego, and
// in tests beside the assembly kernels.
var sgemmGoVariant = sgemmVariant{
	name: "go",
	mr:   4, nr: 4,
	kc: 256, mc: 128, nc: 1024,
	tile:  tileGo,
	pack:  packGo,
	packT: packTransposed,
}

// tileGo is the Go micro-kernel (see sgemmVariant.tile).
func tileGo(kc int, a []float32, ao, ars, aks int, b []float32, bo, bks int, c []float32, co, ldc, mr, nr int, alpha, beta float32, accum bool) {
	if mr == 4 && nr == 4 {
		tileGo4x4(kc, a, ao, ars, aks, b, bo, bks, c, co, ldc, alpha, beta, accum)
		return
	}
	var acc [4][4]float32
	for l := range kc {
		brow := b[bo+l*bks : bo+l*bks+nr]
		for i := range mr {
			x := a[ao+i*ars+l*aks]
			row := &acc[i]
			for j, y := range brow {
				row[j] += x * y
			}
		}
	}
	for i := range mr {
		crow := c[co+i*ldc : co+i*ldc+nr]
		for j := range crow {
			v := alpha * acc[i][j]
			if accum {
				v += beta * crow[j]
			}
			crow[j] = v
		}
	}
}

func tileGo4x4(kc int, a []float32, ao, ars, aks int, b []float32, bo, bks int, c []float32, co, ldc int, alpha, beta float32, accum bool) {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	p0, p1, p2, p3 := ao, ao+ars, ao+2*ars, ao+3*ars
	for range kc {
		bb := b[bo : bo+4 : bo+4]
		b0, b1, b2, b3 := bb[0], bb[1], bb[2], bb[3]
		x := a[p0]
		c00 += x * b0
		c01 += x * b1
		c02 += x * b2
		c03 += x * b3
		x = a[p1]
		c10 += x * b0
		c11 += x * b1
		c12 += x * b2
		c13 += x * b3
		x = a[p2]
		c20 += x * b0
		c21 += x * b1
		c22 += x * b2
		c23 += x * b3
		x = a[p3]
		c30 += x * b0
		c31 += x * b1
		c32 += x * b2
		c33 += x * b3
		p0 += aks
		p1 += aks
		p2 += aks
		p3 += aks
		bo += bks
	}
	acc := [4][4]float32{
		{c00, c01, c02, c03},
		{c10, c11, c12, c13},
		{c20, c21, c22, c23},
		{c30, c31, c32, c33},
	}
	for i := range 4 {
		crow := c[co+i*ldc : co+i*ldc+4 : co+i*ldc+4]
		for j := range 4 {
			v := alpha * acc[i][j]
			if accum {
				v += beta * crow[j]
			}
			crow[j] = v
		}
	}
}
