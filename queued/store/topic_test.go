package store

import (
	"testing"

	"github.com/stretchr/testify/require"

	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

func TestTopicFanOut(t *testing.T) {
	ts := openTestStore(t)
	for _, q := range []string{"all", "red", "redblue"} {
		ts.ok(createQueue(q, stdAttrs()))
	}
	r := ts.ok(createTopic("t")).GetCreateTopic()
	require.True(t, r.GetCreated())
	require.False(t, ts.ok(createTopic("t")).GetCreateTopic().GetCreated())
	ts.ok(subscribeCmd("t", "red", map[string][]string{"colour": {"red"}}))
	ts.ok(subscribeCmd("t", "all", nil))
	ts.ok(subscribeCmd("t", "redblue", map[string][]string{"colour": {"red", "blue"}, "size": {"big"}}))
	ts.failsWith(reasonQueueNotFound, subscribeCmd("t", "nope", nil))
	ts.failsWith(reasonTopicNotFound, subscribeCmd("nope", "all", nil))

	p := ts.ok(publishCmd("t", "m1", "", map[string]string{"colour": "red", "size": "big"})).GetPublish()
	require.Equal(t, []string{"all", "red", "redblue"}, delivered(p))
	p = ts.ok(publishCmd("t", "m2", "", map[string]string{"colour": "red"})).GetPublish()
	require.Equal(t, []string{"all", "red"}, delivered(p))
	p = ts.ok(publishCmd("t", "m3", "", nil)).GetPublish()
	require.Equal(t, []string{"all"}, delivered(p))

	require.Equal(t, []string{"m1", "m2", "m3"}, bodies(ts.receive("all", 10, 0)))
	require.Equal(t, []string{"m1", "m2"}, bodies(ts.receive("red", 10, 0)))
	require.Equal(t, []string{"m1"}, bodies(ts.receive("redblue", 10, 0)))

	// Subscribing again replaces the filter; unsubscribing stops delivery.
	ts.ok(subscribeCmd("t", "red", map[string][]string{"colour": {"green"}}))
	ts.ok(unsubscribeCmd("t", "all"))
	top, err := ts.s.GetTopic("t")
	require.NoError(t, err)
	require.EqualValues(t, 3, top.GetPublished())
	require.Len(t, top.GetSubscriptions(), 2)
	p = ts.ok(publishCmd("t", "m4", "", map[string]string{"colour": "green"})).GetPublish()
	require.Equal(t, []string{"red"}, delivered(p))

	ts.ok(deleteTopic("t"))
	ts.failsWith(reasonTopicNotFound, publishCmd("t", "x", "", nil))
	ts.failsWith(reasonTopicNotFound, deleteTopic("t"))
	_, n, _ := ts.s.Counts()
	require.EqualValues(t, 0, n)
}

func delivered(p *queuedv1.PublishResponse) []string {
	var out []string
	for _, d := range p.GetDelivered() {
		out = append(out, d.GetQueue())
	}
	return out
}

// TestPublishAllOrNothing: a FIFO subscriber and a publish without group_id
// fail the whole publish; nothing is enqueued anywhere.
func TestPublishAllOrNothing(t *testing.T) {
	ts := openTestStore(t)
	ts.ok(createQueue("a", stdAttrs()))
	ts.ok(createQueue("f", fifoAttrs()))
	ts.ok(createTopic("t"))
	ts.ok(subscribeCmd("t", "a", nil))
	ts.ok(subscribeCmd("t", "f", nil))
	ts.failsWith(reasonQueueMismatch, publishCmd("t", "x", "", nil))
	_, _, n := ts.s.Counts()
	require.EqualValues(t, 0, n)
	top, err := ts.s.GetTopic("t")
	require.NoError(t, err)
	require.EqualValues(t, 0, top.GetPublished())

	p := ts.ok(publishCmd("t", "x", "g", nil)).GetPublish()
	require.Equal(t, []string{"a", "f"}, delivered(p))
	ms := ts.receive("a", 10, 0)
	require.Empty(t, ms[0].GetGroupId(), "a standard copy has no group")
	require.Equal(t, "g", ts.receive("f", 10, 0)[0].GetGroupId())

	// Too large for one subscriber: none gets it.
	small := stdAttrs()
	small.MaxMessageBytes = 4
	ts.ok(createQueue("small", small))
	ts.ok(subscribeCmd("t", "small", nil))
	ts.failsWith(reasonLimitExceeded, publishCmd("t", "12345", "g", nil))
	_, _, n = ts.s.Counts()
	require.EqualValues(t, 2, n)
}

func TestFilterMatches(t *testing.T) {
	fv := func(vs ...string) *queuedv1.FilterValues { return &queuedv1.FilterValues{Values: vs} }
	str := func(v string) *queuedv1.AttributeValue {
		return &queuedv1.AttributeValue{DataType: "String", StringValue: v}
	}
	for _, tc := range []struct {
		name   string
		filter map[string]*queuedv1.FilterValues
		attrs  map[string]*queuedv1.AttributeValue
		want   bool
	}{
		{"empty filter", nil, nil, true},
		{"missing key", map[string]*queuedv1.FilterValues{"k": fv("v")}, nil, false},
		{"value listed", map[string]*queuedv1.FilterValues{"k": fv("x", "v")}, map[string]*queuedv1.AttributeValue{"k": str("v")}, true},
		{"value not listed", map[string]*queuedv1.FilterValues{"k": fv("x")}, map[string]*queuedv1.AttributeValue{"k": str("v")}, false},
		{"number", map[string]*queuedv1.FilterValues{"n": fv("3")}, map[string]*queuedv1.AttributeValue{"n": {DataType: "Number", StringValue: "3"}}, true},
		{"binary never", map[string]*queuedv1.FilterValues{"b": fv("")}, map[string]*queuedv1.AttributeValue{"b": {DataType: "Binary", BinaryValue: []byte("x")}}, false},
		{"every key", map[string]*queuedv1.FilterValues{"k": fv("v"), "j": fv("w")}, map[string]*queuedv1.AttributeValue{"k": str("v")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, FilterMatches(tc.filter, tc.attrs))
		})
	}
}

func TestListTopics(t *testing.T) {
	ts := openTestStore(t)
	for _, n := range []string{"t2", "t1", "u1", "t3"} {
		ts.ok(createTopic(n))
	}
	tops, next, err := ts.s.ListTopics("t", "", 2)
	require.NoError(t, err)
	require.Len(t, tops, 2)
	require.Equal(t, "t2", next)
	tops, next, err = ts.s.ListTopics("t", next, 2)
	require.NoError(t, err)
	require.Equal(t, "t3", tops[0].GetName())
	require.Empty(t, next)
	_, err = ts.s.GetTopic("nope")
	require.ErrorIs(t, err, ErrTopicNotFound)
}
