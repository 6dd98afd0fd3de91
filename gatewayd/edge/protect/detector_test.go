package protect

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func newDetector(t *testing.T, cfg DetectorConfig) (*AttackDetector, *fakeClock, *[]bool) {
	t.Helper()
	clk := newFakeClock()
	var changes []bool
	cfg.Now = clk.Now
	cfg.Logger = testLogger(t)
	cfg.OnChange = func(on bool) { changes = append(changes, on) }
	d, err := NewAttackDetector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d, clk, &changes
}

func TestDetectorErrorRate(t *testing.T) {
	d, clk, changes := newDetector(t, DetectorConfig{Window: 10 * time.Second, MinSamples: 10, MinOn: 5 * time.Second})
	// Failures below MinSamples do not count yet.
	for range 9 {
		d.Record(true, time.Millisecond)
	}
	if d.Overwhelmed() {
		t.Fatal("overwhelmed with 9 samples, MinSamples 10")
	}
	d.Record(true, time.Millisecond)
	if !d.Overwhelmed() {
		t.Fatal("not overwhelmed at 100% errors")
	}
	// Successes bring the rate to 10/40 = 25%: between Off (20%) and On
	// (50%): still on (hysteresis), even after MinOn.
	clk.Advance(6 * time.Second)
	for range 30 {
		d.Record(false, time.Millisecond)
	}
	if st := d.Stats(); !st.Overwhelmed || st.Samples != 40 || st.Errors != 10 {
		t.Fatalf("stats %+v, want still overwhelmed with 40 samples, 10 errors", st)
	}
	// 10/60 = 16.7% <= 20%: off.
	for range 20 {
		d.Record(false, time.Millisecond)
	}
	if d.Overwhelmed() {
		t.Fatalf("still overwhelmed at %.3f errors", d.Stats().ErrorRate)
	}
	if len(*changes) != 2 || !(*changes)[0] || (*changes)[1] {
		t.Errorf("changes %v, want [true false]", *changes)
	}
	if d.Stats().Changes != 2 {
		t.Errorf("Changes = %d", d.Stats().Changes)
	}
}

func TestDetectorMinOn(t *testing.T) {
	d, clk, _ := newDetector(t, DetectorConfig{Window: 10 * time.Second, MinSamples: 5, MinOn: 30 * time.Second})
	for range 5 {
		d.Record(true, 0)
	}
	if !d.Overwhelmed() {
		t.Fatal("not overwhelmed")
	}
	for range 100 {
		d.Record(false, 0)
	}
	if !d.Overwhelmed() {
		t.Fatal("recovered before MinOn")
	}
	clk.Advance(29 * time.Second)
	for range 100 {
		d.Record(false, 0)
	}
	if !d.Overwhelmed() {
		t.Fatal("recovered before MinOn (29s)")
	}
	clk.Advance(time.Second)
	if d.Overwhelmed() {
		t.Fatal("still on after MinOn with a healthy window")
	}
}

func TestDetectorLatency(t *testing.T) {
	d, clk, _ := newDetector(t, DetectorConfig{Window: 10 * time.Second, MinSamples: 10, LatencyOn: time.Second, LatencyOff: 200 * time.Millisecond, MinOn: time.Second})
	// 85% fast, 15% slow: p90 is slow.
	for i := range 100 {
		lat := 10 * time.Millisecond
		if i%20 < 3 {
			lat = 3 * time.Second
		}
		d.Record(false, lat)
	}
	st := d.Stats()
	if !st.Overwhelmed || st.P90 < 3*time.Second || st.P90 > time.Duration(float64(3*time.Second)*1.19) {
		t.Fatalf("stats %+v, want overwhelmed with p90 about 3s", st)
	}
	// The window slides: after it passed, only new (fast) outcomes count.
	clk.Advance(11 * time.Second)
	for range 20 {
		d.Record(false, 150*time.Millisecond)
	}
	st = d.Stats()
	if st.Overwhelmed || st.Samples != 20 || st.P90 < 150*time.Millisecond || st.P90 > 180*time.Millisecond {
		t.Fatalf("stats %+v, want recovered, 20 samples, p90 about 150ms", st)
	}
	// 95% fast is not overwhelmed: p90 is fast.
	for range 380 {
		d.Record(false, 10*time.Millisecond)
	}
	for range 20 {
		d.Record(false, 5*time.Second)
	}
	if d.Overwhelmed() {
		t.Fatalf("overwhelmed with 5%% slow: %+v", d.Stats())
	}
}

// TestDetectorNoNewsProbes checks that an overwhelmed detector whose window
// empties (the cache stopped fetching) turns off after MinOn, so the origin
// is tried again.
func TestDetectorNoNewsProbes(t *testing.T) {
	d, clk, changes := newDetector(t, DetectorConfig{Window: 10 * time.Second, MinSamples: 5, MinOn: 15 * time.Second})
	for range 5 {
		d.Record(true, 0)
	}
	clk.Advance(12 * time.Second) // window empty, MinOn not passed
	if !d.Overwhelmed() {
		t.Fatal("off before MinOn")
	}
	clk.Advance(3 * time.Second)
	if d.Overwhelmed() {
		t.Fatal("still on with an empty window after MinOn")
	}
	if len(*changes) != 2 {
		t.Errorf("changes %v", *changes)
	}
}

