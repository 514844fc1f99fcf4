// A Kafka-protocol broker for the Pipeline source tests and `layer dev provision --sources`:
// franz-go's in-memory kfake cluster behind a tiny main (docs/adr/0122). It speaks the real
// wire protocol (produce, fetch, consumer groups, offset commits) without a JVM.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	port := flag.Int("port", 9092, "port to listen on (127.0.0.1)")
	partitions := flag.Int("partitions", 3, "partitions of auto-created topics")
	flag.Parse()
	c, err := kfake.NewCluster(
		kfake.Ports(*port), // kfake listens on 127.0.0.1
		// Short sessions let a test see a killed member's partitions move within seconds.
		kfake.GroupMinSessionTimeout(time.Second),
		kfake.DefaultNumPartitions(*partitions),
		kfake.AllowAutoTopicCreation(),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kfake:", err)
		os.Exit(1)
	}
	fmt.Println("kafka broker listening on", c.ListenAddrs()[0])
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	c.Close()
}
