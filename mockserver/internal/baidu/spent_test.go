package baidu

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// spentSet answers as a plain map of keys would, under any hash: the real
// one, and hashes that make most keys collide.
func TestSpentSetIsExact(t *testing.T) {
	hashes := map[string]func(subKey) uint64{
		"maphash":  hashSubKey,
		"constant": func(subKey) uint64 { return 7 },
		"few":      func(k subKey) uint64 { return uint64(len(k.subscribeID) % 3) },
	}
	for name, h := range hashes {
		s := newSpentSet()
		ref := map[subKey]struct{}{}
		rng := rand.New(rand.NewPCG(1, 2))
		for range 20000 {
			k := subKey{"app", "user" + strconv.Itoa(rng.IntN(40)), "tpl", "sub" + strconv.Itoa(rng.IntN(200))}
			_, want := ref[k]
			if got := s.has(k, h(k)); got != want {
				t.Fatalf("%s: has(%v) = %v, want %v", name, k, got, want)
			}
			switch {
			case !want && rng.IntN(2) == 0:
				s.add(k, h(k))
				ref[k] = struct{}{}
			case want && rng.IntN(3) == 0:
				s.remove(k, h(k))
				delete(ref, k)
			}
		}
		if n := len(s.byHash) + len(s.collide); n != len(ref) {
			t.Fatalf("%s: %d keys held, want %d", name, n, len(ref))
		}
	}
}
