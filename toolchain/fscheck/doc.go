// Package fscheck holds the tests of the file system that package os
// relies on, written against Linux: on the host they run on the host's file
// system, in the guest (qemu/guesttest) on the GOOS=tamago port's in-memory
// file system (toolchain/files/src/syscall/file_tamago.go), with the same
// expectations, errno values included.
package fscheck
