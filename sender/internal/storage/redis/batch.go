package redis

import (
	"sync"
)

// Group commit, as the SQLite backend's writer does it: concurrent
// Enqueue calls (and concurrent Record calls) are gathered while the
// previous batch is at Redis and go in one pipeline and one script per
// app, each call with its own result. At 64 concurrent callers this turns
// a round trip per call into a round trip per batch: the syscalls and the
// client's work are most of a round trip's cost (docs/redis.md#performance).
//
// Each request stays all or none on its own: the scripts check and write
// the requests of a batch one after the other, and a request refused (a
// taken id, another request's idempotency key) changes nothing and does
// not fail the others.

// committers runs the batches of one kind of job.
type committers[J any] struct {
	jobs chan J
	quit chan struct{}
	wg   sync.WaitGroup
}

// maxBatchMessages bounds a batch (and so one script's run).
const maxBatchMessages = 512

// batchLoops batches of a kind may be at Redis at once: while one waits
// for its answer, the next gathers.
const batchLoops = 4

// newCommitters starts the loops: each takes a job, gathers the others
// already waiting (up to size maxBatchMessages by weight) and runs them.
func newCommitters[J any](run func([]J), weight func(J) int) *committers[J] {
	c := &committers[J]{jobs: make(chan J), quit: make(chan struct{})}
	for range batchLoops {
		c.wg.Go(func() {
			for {
				var first J
				select {
				case first = <-c.jobs:
				case <-c.quit:
					return
				}
				batch, n := []J{first}, weight(first)
			gather:
				for n < maxBatchMessages {
					select {
					case j := <-c.jobs:
						batch, n = append(batch, j), n+weight(j)
					default:
						break gather
					}
				}
				run(batch)
			}
		})
	}
	return c
}

// submit hands j to a loop; false once the store is closed.
func (c *committers[J]) submit(j J) bool {
	select {
	case c.jobs <- j:
		return true
	case <-c.quit:
		return false
	}
}

// close stops the loops after the batches under way.
func (c *committers[J]) close() {
	close(c.quit)
	c.wg.Wait()
}
