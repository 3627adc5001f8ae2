// Copyright 2025 The Hachi Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

//go:build !js && !tamago && !wasip1

package runtime

// Systems with threads idle in the scheduler itself (an idle M parks);
// js, wasip1 and tamago define their own idle hook.

func beforeIdle(int64, int64) (*g, bool) {
	return nil, false
}

func checkTimeouts() {}
