package failpoint

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseTerm(t *testing.T) {
	cases := []struct {
		in   string
		want Term
		err  bool
	}{
		{in: "panic", want: Term{Kind: Panic, Percent: 100}},
		{in: "exit", want: Term{Kind: Exit, Percent: 100}},
		{in: "off", want: Term{Kind: Off, Percent: 100}},
		{in: "delay(150ms)", want: Term{Kind: Delay, Percent: 100, Delay: 150 * time.Millisecond}},
		{in: "25%panic", want: Term{Kind: Panic, Percent: 25}},
		{in: "3*exit", want: Term{Kind: Exit, Percent: 100, Count: 3}},
		{in: "50%2*delay(1s)", want: Term{Kind: Delay, Percent: 50, Count: 2, Delay: time.Second}},
		{in: "boom", err: true},
		{in: "delay", err: true},
		{in: "delay(soon)", err: true},
		{in: "panic(1)", err: true},
		{in: "120%panic", err: true},
		{in: "0*panic", err: true},
		{in: "delay(1s", err: true},
	}
	for _, tc := range cases {
		got, err := ParseTerm(tc.in)
		if tc.err {
			require.ErrorIs(t, err, ErrBadTerm, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		tc.want.raw = tc.in
		require.Equal(t, tc.want, got, tc.in)
	}
}

func TestArmListDisarmAndHandler(t *testing.T) {
	t.Cleanup(func() { Disarm("a"); Disarm("b") })
	require.NoError(t, ArmAll("a=panic; b=delay(1ms)"))
	require.Equal(t, map[string]string{"a": "panic", "b": "delay(1ms)"}, List())
	require.Error(t, ArmAll("nonsense"))

	srv := httptest.NewServer(http.StripPrefix("/debug/failpoints", Handler()))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/debug/failpoints/a", strings.NewReader("exit"))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	req, _ = http.NewRequest(http.MethodPut, srv.URL+"/debug/failpoints/a", strings.NewReader("explode"))
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	req, _ = http.NewRequest(http.MethodDelete, srv.URL+"/debug/failpoints/b", nil)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	resp, err = http.Get(srv.URL + "/debug/failpoints")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, "a=exit\n", string(body))
}

func TestEvalActions(t *testing.T) {
	t.Cleanup(func() { Disarm("p"); Disarm("d") })
	require.NoError(t, Arm("p", "1*panic"))
	require.PanicsWithValue(t, "failpoint p fired", func() { eval("p") })
	require.NotPanics(t, func() { eval("p") }, "count exhausted")
	require.NoError(t, Arm("d", "delay(20ms)"))
	start := time.Now()
	eval("d")
	require.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)
	require.NotPanics(t, func() { eval("unarmed") })
}
