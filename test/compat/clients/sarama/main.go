// Compat driver for sarama (Debian's 1.22), run as: sarama -version 1.1.0 <scenario> <bootstrap> [args...].
// Prints one JSON line on success.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io/ioutil"
	"log"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Shopify/sarama"
)

// security is FJORD_SECURITY: SASL (and TLS for SASL_SSL) settings for the broker's secured listeners.
type security struct {
	Protocol  string `json:"protocol"`
	Mechanism string `json:"mechanism"`
	Username  string `json:"username"`
	Password  string `json:"password"`
	CA        string `json:"ca"`
}

func applySecurity(conf *sarama.Config) {
	raw := os.Getenv("FJORD_SECURITY")
	if raw == "" {
		return
	}
	var sec security
	if err := json.Unmarshal([]byte(raw), &sec); err != nil {
		fail(err)
	}
	// Why a login failed (a closed connection in the raw-token flow) shows only in sarama's log.
	sarama.Logger = log.New(os.Stderr, "[sarama] ", log.LstdFlags)
	conf.Net.SASL.Enable = true
	conf.Net.SASL.Handshake = true
	conf.Net.SASL.User = sec.Username
	conf.Net.SASL.Password = sec.Password
	conf.Net.SASL.Mechanism = sarama.SASLMechanism(sec.Mechanism)
	if sec.Mechanism != "PLAIN" {
		hash := "sha256"
		if sec.Mechanism == "SCRAM-SHA-512" {
			hash = "sha512"
		}
		// sarama 1.22 leaves the SCRAM client to the application; scram.go is ours, from RFC 5802.
		conf.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{hash: hash} }
	}
	if sec.CA != "" {
		pem, err := ioutil.ReadFile(sec.CA)
		if err != nil {
			fail(err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		conf.Net.TLS.Enable = true
		conf.Net.TLS.Config = &tls.Config{RootCAs: pool}
	}
}

type record struct {
	P int32   `json:"p"`
	O int64   `json:"o"`
	V *string `json:"v"`
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func out(v interface{}) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

var versions = map[string]sarama.KafkaVersion{
	"0.10.0": sarama.V0_10_0_0,
	"1.1.0":  sarama.V1_1_0_0,
	"2.2.0":  sarama.V2_2_0_0,
}

var codecs = map[string]sarama.CompressionCodec{
	"none": sarama.CompressionNone, "gzip": sarama.CompressionGZIP, "snappy": sarama.CompressionSnappy,
	"lz4": sarama.CompressionLZ4, "zstd": sarama.CompressionZSTD,
}

type handler struct {
	mu      sync.Mutex
	records []record
	last    time.Time
}

func (h *handler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *handler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h *handler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for m := range c.Messages() {
		v := string(m.Value)
		h.mu.Lock()
		h.records = append(h.records, record{m.Partition, m.Offset, &v})
		h.last = time.Now()
		h.mu.Unlock()
		s.MarkMessage(m, "")
	}
	return nil
}

func main() {
	version := flag.String("version", "2.2.0", "Kafka protocol version to speak")
	flag.Parse()
	args := flag.Args()
	scenario, bootstrap := args[0], strings.Split(args[1], ",")
	conf := sarama.NewConfig()
	conf.Version = versions[*version]
	conf.ClientID = "fjord-compat-sarama"
	conf.Metadata.Retry.Backoff = 200 * time.Millisecond
	// A topic a Metadata request auto-creates is answered LEADER_NOT_AVAILABLE at once, as Kafka
	// answers it, and created in the background; on a loaded 3-broker cluster that takes seconds,
	// past sarama's default of 3 retries (0.6 s). A client producing to new topics waits longer.
	conf.Metadata.Retry.Max = 30
	applySecurity(conf)

	switch scenario {
	case "metadata":
		client, err := sarama.NewClient(bootstrap, conf)
		if err != nil {
			fail(err)
		}
		topics, err := client.Topics()
		if err != nil {
			fail(err)
		}
		out(map[string]interface{}{"brokers": len(client.Brokers()), "topics": topics})
		client.Close()
	case "produce":
		topic, n := args[2], atoi(args[3])
		conf.Producer.Return.Successes = true
		conf.Producer.RequiredAcks = sarama.WaitForAll
		conf.Producer.Compression = codecs[args[4]]
		conf.Producer.Partitioner = sarama.NewHashPartitioner
		if args[5] == "true" {
			conf.Producer.Idempotent = true
			conf.Net.MaxOpenRequests = 1
			conf.Producer.Retry.Max = 5
		}
		p, err := sarama.NewSyncProducer(bootstrap, conf)
		if err != nil {
			fail(err)
		}
		msgs := make([]*sarama.ProducerMessage, n)
		for i := range msgs {
			msgs[i] = &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(fmt.Sprintf("k%d", i)), Value: sarama.StringEncoder(fmt.Sprintf("v%d", i))}
		}
		for i := 0; i < n; i += 10 {
			end := i + 10
			if end > n {
				end = n
			}
			if err := p.SendMessages(msgs[i:end]); err != nil {
				fail(err)
			}
		}
		p.Close()
		out(map[string]int{"acked": n})
	case "consume":
		topic, group, count, idle := args[2], args[3], atoi(args[4]), time.Duration(atoi(args[5]))*time.Millisecond
		goFile := ""
		if len(args) > 6 {
			goFile = args[6]
		}
		conf.Consumer.Offsets.Initial = sarama.OffsetOldest
		conf.Consumer.Group.Session.Timeout = 10 * time.Second
		conf.Consumer.Group.Heartbeat.Interval = 500 * time.Millisecond
		conf.Consumer.Offsets.CommitInterval = 200 * time.Millisecond
		h := &handler{last: time.Now()}
		if conf.Version.IsAtLeast(sarama.V0_10_2_0) {
			cg, err := sarama.NewConsumerGroup(bootstrap, group, conf)
			if err != nil {
				fail(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				for ctx.Err() == nil {
					if err := cg.Consume(ctx, []string{topic}, h); err != nil {
						fmt.Fprintln(os.Stderr, "consume:", err)
						time.Sleep(200 * time.Millisecond)
					}
				}
			}()
			wait(h, count, idle, goFile)
			cancel()
			if err := cg.Close(); err != nil {
				fail(err)
			}
		} else {
			consumeWithOffsetManager(bootstrap, conf, topic, group, count, idle, goFile, h)
		}
		if h.records == nil {
			h.records = []record{}
		}
		out(map[string]interface{}{"records": h.records})
	case "admin":
		topic := args[2]
		a, err := sarama.NewClusterAdmin(bootstrap, conf)
		if err != nil {
			fail(err)
		}
		if err := a.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 2, ReplicationFactor: 1}, false); err != nil {
			fail(err)
		}
		if err := a.CreatePartitions(topic, 4, nil, false); err != nil {
			fail(err)
		}
		topics, err := a.ListTopics()
		if err != nil {
			fail(err)
		}
		parts := topics[topic].NumPartitions
		if err := a.DeleteTopic(topic); err != nil {
			fail(err)
		}
		topics, _ = a.ListTopics()
		_, still := topics[topic]
		out(map[string]interface{}{"created": true, "partitions": parts, "deleted": !still})
		a.Close()
	case "configs":
		topic := args[2]
		a, err := sarama.NewClusterAdmin(bootstrap, conf)
		if err != nil {
			fail(err)
		}
		get := func() string {
			entries, err := a.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: topic, ConfigNames: []string{"retention.ms"}})
			if err != nil {
				fail(err)
			}
			for _, e := range entries {
				if e.Name == "retention.ms" {
					return e.Value
				}
			}
			return ""
		}
		before := get()
		v := "12345"
		if err := a.AlterConfig(sarama.TopicResource, topic, map[string]*string{"retention.ms": &v}, false); err != nil {
			fail(err)
		}
		out(map[string]string{"before": before, "after": get()})
		a.Close()
	default:
		fail(fmt.Errorf("unknown scenario %s", scenario))
	}
}

