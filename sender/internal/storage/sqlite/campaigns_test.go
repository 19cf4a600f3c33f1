package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/reason"
	"github.com/minipush/minipush/sender/internal/storage/sqlite"
	"github.com/minipush/minipush/sender/internal/storage/storagetest"
)

// TestCampaignAcrossOpenings: two stores on one file (two sender
// processes) share dedup entries and counts, and concurrent admissions
// through both accept exactly one message of a dedup key.
func TestCampaignAcrossOpenings(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "minipush.db")
	a, b := openStore(t, path), openStore(t, path)
	storagetest.CampaignAcrossStores(t, a, b)
	storagetest.CampaignDedupConcurrent(t, a, b)
}

// TestCampaignAcrossRestart: a dedup entry and a count written before a
// restart hold after it.
func TestCampaignAcrossRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "minipush.db")
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	admitted := func(to string) message.Message {
		m := testMsg("app1", to)
		m.Admission = &message.Admission{At: now, DedupKey: to + "|tpl|", DedupUntil: now.Add(time.Hour),
			Slots: []message.Slot{{Due: now, Counters: []message.Counter{{Key: to + "|d", Limit: 1, Until: now.Add(time.Hour)}}}}}
		return m
	}
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	first, _, err := s.Enqueue(ctx, []message.Message{admitted("u1")})
	if err != nil || first[0].Status != message.StatusQueued {
		t.Fatalf("first: %v, %v", first, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openStore(t, path)
	out, _, err := s2.Enqueue(ctx, []message.Message{admitted("u1")})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Reason != reason.Duplicate || out[0].DuplicateOf != first[0].ID {
		t.Errorf("after restart: status %s reason %q duplicate_of %q, want a duplicate of %s", out[0].Status, out[0].Reason, out[0].DuplicateOf, first[0].ID)
	}
	capped := admitted("u1")
	capped.Admission.DedupKey = ""
	out, _, err = s2.Enqueue(ctx, []message.Message{capped})
	if err != nil || out[0].Reason != reason.FrequencyCap {
		t.Errorf("cap after restart: %v reason %q, want frequency_cap", err, out[0].Reason)
	}
}
