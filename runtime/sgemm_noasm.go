//go:build !amd64 || purego

package runtime

// sgemmAsmVariants: no assembly kernels on this architecture or build.
func sgemmAsmVariants() []*sgemmVariant { return nil }
