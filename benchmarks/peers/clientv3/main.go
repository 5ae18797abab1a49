// Command clientv3-peer plays the roles of etcdisc's end-to-end benchmark
// with etcd's own Go client (clientv3), so that every headline figure can be
// set beside the same work done by the Go client, on the same machine, in the
// same run. It prints the same lines as etcdisc's helper roles: timestamps
// are CLOCK_MONOTONIC nanoseconds, one clock for every process on the host.
//
//	clientv3-peer watch ENDPOINTS PREFIX
//	    watches PREFIX; prints "READY", then "<ns> N <uuid>" for each key
//	    created and "<ns> D <uuid>" for each key deleted.
//	clientv3-peer registrar ENDPOINTS SERVICE TTL_S [refreshes]
//	    reads commands on stdin: "register" grants a lease, puts a host
//	    record under it and keeps it alive, printing "<ns> R <uuid>" with the
//	    time before the grant; "stop UUID" revokes that lease, printing
//	    "<ns> S <uuid>" with the time before the revoke. With "refreshes",
//	    also "<ns> K <uuid>" when etcd answers a refresh of the lease.
//	clientv3-peer throughput ENDPOINTS REGISTRARS MILLIS
//	    REGISTRARS clients (one connection each) grant, put and keep alive
//	    as fast as they can for MILLIS; prints "RATE <registrations per s>",
//	    revokes every lease, then prints "DONE".
//	clientv3-peer watches ENDPOINTS COUNT
//	    holds COUNT watches (prefixes /services/svc-<i>/), each created
//	    before "READY <goroutines>" is printed; then prints events as watch.
package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/clientv3"
)

func main() {
	if len(os.Args) < 3 {
		usage()
	}
	endpoints := strings.Split(os.Args[2], ",")
	args := os.Args[3:]
	var err error
	switch {
	case os.Args[1] == "watch" && len(args) == 1:
		err = watch(endpoints, []string{args[0]}, func() string { return "READY" })
	case os.Args[1] == "registrar" && len(args) == 2:
		err = registrar(endpoints, args[0], atoi(args[1]), false)
	case os.Args[1] == "registrar" && len(args) == 3 && args[2] == "refreshes":
		err = registrar(endpoints, args[0], atoi(args[1]), true)
	case os.Args[1] == "throughput" && len(args) == 2:
		err = throughput(endpoints, atoi(args[0]), atoi(args[1]))
	case os.Args[1] == "watches" && len(args) == 1:
		err = manyWatches(endpoints, atoi(args[0]))
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "clientv3-peer:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: clientv3-peer watch|registrar|throughput|watches ENDPOINTS ...")
	os.Exit(2)
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		fmt.Fprintf(os.Stderr, "clientv3-peer: %q is not a number\n", s)
		os.Exit(2)
	}
	return n
}

func connect(endpoints []string) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second})
}

// out is stdout, flushed line by line: the measuring process reads it live.
// Goroutines share it under outMu.
var (
	outMu sync.Mutex
	out   = bufio.NewWriter(os.Stdout)
)

func emit(format string, a ...interface{}) {
	outMu.Lock()
	defer outMu.Unlock()
	fmt.Fprintf(out, format+"\n", a...)
	out.Flush()
}

func lastPart(key []byte) string {
	k := string(key)
	return k[strings.LastIndexByte(k, '/')+1:]
}

// registrar serves "register" and "stop UUID" commands read from stdin;
// with refreshes, it prints each refresh etcd answers.
func registrar(endpoints []string, service string, ttl int, refreshes bool) error {
	cli, err := connect(endpoints)
	if err != nil {
		return err
	}
	defer cli.Close()
	type held struct {
		lease clientv3.LeaseID
		stop  context.CancelFunc
	}
	leases := map[string]held{}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		fields := strings.Fields(in.Text())
		switch {
		case len(fields) == 1 && fields[0] == "register":
			uuid := newUUID()
			var refreshed func()
			if refreshes {
				refreshed = func() { emit("%d K %s", nowNs(), uuid) }
			}
			t0 := nowNs()
			lease, stop, err := register(cli, service, uuid, int64(ttl), refreshed)
			if err != nil {
				return err
			}
			leases[uuid] = held{lease, stop}
			emit("%d R %s", t0, uuid)
		case len(fields) == 2 && fields[0] == "stop":
			h, ok := leases[fields[1]]
			if !ok {
				return fmt.Errorf("stop: unknown uuid %q", fields[1])
			}
			t0 := nowNs()
			h.stop()
			if _, err := cli.Revoke(context.Background(), h.lease); err != nil {
				return err
			}
			delete(leases, fields[1])
			emit("%d S %s", t0, fields[1])
		default:
			return fmt.Errorf("unknown command %q", in.Text())
		}
	}
	return in.Err()
}

// register does what a Go service does to be found: grants a lease, puts its
// host record under it, and keeps the lease alive until stop is called,
// calling refreshed (if not nil) at each refresh etcd answers.
func register(cli *clientv3.Client, service, uuid string, ttl int64, refreshed func()) (clientv3.LeaseID, context.CancelFunc, error) {
	ctx := context.Background()
	grant, err := cli.Grant(ctx, ttl)
	if err != nil {
		return 0, nil, err
	}
	key := "/services/" + service + "/" + uuid
	if _, err := cli.Put(ctx, key, hostRecord(service, uuid), clientv3.WithLease(grant.ID)); err != nil {
		return 0, nil, err
	}
	keepCtx, stop := context.WithCancel(ctx)
	replies, err := cli.KeepAlive(keepCtx, grant.ID)
	if err != nil {
		stop()
		return 0, nil, err
	}
	go func() {
		for range replies {
			if refreshed != nil {
				refreshed()
			}
		}
	}()
	return grant.ID, stop, nil
}

// hostRecord is the Go etcd-discovery host record, the same JSON etcdisc
// writes.
func hostRecord(service, uuid string) string {
	return fmt.Sprintf(`{"name":"10.0.0.1","service_name":%q,"ports":{"http":"8080"},`+
		`"private_hostname":"10.0.0.1","uuid":%q}`, service, uuid)
}
