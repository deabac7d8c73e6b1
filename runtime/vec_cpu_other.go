//go:build !amd64 || purego

package runtime

// vecAVX512: no assembly vector loops in this build.
const vecAVX512 = false