// Kafka 0.10.0 predates sarama's consumer groups: read every partition and commit through the
// offset manager (OffsetCommit/OffsetFetch with the group coordinator, no membership).
func consumeWithOffsetManager(bootstrap []string, conf *sarama.Config, topic, group string, count int, idle time.Duration, goFile string, h *handler) {
	client, err := sarama.NewClient(bootstrap, conf)
	if err != nil {
		fail(err)
	}
	om, err := sarama.NewOffsetManagerFromClient(group, client)
	if err != nil {
		fail(err)
	}
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		fail(err)
	}
	parts, err := client.Partitions(topic)
	if err != nil {
		fail(err)
	}
	var poms []sarama.PartitionOffsetManager
	for _, p := range parts {
		pom, err := om.ManagePartition(topic, p)
		if err != nil {
			fail(err)
		}
		poms = append(poms, pom)
		next, _ := pom.NextOffset()
		pc, err := consumer.ConsumePartition(topic, p, next)
		if err != nil {
			fail(err)
		}
		go func(pc sarama.PartitionConsumer, pom sarama.PartitionOffsetManager) {
			for m := range pc.Messages() {
				v := string(m.Value)
				h.mu.Lock()
				h.records = append(h.records, record{m.Partition, m.Offset, &v})
				h.last = time.Now()
				h.mu.Unlock()
				pom.MarkOffset(m.Offset+1, "")
			}
		}(pc, pom)
	}
	wait(h, count, idle, goFile)
	consumer.Close()
	for _, pom := range poms {
		pom.Close()
	}
	om.Close()
	client.Close()
}

// wait returns once count records arrived, or (count < 0) nothing arrived for idle; with a go file,
// the idle clock starts only once the harness has created it (after producing).
func wait(h *handler, count int, idle time.Duration, goFile string) {
	start := time.Now()
	goAt := start
	waitingForGo := goFile != ""
	// A missing record ends the wait 60 s after the go file (or the start), 200 s without it.
	for (waitingForGo && time.Since(start) < 200*time.Second) || (!waitingForGo && time.Since(goAt) < 60*time.Second) {
		if waitingForGo {
			if _, err := os.Stat(goFile); err == nil {
				waitingForGo = false
				goAt = time.Now()
			}
		}
		h.mu.Lock()
		n, last := len(h.records), h.last
		h.mu.Unlock()
		if last.Before(goAt) {
			last = goAt
		}
		if count >= 0 && n >= count {
			break
		}
		if count < 0 && !waitingForGo && time.Since(last) > idle && time.Since(goAt) > idle {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // let marked offsets be committed
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		fail(err)
	}
	return n
}
