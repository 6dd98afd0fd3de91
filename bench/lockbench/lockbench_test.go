package lockbench

import (
	"bufio"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"cairn.dev/cairn/lockd/lockdtest"
)

func TestReadRESP(t *testing.T) {
	in := "+OK\r\n$-1\r\n:1\r\n$3\r\nabc\r\n*2\r\n:0\r\n$0\r\n\r\n-ERR no\r\n"
	r := bufio.NewReader(strings.NewReader(in))
	want := []any{"OK", nil, int64(1), "abc", []any{int64(0), ""}}
	for i, w := range want {
		got, err := readRESP(r)
		if err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		if fmtAny(got) != fmtAny(w) {
			t.Fatalf("reply %d: got %v, want %v", i, got, w)
		}
	}
	if _, err := readRESP(r); err == nil || !strings.Contains(err.Error(), "ERR no") {
		t.Fatalf("error reply: %v", err)
	}
}

func fmtAny(v any) string {
	switch v := v.(type) {
	case nil:
		return "<nil>"
	case []any:
		var parts []string
		for _, x := range v {
			parts = append(parts, fmtAny(x))
		}
		return "[" + strings.Join(parts, ",") + "]"
	case string:
		return "s:" + v
	case int64:
		return "i:" + strconv.FormatInt(v, 10)
	}
	return "?"
}

// The etcd encoders produce what the decoder reads back, field by field.
func TestEtcdEncoding(t *testing.T) {
	f, err := fields(appendRange(nil, "lk/", prefixEnd("lk/"), etcdSortDescend, 41))
	if err != nil {
		t.Fatal(err)
	}
	if string(f.bytes(1)) != "lk/" || string(f.bytes(2)) != "lk0" || f.varint(3) != 1 || f.varint(5) != etcdSortDescend ||
		f.varint(6) != etcdSortByCreate || f.varint(13) != 41 {
		t.Fatalf("range request: %v", f)
	}
	c, err := fields(appendCompareCreateZero(nil, "lk/a"))
	if err != nil {
		t.Fatal(err)
	}
	if c.varint(2) != etcdTargetCreate || string(c.bytes(3)) != "lk/a" || c.bytes(5) == nil {
		t.Fatalf("compare: %v", c)
	}
	// A RangeResponse with a header and one kv.
	var kv, hdr, resp []byte
	kv = protowire.AppendTag(kv, 1, protowire.BytesType)
	kv = protowire.AppendString(kv, "lk/a")
	kv = protowire.AppendTag(kv, 2, protowire.VarintType)
	kv = protowire.AppendVarint(kv, 7)
	hdr = protowire.AppendTag(hdr, 3, protowire.VarintType)
	hdr = protowire.AppendVarint(hdr, 9)
	resp = protowire.AppendTag(resp, 1, protowire.BytesType)
	resp = protowire.AppendBytes(resp, hdr)
	resp = protowire.AppendTag(resp, 2, protowire.BytesType)
	resp = protowire.AppendBytes(resp, kv)
	kvs, err := rangeKVs(resp)
	if err != nil || len(kvs) != 1 || string(kvs[0].key) != "lk/a" || kvs[0].createRev != 7 {
		t.Fatalf("range response: %v %v", kvs, err)
	}
	rf, _ := fields(resp)
	if headerRevision(rf.bytes(1)) != 9 {
		t.Fatal("header revision")
	}
}

// Every scenario runs against an in-process lockd cluster without errors.
func TestRunLockd(t *testing.T) {
	c := lockdtest.New(t, 3, nil)
	for _, sc := range []Scenario{ScenarioUncontended, ScenarioContended, ScenarioMany} {
		cfg := DefaultConfig()
		cfg.Scenario, cfg.Endpoints, cfg.Clients, cfg.Total, cfg.Locks = sc, c.Endpoints(), 8, 200, 50
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		res, err := Run(ctx, cfg)
		cancel()
		if err != nil || res.Errors > 0 || res.Cycles != 200 {
			t.Fatalf("%s: %+v, %v", sc, res, err)
		}
		if sc == ScenarioContended && res.Handoff.N == 0 {
			t.Fatalf("contended: no hand-off measured")
		}
	}
}
