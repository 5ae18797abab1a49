package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/clientv3"
)

// throughput runs n registrars, each on its own connection, registering as
// fast as it can for millis, and prints the registrations completed per
// second; then it revokes every lease it granted.
func throughput(endpoints []string, n, millis int) error {
	clients := make([]*clientv3.Client, n)
	for i := range clients {
		cli, err := connect(endpoints)
		if err != nil {
			return err
		}
		defer cli.Close()
		clients[i] = cli
	}
	var done int64
	var stopped int32
	held := make([][]clientv3.LeaseID, n)
	var wg sync.WaitGroup
	for i, cli := range clients {
		wg.Add(1)
		go func(i int, cli *clientv3.Client) {
			defer wg.Done()
			for atomic.LoadInt32(&stopped) == 0 {
				lease, stop, err := register(cli, "throughput-go", newUUID(), 30, nil)
				if err != nil {
					continue
				}
				defer stop()
				atomic.AddInt64(&done, 1)
				held[i] = append(held[i], lease)
			}
		}(i, cli)
	}
	time.Sleep(time.Duration(millis) * time.Millisecond)
	atomic.StoreInt32(&stopped, 1)
	rate := float64(atomic.LoadInt64(&done)) * 1000 / float64(millis)
	wg.Wait()
	emit("RATE %.1f", rate)
	revokeAll(clients, held)
	emit("DONE")
	return nil
}

func revokeAll(clients []*clientv3.Client, held [][]clientv3.LeaseID) {
	var wg sync.WaitGroup
	for i, cli := range clients {
		wg.Add(1)
		go func(cli *clientv3.Client, leases []clientv3.LeaseID) {
			defer wg.Done()
			for _, id := range leases {
				cli.Revoke(context.Background(), id)
			}
		}(cli, held[i])
	}
	wg.Wait()
}
