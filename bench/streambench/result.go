package streambench

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// Latency summarizes durations; percentiles are exact (nearest rank).
type Latency struct {
	N                   int
	Mean, P50, P99, Max time.Duration
}

// Sample is the growth scenario's throughput over one Interval.
type Sample struct {
	// StoredBytes is the volume of values acknowledged when the sample was
	// taken (each stored Replication times); Elapsed the time since the
	// start.
	StoredBytes int64
	Elapsed     time.Duration
	// Rate and MiBps are records and MiB of values per second since the
	// previous sample; ProduceLatency is of the batches acknowledged then.
	Rate, MiBps    float64
	ProduceLatency Latency
}

// Result is the outcome of a run. MiB are 2^20 bytes of record values, the
// unit of Kreps's "78.3 MB/sec" for 821,557 100-byte records per second.
type Result struct {
	Scenario                Scenario
	Target                  Target
	Acks                    Acks
	Partitions, Replication int
	Producers, Consumers    int
	RecordBytes             int
	BatchRecords            int
	// Group: the consumers were members of a consumer group (streamd).
	Group bool
	// Produced counts acknowledged records of the measured phase; Errors
	// the records of failed produces. Consumed counts distinct records
	// received (consume, e2e).
	Produced, Consumed, Errors int64
	// ProduceDuration and ConsumeDuration are the measured phases' lengths.
	ProduceDuration, ConsumeDuration time.Duration
	ProduceRate, ProduceMiBps        float64
	ConsumeRate, ConsumeMiBps        float64
	// ProduceLatency is from a batch's send to its acknowledgement;
	// E2ELatency (e2e only) from a record's creation (its arrival in the
	// producer's accumulator) to its receipt by a consumer.
	ProduceLatency, E2ELatency Latency
	// Samples is the growth scenario's throughput per Interval.
	Samples    []Sample
	FirstError string
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

type jsonSample struct {
	StoredMiB float64 `json:"stored_mib"`
	ElapsedS  float64 `json:"elapsed_s"`
	Rate      float64 `json:"rate"`
	MiBps     float64 `json:"mib_s"`
	P50       float64 `json:"produce_p50_ms"`
	P99       float64 `json:"produce_p99_ms"`
}

// MarshalJSON encodes r with latencies in milliseconds, as `cairn bench
// stream --output json` prints it.
func (r Result) MarshalJSON() ([]byte, error) {
	samples := make([]jsonSample, len(r.Samples))
	for i, s := range r.Samples {
		samples[i] = jsonSample{float64(s.StoredBytes) / (1 << 20), s.Elapsed.Seconds(), s.Rate, s.MiBps, ms(s.ProduceLatency.P50), ms(s.ProduceLatency.P99)}
	}
	return json.Marshal(struct {
		Scenario     Scenario     `json:"scenario"`
		Target       Target       `json:"target"`
		Acks         Acks         `json:"acks"`
		Partitions   int          `json:"partitions"`
		Replication  int          `json:"replication"`
		Producers    int          `json:"producers"`
		Consumers    int          `json:"consumers"`
		Group        bool         `json:"group"`
		RecordBytes  int          `json:"record_bytes"`
		BatchRecords int          `json:"batch_records"`
		Produced     int64        `json:"produced"`
		Consumed     int64        `json:"consumed"`
		Errors       int64        `json:"errors"`
		ProduceRate  float64      `json:"produce_rate"`
		ProduceMiBps float64      `json:"produce_mib_s"`
		ConsumeRate  float64      `json:"consume_rate"`
		ConsumeMiBps float64      `json:"consume_mib_s"`
		ProduceP50   float64      `json:"produce_p50_ms"`
		ProduceP99   float64      `json:"produce_p99_ms"`
		E2EP50       float64      `json:"e2e_p50_ms"`
		E2EP99       float64      `json:"e2e_p99_ms"`
		Samples      []jsonSample `json:"samples,omitempty"`
		FirstError   string       `json:"first_error,omitempty"`
	}{
		r.Scenario, r.Target, r.Acks, r.Partitions, r.Replication, r.Producers, r.Consumers, r.Group,
		r.RecordBytes, r.BatchRecords, r.Produced, r.Consumed, r.Errors,
		r.ProduceRate, r.ProduceMiBps, r.ConsumeRate, r.ConsumeMiBps,
		ms(r.ProduceLatency.P50), ms(r.ProduceLatency.P99), ms(r.E2ELatency.P50), ms(r.E2ELatency.P99),
		samples, r.FirstError,
	})
}

func latCells(l Latency) (string, string) {
	if l.N == 0 {
		return "-", "-"
	}
	return fmt.Sprintf("%.2fms", ms(l.P50)), fmt.Sprintf("%.2fms", ms(l.P99))
}

// WriteTable writes results as an aligned table, the growth samples of
// each result that has them, then the first error of each result that had
// errors.
func WriteTable(w io.Writer, results ...Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\ttarget\tacks\tprod\tcons\tproduced\trecords/s\tMiB/s\tbatch p50\tbatch p99\tconsumed\trecords/s\tMiB/s\te2e p50\te2e p99\terrors\t")
	for _, r := range results {
		b50, b99 := latCells(r.ProduceLatency)
		e50, e99 := latCells(r.E2ELatency)
		acks := string(r.Acks)
		if r.Target != TargetStreamd {
			acks = "quorum"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%.0f\t%.1f\t%s\t%s\t%d\t%.0f\t%.1f\t%s\t%s\t%d\t\n",
			r.Scenario, r.Target, acks, r.Producers, r.Consumers, r.Produced, r.ProduceRate, r.ProduceMiBps, b50, b99,
			r.Consumed, r.ConsumeRate, r.ConsumeMiBps, e50, e99, r.Errors)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range results {
		if len(r.Samples) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s/%s growth, per interval:\n", r.Scenario, r.Target)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "stored MiB\telapsed\trecords/s\tMiB/s\tbatch p50\tbatch p99\t")
		for _, s := range r.Samples {
			b50, b99 := latCells(s.ProduceLatency)
			fmt.Fprintf(tw, "%.0f\t%.1fs\t%.0f\t%.1f\t%s\t%s\t\n", float64(s.StoredBytes)/(1<<20), s.Elapsed.Seconds(), s.Rate, s.MiBps, b50, b99)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, r := range results {
		if r.FirstError != "" {
			if _, err := fmt.Fprintf(w, "%s/%s: %d errors, e.g.: %s\n", r.Scenario, r.Target, r.Errors, r.FirstError); err != nil {
				return err
			}
		}
	}
	return nil
}
