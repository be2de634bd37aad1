// etcd-load drives an etcd cluster with puts or linearizable gets from many clients for a fixed time and prints
// one JSON line: operations per second, errors and latency percentiles. It is the etcd side of
// scripts/bench-vs-peers; it builds in GOPATH mode against Debian's golang-etcd-server-dev.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/clientv3"
)

func main() {
	endpoints := flag.String("endpoints", "127.0.0.1:2379", "comma-separated client URLs")
	op := flag.String("op", "put", "put or get (a linearizable Range)")
	clients := flag.Int("clients", 64, "concurrent clients")
	connections := flag.Int("connections", 8, "gRPC connections the clients share")
	keys := flag.Int("keys", 100000, "distinct keys")
	valueBytes := flag.Int("value-bytes", 256, "bytes per value")
	seconds := flag.Float64("duration", 10, "seconds to run")
	flag.Parse()

	var conns []*clientv3.Client
	for i := 0; i < *connections; i++ {
		c, err := clientv3.New(clientv3.Config{Endpoints: strings.Split(*endpoints, ","), DialTimeout: 5 * time.Second})
		if err != nil {
			fmt.Fprintln(os.Stderr, "connect:", err)
			os.Exit(1)
		}
		conns = append(conns, c)
	}
	value := strings.Repeat("v", *valueBytes)
	if *op == "get" { // something to read
		for k := 0; k < *keys && k < 1000; k++ {
			conns[0].Put(context.Background(), fmt.Sprintf("key%d", k), value)
		}
		*keys = min(*keys, 1000)
	}
	deadline := time.Now().Add(time.Duration(*seconds * float64(time.Second)))
	var mu sync.Mutex
	var latencies []time.Duration
	errors := 0
	var wg sync.WaitGroup
	started := time.Now()
	for w := 0; w < *clients; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := conns[w%len(conns)]
			var mine []time.Duration
			failed := 0
			for n := 0; time.Now().Before(deadline); n++ {
				key := fmt.Sprintf("key%d", (w*7919+n)%*keys)
				t := time.Now()
				var err error
				if *op == "put" {
					_, err = c.Put(context.Background(), key, value)
				} else {
					_, err = c.Get(context.Background(), key)
				}
				if err != nil {
					failed++
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			errors += failed
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(started).Seconds()
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	pct := func(p float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		i := int(float64(len(latencies)) * p)
		if i >= len(latencies) {
			i = len(latencies) - 1
		}
		return float64(latencies[i]) / 1e6
	}
	out, _ := json.Marshal(map[string]float64{
		"ops_per_s": float64(len(latencies)) / elapsed, "errors": float64(errors),
		"p50_ms": pct(0.5), "p99_ms": pct(0.99),
	})
	fmt.Println(string(out))
	for _, c := range conns {
		c.Close()
	}
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}
