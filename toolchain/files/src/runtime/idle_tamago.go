// Copyright 2025 The Hachi Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build tamago

package runtime

import "runtime/goos"

// beforeIdle is called by the scheduler when this M found nothing to run.
// There is no thread to hand the CPU to: the M keeps its P and waits in the
// board's idle hook until the next timer (until is the nanotime of the
// earliest timer, or maxInt64 when there is none), then looks for work again.
// Another CPU that makes work runnable does not wake this one; the board's
// idle hook decides how long to halt.
//
//go:yeswritebarrierrec
func beforeIdle(now, pollUntil int64) (gp *g, otherReady bool) {
	checkTimeouts()
	if goos.Idle != nil {
		until := pollUntil
		if until == 0 {
			until = 1<<63 - 1
		}
		start := nanotime()
		goos.Idle(until)
		sched.idleTime.Add(nanotime() - start)
	}
	return nil, true
}
