//go:build !amd64 || purego

package runtime

func maxPool2x2Fast(g *ConvGeom, vols int, x, y []float32) bool { return false }

func maxPoolGrad2x2Fast(g *ConvGeom, vols int, x, dy, dx []float32) bool { return false }
