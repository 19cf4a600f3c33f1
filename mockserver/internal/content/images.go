package content

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
)

// Images are judged by identity, not by looking at them: a rule names an
// image by the SHA-256 of its bytes (for APIs that receive the image) or by
// its URL (for APIs that take a link: the mock never downloads anything).

// NormalizeImage checks one risky_images entry and returns it in the form
// the rules match: a SHA-256 digest as 64 lower-case hex digits, or an
// absolute http(s) URL as given.
func NormalizeImage(entry string) (string, error) {
	e := strings.TrimSpace(entry)
	if len(e) == sha256.Size*2 {
		if _, err := hex.DecodeString(e); err == nil {
			return strings.ToLower(e), nil
		}
	}
	u, err := url.Parse(e)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("a risky image is the hex SHA-256 of its bytes (64 hex digits) or an http(s) URL")
	}
	return e, nil
}

// imageSets are the lookup sets of risky images.
type imageSets struct {
	digests map[string]bool
	urls    map[string]bool
}

// newImageSets sorts valid entries into digests and URLs; invalid ones are
// ignored (the control API and the seed loader refuse them first).
func newImageSets(entries []string) imageSets {
	s := imageSets{digests: map[string]bool{}, urls: map[string]bool{}}
	for _, e := range entries {
		n, err := NormalizeImage(e)
		switch {
		case err != nil:
		case strings.Contains(n, "://"):
			s.urls[n] = true
		default:
			s.digests[n] = true
		}
	}
	return s
}

// ImageDigest is the rules' name of an image's bytes: its hex SHA-256.
func ImageDigest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// RiskyImage reports whether the image with these bytes is risky.
func (r *Rules) RiskyImage(data []byte) bool {
	d := ImageDigest(data)
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.images.digests[d]
}

// RiskyImageURL reports whether the image at this link is risky: only a
// listed URL is, matched exactly (the mock never fetches the link).
func (r *Rules) RiskyImageURL(link string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.images.urls[strings.TrimSpace(link)]
}
