package platform

import (
	"bytes"
	"testing"
	"unsafe"
)

// A body longer than the journal's limit is not kept alive by its record:
// the capture copies the first limit bytes instead of sharing the body's
// buffer (a 1 MiB body behind a 2 KiB record, 100,000 records deep, would
// hold gigabytes). A body within the limit is shared, as before.
func TestAdoptKeepsNoLongBodyAlive(t *testing.T) {
	t.Parallel()
	inside := func(s string, b []byte) bool {
		p, lo := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.SliceData(b)))
		return p >= lo && p < lo+uintptr(cap(b))
	}
	long := bytes.Repeat([]byte("a"), 1<<20)
	c := capture{limit: 2048}
	c.adopt(long)
	text, cut := c.text()
	if len(text) != 2048 || !cut || c.n != 1<<20 {
		t.Fatalf("text %d bytes, cut %v, n %d: want 2048 bytes of a 1 MiB body, cut", len(text), cut, c.n)
	}
	if inside(text, long) || cap(c.buf) > 2048 {
		t.Fatalf("the record of a 1 MiB body shares its buffer (cap %d): the journal keeps the whole body alive", cap(c.buf))
	}
	short := []byte(`{"touser":"o1"}`)
	c = capture{limit: 2048}
	c.adopt(short)
	if text, _ := c.text(); text != string(short) || !inside(text, short) {
		t.Fatalf("a body within the limit: text %q, shared %v; want it shared, not copied", text, inside(text, short))
	}
}
