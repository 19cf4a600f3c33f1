package platform

import (
	"mime"
	"sync"
	"sync/atomic"
)

// MediaType is the media type of a Content-Type header as
// mime.ParseMediaType reads it (lower case, "" when the header does not
// parse; a type with bad parameters still counts). Senders use a handful
// of headers, so the answers are remembered — parsing allocates a map and
// the lower-cased copies on every call — up to mediaTypesKept distinct
// headers; beyond that (a client sending ever new ones) each is parsed.
func MediaType(header string) string {
	mt, _ := mediaType(header)
	return mt
}

// mediaType is MediaType and whether mime.ParseMediaType read the header
// without an error (net/http's form parsing keeps that error).
func mediaType(header string) (string, bool) {
	if v, ok := mediaTypes.Load(header); ok {
		p := v.(parsedMediaType)
		return p.mt, p.ok
	}
	mt, _, err := mime.ParseMediaType(header)
	if mediaTypesN.Load() < mediaTypesKept && len(header) <= 256 {
		if _, loaded := mediaTypes.LoadOrStore(header, parsedMediaType{mt, err == nil}); !loaded {
			mediaTypesN.Add(1)
		}
	}
	return mt, err == nil
}

type parsedMediaType struct {
	mt string
	ok bool
}

const mediaTypesKept = 256

var (
	mediaTypes  sync.Map // header → media type
	mediaTypesN atomic.Int32
)
