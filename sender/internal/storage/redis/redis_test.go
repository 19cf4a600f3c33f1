package redis_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minipush/minipush/internal/redistest"
	"github.com/minipush/minipush/sender/internal/message"
	"github.com/minipush/minipush/sender/internal/storage"
	"github.com/minipush/minipush/sender/internal/storage/redis"
	"github.com/minipush/minipush/sender/internal/storage/storagetest"
)

var prefixes atomic.Int64

// open opens a store on srv under a prefix of its own, closed at the end.
func open(t testing.TB, srv *redistest.Server, cfg redis.Config) *redis.Store {
	t.Helper()
	cfg.URL = srv.URL()
	if cfg.Prefix == "" {
		cfg.Prefix = fmt.Sprintf("t%d", prefixes.Add(1))
	}
	s, err := redis.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// TestConformance runs the storage suite on a standalone Redis and on a
// one-node Redis Cluster: there a script or command that touches two hash
// slots fails with CROSSSLOT, so the suite also proves every multi-key
// operation stays within one app's slot.
func TestConformance(t *testing.T) {
	t.Parallel()
	for _, v := range []struct {
		name    string
		opts    []redistest.Option
		cluster bool
	}{
		{"standalone", []redistest.Option{redistest.WithAOF("everysec")}, false},
		{"cluster", []redistest.Option{redistest.WithCluster()}, true},
	} {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			srv := redistest.Start(t, v.opts...)
			storagetest.Run(t, func(t *testing.T) storage.Store {
				return open(t, srv, redis.Config{Cluster: v.cluster})
			})
		})
	}
}

// TestClusterRefusesCrossSlot keeps the cluster variant of the suite
// honest: the one-node cluster does refuse a script that reaches into
// another slot, so the suite passing there means no operation does.
func TestClusterRefusesCrossSlot(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.WithCluster())
	c := srv.Client(t)
	err := c.Eval(context.Background(), "#!lua\nredis.call('SET', KEYS[1], 1)\nreturn redis.call('SET', 'other{b}', 1)",
		[]string{"x{a}"}).Err()
	if err == nil {
		t.Fatal("a script writing two slots ran on the cluster node; the cluster variant of the suite proves nothing")
	}
	t.Logf("cross-slot script refused: %v", err)
}

// oom is the Redis backend's storagetest.Fault: maxmemory at what Redis
// already uses, under noeviction, makes it refuse writes with OOM — the
// very answer a full Redis gives.
type oom struct{ srv *redistest.Server }

func (f oom) Break(t *testing.T) {
	t.Helper()
	c := f.srv.Client(t)
	if err := c.ConfigSet(context.Background(), "maxmemory", "1").Err(); err != nil {
		t.Fatalf("CONFIG SET maxmemory: %v", err)
	}
}

func (f oom) Heal(t *testing.T) {
	t.Helper()
	c := f.srv.Client(t)
	if err := c.ConfigSet(context.Background(), "maxmemory", "0").Err(); err != nil {
		t.Fatalf("CONFIG SET maxmemory: %v", err)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	storagetest.RunFaults(t, func(t *testing.T) (storage.Store, storagetest.Fault) {
		srv := redistest.Start(t, redistest.WithConfig("maxmemory-policy", "noeviction"))
		return open(t, srv, redis.Config{}), oom{srv}
	})
}

// The durability settings, against real servers: require_aof_always
// refuses a Redis that does not fsync every write, an evicting Redis is
// refused, and wait_replicas answers a write only once a replica has it
// (503 — storage.ErrUnavailable — when none does).
func TestDurabilitySettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	everysec := redistest.Start(t, redistest.WithAOF("everysec"))
	if _, err := redis.Open(ctx, redis.Config{URL: everysec.URL(), RequireAOFAlways: true}); err == nil ||
		!strings.Contains(err.Error(), "appendfsync everysec") {
		t.Errorf("require_aof_always on an everysec Redis: err = %v, want a refusal naming appendfsync everysec", err)
	}
	open(t, redistest.Start(t, redistest.WithAOF("always")), redis.Config{RequireAOFAlways: true})
	lru := redistest.Start(t, redistest.WithConfig("maxmemory-policy", "allkeys-lru"))
	if _, err := redis.Open(ctx, redis.Config{URL: lru.URL()}); err == nil || !strings.Contains(err.Error(), "allkeys-lru") {
		t.Errorf("an evicting Redis: err = %v, want a refusal naming allkeys-lru", err)
	}

	primary := redistest.Start(t)
	replica := redistest.Start(t, redistest.WithReplicaOf(primary.Addr))
	s := open(t, primary, redis.Config{WaitReplicas: 1, WaitTimeout: 500 * time.Millisecond})
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, _, err := s.Enqueue(ctx, []message.Message{{App: "app1", To: "u1", TemplateID: "t"}})
		if err == nil {
			break
		}
		if time.Now().After(deadline) { // the replica's first sync takes a moment
			t.Fatalf("with a replica connected: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	replica.Kill()
	_, _, err := s.Enqueue(ctx, []message.Message{{App: "app1", To: "u2", TemplateID: "t"}})
	if !errors.Is(err, storage.ErrUnavailable) || !strings.Contains(err.Error(), "replicas") {
		t.Errorf("with the replica gone: err = %v, want ErrUnavailable naming the replicas", err)
	}
}

// TestCampaignAcrossInstances: two stores on one Redis under one prefix
// (two sender instances) share dedup entries and counts, and concurrent
// admissions through both accept exactly one message of a dedup key (one
// script on the app's hash slot decides each).
func TestCampaignAcrossInstances(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	prefix := fmt.Sprintf("t%d", prefixes.Add(1))
	a, b := open(t, srv, redis.Config{Prefix: prefix}), open(t, srv, redis.Config{Prefix: prefix})
	storagetest.CampaignAcrossStores(t, a, b)
	storagetest.CampaignDedupConcurrent(t, a, b)
}
