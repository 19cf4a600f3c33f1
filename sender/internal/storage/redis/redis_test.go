package redis_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/minipush/minipush/internal/redistest"
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
