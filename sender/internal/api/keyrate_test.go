package api_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/minipush/minipush/sender/internal/config"
)

// Each API key has its own bucket: a key over its rate gets 429 with
// Retry-After, another key is untouched; a key's own rate replaces the
// default; /metrics can require a key.
func TestKeyRates(t *testing.T) {
	t.Parallel()
	const slowKey = "api-test-slow-key-01"
	hs, _, _ := serverWith(t, func(c *config.Config) {
		c.APIKeys = append(c.APIKeys, config.APIKey{Name: "slow", Key: slowKey, Rate: &config.KeyRate{PerSecond: 0.1, Burst: 3}})
		c.APIRate = config.KeyRate{PerSecond: 1000, Burst: 1000}
	})
	get := func(k string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, hs.URL+"/v1/messages", nil)
		req.Header.Set("Authorization", "Bearer "+k)
		resp, err := hs.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for i := range 3 {
		if resp := get(slowKey); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d within the burst of 3: %d", i+1, resp.StatusCode)
		}
	}
	resp := get(slowKey)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("4th request at 0.1/s burst 3: %d, want 429", resp.StatusCode)
	}
	// One request per 10 s: the next is 10 s away, give or take the time
	// the first three took.
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 9 || s > 10 {
		t.Fatalf("Retry-After %q, want 9-10 seconds", resp.Header.Get("Retry-After"))
	}
	for i := range 20 {
		if resp := get(key); resp.StatusCode != http.StatusOK {
			t.Fatalf("the other key's request %d: %d", i+1, resp.StatusCode)
		}
	}
}
