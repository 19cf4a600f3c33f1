package platform

import (
	"net/url"
	"testing"
)

var querySeeds = []string{
	"access_token=abc", "a=1&access_token=x%2By&access_token=second", "access_token=a+b", "access%5Ftoken=enc",
	"access_token=%zz&access_token=good", "access_token;x=1&access_token=after", "access_token", "access_token=",
	"&&access_token=v&", "x=1;y=2", "%zz=1&access_token=t", "access_token=a=b", "", "=v", "access+token=s",
}

func TestQueryValueMatchesParseQuery(t *testing.T) {
	for _, raw := range querySeeds {
		for _, key := range []string{"access_token", "a", "x", "", "access token"} {
			q, _ := url.ParseQuery(raw)
			if got, want := QueryValue(raw, key), q.Get(key); got != want {
				t.Errorf("QueryValue(%q, %q) = %q, url.ParseQuery: %q", raw, key, got, want)
			}
		}
	}
}

func FuzzQueryValue(f *testing.F) {
	for _, s := range querySeeds {
		f.Add(s, "access_token")
	}
	f.Fuzz(func(t *testing.T, raw, key string) {
		q, _ := url.ParseQuery(raw)
		if got, want := QueryValue(raw, key), q.Get(key); got != want {
			t.Fatalf("QueryValue(%q, %q) = %q, url.ParseQuery: %q", raw, key, got, want)
		}
	})
}