func TestDetectorSlidingSlots(t *testing.T) {
	d, clk, _ := newDetector(t, DetectorConfig{Window: 10 * time.Second, Slots: 10, MinSamples: 1000})
	for i := range 20 {
		d.Record(i%2 == 0, 0)
		clk.Advance(time.Second)
	}
	// Twenty seconds of one outcome a second: the window holds the last 10
	// slots (the newest, current one empty so far): 9 samples.
	if st := d.Stats(); st.Samples != 9 {
		t.Errorf("samples %d, want 9", st.Samples)
	}
	// A clock going back keeps the window.
	clk.Advance(-time.Hour)
	d.Record(false, 0)
	if st := d.Stats(); st.Samples != 10 {
		t.Errorf("samples after the clock went back %d, want 10", st.Samples)
	}
	clk.Advance(2 * time.Hour)
	if st := d.Stats(); st.Samples != 0 || st.P90 != 0 || st.ErrorRate != 0 {
		t.Errorf("after two hours: %+v", st)
	}
}

func TestDetectorWrap(t *testing.T) {
	d, clk, _ := newDetector(t, DetectorConfig{MinSamples: 1000})
	fetch := d.Wrap(func(ctx context.Context, r *http.Request) (*http.Response, error) {
		clk.Advance(100 * time.Millisecond)
		switch r.URL.Path {
		case "/err":
			return nil, errors.New("connection refused")
		case "/cancel":
			return nil, context.Canceled
		case "/ok":
			return &http.Response{StatusCode: 404}, nil
		}
		return &http.Response{StatusCode: 503}, nil
	})
	for _, p := range []string{"/err", "/cancel", "/ok", "/503"} {
		r, _ := http.NewRequest("GET", "http://origin"+p, nil)
		fetch(context.Background(), r)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, _ := http.NewRequest("GET", "http://origin/err", nil)
	fetch(ctx, r)
	st := d.Stats()
	if st.Samples != 3 || st.Errors != 2 {
		t.Errorf("stats %+v, want 3 samples (cancellations not counted), 2 errors", st)
	}
	if st.P90 < 100*time.Millisecond || st.P90 > 120*time.Millisecond {
		t.Errorf("p90 %v, want about 100ms", st.P90)
	}
}

func TestDetectorConcurrent(t *testing.T) {
	d, err := NewAttackDetector(DetectorConfig{MinSamples: 10, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				d.Record((i+g)%3 == 0, time.Duration(i)*time.Microsecond)
				d.Overwhelmed()
			}
		}()
	}
	wg.Wait()
	if st := d.Stats(); st.Samples != 8000 {
		t.Errorf("samples %d, want 8000", st.Samples)
	}
}

func TestDetectorConfigErrors(t *testing.T) {
	for _, tt := range []struct {
		cfg  DetectorConfig
		want string
	}{
		{DetectorConfig{Slots: -1}, "Slots is -1"},
		{DetectorConfig{Window: time.Millisecond, Slots: 10}, "Window is 1ms"},
		{DetectorConfig{MinSamples: -3}, "MinSamples is -3"},
		{DetectorConfig{ErrorRateOn: 1.5}, "ErrorRateOn is 1.5"},
		{DetectorConfig{ErrorRateOn: 0.3, ErrorRateOff: 0.4}, "ErrorRateOff is 0.4, it must be within [0, ErrorRateOn 0.3)"},
		{DetectorConfig{LatencyOn: -time.Second}, "LatencyOn is -1s"},
		{DetectorConfig{LatencyOn: time.Second, LatencyOff: 2 * time.Second}, "LatencyOff is 2s"},
		{DetectorConfig{MinOn: -time.Second}, "MinOn is -1s"},
	} {
		_, err := NewAttackDetector(tt.cfg)
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewAttackDetector(%+v) = %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

func TestLatencyBins(t *testing.T) {
	prev := time.Duration(0)
	for _, d := range []time.Duration{0, 500 * time.Nanosecond, time.Microsecond, 3 * time.Microsecond, time.Millisecond, 777 * time.Millisecond, time.Second, time.Minute, 24 * time.Hour} {
		b := latencyBin(d)
		up := binUpper(b)
		if b < latencyBins-1 && (up < d || float64(up) > float64(max(d, time.Microsecond))*1.19+1) {
			t.Errorf("latency %v in bin %d with upper bound %v", d, b, up)
		}
		if up < prev {
			t.Errorf("bins not monotonic at %v", d)
		}
		prev = up
	}
}

// TestDetectorOnChangeConcurrent flips the state often from several
// goroutines and checks that OnChange calls alternate, start with true, end
// with the final state, and may call the detector.
func TestDetectorOnChangeConcurrent(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	clk := newFakeClock()
	var d *AttackDetector
	var told []bool // guarded by the detector's one-at-a-time OnChange
	d, err := NewAttackDetector(DetectorConfig{
		Window: 10 * time.Second, MinSamples: 1, MinOn: time.Nanosecond, Now: clk.Now, Logger: slog.New(slog.DiscardHandler),
		OnChange: func(on bool) {
			told = append(told, on)
			d.Overwhelmed() // calling back does not deadlock
			d.Stats()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(g)))
			for i := range 3000 {
				if i%4 == 0 {
					clk.Advance(11 * time.Second)
				}
				d.Record(rng.IntN(2) == 0, 0)
			}
		}()
	}
	wg.Wait()
	final := d.Overwhelmed()
	if len(told) < 10 {
		t.Fatalf("only %d changes told", len(told))
	}
	for i, on := range told {
		if on != (i%2 == 0) {
			t.Fatalf("call %d told %v: calls do not alternate from true", i, on)
		}
	}
	if told[len(told)-1] != final {
		t.Errorf("last told %v, state %v", told[len(told)-1], final)
	}
	t.Logf("%d changes told, %d changes", len(told), d.Stats().Changes)
}
