//go:build !linux

package btf

import "testing"

// clangSeeds has no clang-built blobs away from a Linux host.
func clangSeeds(testing.TB) [][]byte { return nil }
