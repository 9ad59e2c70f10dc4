package redisdedupe_test

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/persona-connect/connect-go/internal/backendtest"
	"github.com/persona-connect/connect-go/internal/dedupetest"
	"github.com/persona-connect/connect-go/redisdedupe"
)

// startCluster starts a three-master Redis Cluster of its own on loopback (from the
// redis-server on PATH, the one that serves CONNECT_TEST_REDIS_URL here) and returns
// its addresses; the nodes are stopped and reaped when t ends.
func startCluster(t *testing.T) []string {
	t.Helper()
	redisOptions(t) // the Redis tests were asked for: skip like the others otherwise
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		backendtest.Unavailable(t, "redis-server is not on PATH", "redis-server is not on PATH: install Redis to run the cluster test")
	}
	dir := t.TempDir()
	const nodes = 3
	addrs := make([]string, nodes)
	clients := make([]*redis.Client, nodes)
	for i := range addrs {
		port := freeClusterPort(t)
		addrs[i] = "127.0.0.1:" + strconv.Itoa(port)
		cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--cluster-enabled", "yes", "--cluster-config-file", fmt.Sprintf("%s/nodes-%d.conf", dir, port),
			"--dir", dir, "--save", "", "--appendonly", "no", "--logfile", fmt.Sprintf("%s/node-%d.log", dir, port))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
		clients[i] = redis.NewClient(&redis.Options{Addr: addrs[i]})
		t.Cleanup(func() { _ = clients[i].Close() })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	until := func(what string, ok func() bool) {
		for !ok() {
			if ctx.Err() != nil {
				t.Fatalf("cluster: %s did not happen", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for _, c := range clients {
		until("a node answering", func() bool { return c.Ping(ctx).Err() == nil })
	}
	const slots = 16384
	for i, c := range clients {
		from, to := i*slots/nodes, (i+1)*slots/nodes-1
		if err := c.ClusterAddSlotsRange(ctx, from, to).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range addrs[1:] {
		host, port, _ := net.SplitHostPort(a)
		if err := clients[0].ClusterMeet(ctx, host, port).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range clients {
		until("cluster_state:ok", func() bool {
			info, err := c.ClusterInfo(ctx).Result()
			return err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_known_nodes:3")
		})
	}
	return addrs
}

// freeClusterPort finds a port free for a node and for its cluster bus (port + 10000).
func freeClusterPort(t *testing.T) int {
	t.Helper()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if port+10000 > 65535 {
			continue
		}
		if bus, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+10000)); err == nil {
			bus.Close()
			return port
		}
	}
	t.Fatal("no free port pair for a cluster node")
	return 0
}

// The contract over a real Redis Cluster through redis.UniversalClient, and the
// events really spread over its masters.
func TestCluster(t *testing.T) {
	t.Parallel()
	addrs := startCluster(t)
	open := func(t testing.TB) redis.UniversalClient {
		rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: addrs})
		if _, ok := rdb.(*redis.ClusterClient); !ok {
			t.Fatalf("NewUniversalClient with %d addresses made a %T", len(addrs), rdb)
		}
		reachable(t, rdb)
		return rdb
	}
	dedupetest.Run(t, dedupetest.Replicas(open, uniquePrefix, newDeduper))

	ctx := context.Background()
	rdb := open(t)
	prefix := uniquePrefix(t, rdb)
	d := redisdedupe.New(rdb, redisdedupe.WithPrefix(prefix))
	for i := range 60 {
		id := "evt_spread_" + strconv.Itoa(i)
		backendtest.MustComplete(t, d, id, "a")
	}
	var holding atomic.Int32 // ForEachMaster runs the function on every master at once
	cc := rdb.(*redis.ClusterClient)
	err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		keys, err := c.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			holding.Add(1)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := holding.Load(); n < 2 {
		t.Errorf("%d masters hold keys of 60 events, want them spread", n)
	}
}
