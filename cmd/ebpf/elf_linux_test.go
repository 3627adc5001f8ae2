//go:build linux

package main

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
)

// hostRun is one test run on the host kernel through cilium/ebpf.
func hostRun(coll *ebpf.Collection, prog string, pkt []byte, repeat uint32) (*runResult, error) {
	out := make([]byte, len(pkt)+4096)
	opts := &ebpf.RunOptions{Data: pkt, DataOut: out, Repeat: repeat}
	ret, err := coll.Programs[prog].Run(opts)
	if err != nil {
		return nil, err
	}
	return &runResult{Retval: ret, DataOut: opts.DataOut}, nil
}

// hostDump reads a host map's elements, sorted by key.
func hostDump(m *ebpf.Map) ([]mapEntry, error) {
	var entries []mapEntry
	var key []byte
	for {
		next := make([]byte, m.KeySize())
		var err error
		if key == nil {
			err = m.NextKey(nil, &next)
		} else {
			err = m.NextKey(key, &next)
		}
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			break
		}
		if err != nil {
			return nil, err
		}
		value := make([]byte, m.ValueSize())
		if err := m.Lookup(next, &value); err != nil {
			return nil, err
		}
		entries = append(entries, mapEntry{next, value})
		key = next
	}
	sortEntries(entries)
	return entries, nil
}

func sortEntries(e []mapEntry) {
	sort.Slice(e, func(i, j int) bool { return bytes.Compare(e[i].Key, e[j].Key) < 0 })
}

func dumpText(maps map[string][]mapEntry) string {
	var b strings.Builder
	for _, name := range sortedKeys(maps) {
		fmt.Fprintf(&b, "%s:", name)
		for _, e := range maps[name] {
			fmt.Fprintf(&b, " %s=%s", hex.EncodeToString(e.Key), hex.EncodeToString(e.Value))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func hexPacket(t *testing.T, s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestELFMatchesHost loads clang-built XDP and socket filter objects into
// hachi (through `ebpf test-run`'s loader and bpf/sys) and into the host
// kernel (through cilium/ebpf), runs the same packets through both, and
// compares return values, packets out and every map's contents after each
// run.
func TestELFMatchesHost(t *testing.T) {
	ipv4UDP := "02 11 22 33 44 55 02 00 00 00 00 01 08 00 45 00 00 28 00 00 40 00 40 11 00 00 0a 00 00 01 0a 00 00 02" +
		" 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25 26 27"
	ipv4TCP := "02 11 22 33 44 55 02 00 00 00 00 01 08 00 45 00 00 28 00 00 40 00 40 06 00 00 0a 00 00 01 0a 00 00 02" +
		strings.Repeat(" 00", 46)
	ipv6 := "33 33 00 00 00 01 02 00 00 00 00 01 86 dd 60 00 00 00 00 08 11 40" + strings.Repeat(" fe 80", 20)
	arp := "ff ff ff ff ff ff 02 00 00 00 00 01 08 06" + strings.Repeat(" 00", 28)
	cases := []struct {
		object, prog string
		packets      []string
		repeat       uint32
	}{
		{"xdp_count", "xdp_count", []string{ipv4UDP, ipv4TCP, ipv6, arp, ipv4UDP[:len(ipv4UDP)-12]}, 1},
		{"xdp_count", "xdp_count", []string{ipv4TCP, ipv6}, 5},
		{"sock_filter", "sock_filter", []string{ipv4UDP, ipv4TCP, ipv6, arp}, 1},
		{"sock_filter", "sock_filter", []string{ipv4TCP}, 3},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s repeat %d", c.object, c.repeat), func(t *testing.T) {
			obj := clangObject(t, c.object)
			spec, err := ebpf.LoadCollectionSpec(obj)
			if err != nil {
				t.Fatal(err)
			}
			coll, err := ebpf.NewCollection(spec)
			if err != nil {
				t.Skipf("the host kernel refuses the object (needs root or CAP_BPF): %v", err)
			}
			defer coll.Close()
			l := newLoader(os.Stderr)
			if err := l.load(obj); err != nil {
				t.Fatalf("hachi: %v", err)
			}
			for i, text := range c.packets {
				pkt := hexPacket(t, text)
				host, err := hostRun(coll, c.prog, pkt, c.repeat)
				if err != nil {
					t.Fatalf("packet %d: host: %v", i, err)
				}
				hachi, err := l.testRun(c.prog, pkt, nil, c.repeat)
				if err != nil {
					t.Fatalf("packet %d: hachi: %v", i, err)
				}
				if host.Retval != hachi.Retval || !bytes.Equal(host.DataOut, hachi.DataOut) {
					t.Errorf("packet %d: retval %d out %x; host %d out %x", i, hachi.Retval, hachi.DataOut, host.Retval, host.DataOut)
				}
				hostMaps, hachiMaps := map[string][]mapEntry{}, map[string][]mapEntry{}
				for name, m := range coll.Maps {
					if hostMaps[name], err = hostDump(m); err != nil {
						t.Fatalf("host map %s: %v", name, err)
					}
					if hachiMaps[name], err = l.dumpMap(name); err != nil {
						t.Fatalf("hachi map %s: %v", name, err)
					}
					sortEntries(hachiMaps[name])
				}
				if h, m := dumpText(hostMaps), dumpText(hachiMaps); h != m {
					t.Errorf("packet %d: maps differ\nhachi:\n%shost:\n%s", i, m, h)
				}
			}
			if err := l.close(); err != nil {
				t.Error(err)
			}
		})
	}
}
