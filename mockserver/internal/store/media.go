package store

import (
	"sync"
	"time"
)

// Temporary media: files an app uploads and then refers to by id (WeChat's
// media_id in customer-service image messages). They live until Expires
// on the mock clock. The mock holds at most MaxMediaBytes of them; past
// that the oldest are forgotten first (and answer as unknown), so a long
// run cannot grow without bound.

// MaxMediaBytes bounds the bytes of media held by one mock.
const MaxMediaBytes = 64 << 20

// Media is one uploaded file. It is never changed once stored.
type Media struct {
	Platform, AppID string
	ID              string
	Type            string // the platform's media type ("image")
	ContentType     string // what the bytes are ("image/png")
	FileName        string
	Data            []byte
	Created         time.Time
	Expires         time.Time
}

type mediaKey struct{ platform, appID, id string }

type mediaState struct {
	mu    sync.Mutex
	items map[mediaKey]*Media
	order []mediaKey // upload order, oldest first
	bytes int
}

func (m *mediaState) clear() {
	m.mu.Lock()
	m.items, m.order, m.bytes = nil, nil, 0
	m.mu.Unlock()
}

// PutMedia stores an uploaded file, first forgetting expired files (as of
// now) and then, while over MaxMediaBytes, the oldest ones.
func (s *Store) PutMedia(m *Media, now time.Time) {
	st := &s.media
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.items == nil {
		st.items = map[mediaKey]*Media{}
	}
	k := mediaKey{m.Platform, m.AppID, m.ID}
	if old, ok := st.items[k]; ok { // ids are random; a repeat replaces
		st.bytes -= len(old.Data)
	} else {
		st.order = append(st.order, k)
	}
	st.items[k] = m
	st.bytes += len(m.Data)
	kept := st.order[:0]
	for _, ik := range st.order {
		it := st.items[ik]
		if it == nil {
			continue
		}
		if !now.Before(it.Expires) && it != m {
			st.bytes -= len(it.Data)
			delete(st.items, ik)
			continue
		}
		kept = append(kept, ik)
	}
	st.order = kept
	for st.bytes > MaxMediaBytes && len(st.order) > 1 {
		oldest := st.order[0]
		st.bytes -= len(st.items[oldest].Data)
		delete(st.items, oldest)
		st.order = st.order[1:]
	}
}

// MediaByID returns an app's file (expired ones too, until they are
// forgotten: the caller judges expiry on its clock).
func (s *Store) MediaByID(platform, appID, id string) (*Media, bool) {
	s.media.mu.Lock()
	defer s.media.mu.Unlock()
	m, ok := s.media.items[mediaKey{platform, appID, id}]
	return m, ok
}

// MediaOf lists an app's files, oldest first.
func (s *Store) MediaOf(platform, appID string) []*Media {
	s.media.mu.Lock()
	defer s.media.mu.Unlock()
	var out []*Media
	for _, k := range s.media.order {
		if k.platform == platform && k.appID == appID {
			out = append(out, s.media.items[k])
		}
	}
	return out
}
