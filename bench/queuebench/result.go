package queuebench

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

// Result is the outcome of a run.
type Result struct {
	Scenario             Scenario
	Target               Target
	Producers, Consumers int
	MessageBytes         int
	// Sent counts confirmed sends of the measured phase; Errors the failed
	// ones. Received counts deliveries (consume, e2e).
	Sent, Received, Errors int
	// SendDuration and ReceiveDuration are the measured phases' lengths.
	SendDuration, ReceiveDuration time.Duration
	// SendRate is confirmed sends per second; ReceiveRate deliveries (each
	// acked) per second.
	SendRate, ReceiveRate float64
	// SendLatency is from a send to its confirmation; E2ELatency (e2e only)
	// from a send to the delivery.
	SendLatency, E2ELatency Latency
	FirstError              string
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// MarshalJSON encodes r with latencies in milliseconds, as `cairn bench queue
// --output json` prints it.
func (r Result) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Scenario     Scenario `json:"scenario"`
		Target       Target   `json:"target"`
		Producers    int      `json:"producers"`
		Consumers    int      `json:"consumers"`
		MessageBytes int      `json:"message_bytes"`
		Sent         int      `json:"sent"`
		Received     int      `json:"received"`
		Errors       int      `json:"errors"`
		SendRate     float64  `json:"send_rate"`
		ReceiveRate  float64  `json:"receive_rate"`
		SendP50      float64  `json:"send_p50_ms"`
		SendP99      float64  `json:"send_p99_ms"`
		E2EP50       float64  `json:"e2e_p50_ms"`
		E2EP99       float64  `json:"e2e_p99_ms"`
		FirstError   string   `json:"first_error,omitempty"`
	}{
		r.Scenario, r.Target, r.Producers, r.Consumers, r.MessageBytes, r.Sent, r.Received, r.Errors,
		r.SendRate, r.ReceiveRate, ms(r.SendLatency.P50), ms(r.SendLatency.P99),
		ms(r.E2ELatency.P50), ms(r.E2ELatency.P99), r.FirstError,
	})
}

// WriteTable writes results as an aligned table, then the first error of each
// result that had errors.
func WriteTable(w io.Writer, results ...Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\ttarget\tproducers\tconsumers\tsent\tsent/s\tsend p50\tsend p99\treceived\treceived/s\te2e p50\te2e p99\terrors\t")
	for _, r := range results {
		e50, e99 := "-", "-"
		if r.E2ELatency.N > 0 {
			e50, e99 = fmt.Sprintf("%.2fms", ms(r.E2ELatency.P50)), fmt.Sprintf("%.2fms", ms(r.E2ELatency.P99))
		}
		s50, s99 := "-", "-"
		if r.SendLatency.N > 0 {
			s50, s99 = fmt.Sprintf("%.2fms", ms(r.SendLatency.P50)), fmt.Sprintf("%.2fms", ms(r.SendLatency.P99))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%.0f\t%s\t%s\t%d\t%.0f\t%s\t%s\t%d\t\n",
			r.Scenario, r.Target, r.Producers, r.Consumers, r.Sent, r.SendRate, s50, s99,
			r.Received, r.ReceiveRate, e50, e99, r.Errors)
	}
	if err := tw.Flush(); err != nil {
		return err
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
