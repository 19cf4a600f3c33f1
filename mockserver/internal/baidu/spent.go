package baidu

import "hash/maphash"

// spentSet is the set of spent subscribe ids. A map keyed by the whole
// subKey hashes its four strings on every lookup and insert and again for
// every key each time the map grows (10 % of a send's handler in the
// profile); this one hashes a key once per call and keys its map by the
// 64-bit hash, keeping the key beside it to tell a collision, which goes to
// a small map of whole keys. Membership is exact.
// Each method takes the key's hash, hashSubKey's in the mock.
type spentSet struct {
	byHash  map[uint64]subKey
	collide map[subKey]struct{} // keys whose hash another key holds in byHash
}

var spentSeed = maphash.MakeSeed()

// hashSubKey is the hash spentSet keys k by.
func hashSubKey(k subKey) uint64 { return maphash.Comparable(spentSeed, k) }

func newSpentSet() spentSet {
	return spentSet{byHash: map[uint64]subKey{}, collide: map[subKey]struct{}{}}
}

// has reports whether k is in the set; h is its hash.
func (s *spentSet) has(k subKey, h uint64) bool {
	if v, ok := s.byHash[h]; ok && v == k {
		return true
	}
	if len(s.collide) > 0 {
		_, ok := s.collide[k]
		return ok
	}
	return false
}

// add puts k (hash h), which is not in the set, in it.
func (s *spentSet) add(k subKey, h uint64) {
	if _, taken := s.byHash[h]; taken {
		s.collide[k] = struct{}{}
		return
	}
	s.byHash[h] = k
}

// remove takes k (hash h) out of the set.
func (s *spentSet) remove(k subKey, h uint64) {
	if v, ok := s.byHash[h]; ok && v == k {
		delete(s.byHash, h)
		return
	}
	delete(s.collide, k)
}
