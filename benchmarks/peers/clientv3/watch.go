package main

import (
	"context"
	"fmt"
	"runtime"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/mvcc/mvccpb"
)

// watch follows each prefix from the revision after a read of it, prints
// ready() once every watch is created, then one line per host created or
// deleted, from the goroutine clientv3 delivers on.
func watch(endpoints, prefixes []string, ready func() string) error {
	cli, err := connect(endpoints)
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx := context.Background()
	read, err := cli.Get(ctx, "/", clientv3.WithCountOnly())
	if err != nil {
		return err
	}
	streams := make([]clientv3.WatchChan, 0, len(prefixes))
	for _, prefix := range prefixes {
		ch := cli.Watch(ctx, prefix, clientv3.WithPrefix(),
			clientv3.WithRev(read.Header.Revision+1), clientv3.WithCreatedNotify())
		if created, ok := <-ch; !ok || created.Err() != nil {
			return fmt.Errorf("watch %s was not created: %v", prefix, created.Err())
		}
		streams = append(streams, ch)
	}
	emit("%s", ready())
	done := make(chan error)
	for _, ch := range streams {
		go func(ch clientv3.WatchChan) { done <- follow(ch) }(ch)
	}
	return <-done
}

func follow(ch clientv3.WatchChan) error {
	for reply := range ch {
		if err := reply.Err(); err != nil {
			return err
		}
		t := nowNs()
		for _, e := range reply.Events {
			switch {
			case e.Type == mvccpb.DELETE:
				emit("%d D %s", t, lastPart(e.Kv.Key))
			case e.Kv.CreateRevision == e.Kv.ModRevision:
				emit("%d N %s", t, lastPart(e.Kv.Key))
			}
		}
	}
	return fmt.Errorf("a watch ended")
}

// manyWatches holds count watches in one process, as a process subscribed to
// count services would, and reports its goroutines once they are created.
func manyWatches(endpoints []string, count int) error {
	prefixes := make([]string, count)
	for i := range prefixes {
		prefixes[i] = fmt.Sprintf("/services/svc-%d/", i)
	}
	return watch(endpoints, prefixes, func() string {
		return fmt.Sprintf("READY %d", runtime.NumGoroutine())
	})
}
