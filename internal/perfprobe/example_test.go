package perfprobe_test

import (
	"fmt"
	"time"

	"github.com/minipush/minipush/internal/perfprobe"
)

func ExampleLatencies() {
	l := perfprobe.NewLatencies()
	for _, ms := range []int{2, 3, 3, 4, 40} {
		l.Record(time.Duration(ms) * time.Millisecond)
	}
	fmt.Printf("p50 %.0f ms, p99 %.0f ms, %d samples\n", perfprobe.MS(l.Quantile(50)), perfprobe.MS(l.Quantile(99)), l.Count())
	// Output: p50 3 ms, p99 40 ms, 5 samples
}
