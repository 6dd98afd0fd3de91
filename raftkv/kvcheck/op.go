package kvcheck

import "fmt"

// Kind is the kind of an operation.
type Kind uint8

// The operation kinds.
const (
	// KindGet reads one key.
	KindGet Kind = iota + 1
	// KindPut writes one key unconditionally.
	KindPut
	// KindCAS writes one key if its current value equals Input.Expect.
	KindCAS
)

func (k Kind) String() string {
	switch k {
	case KindGet:
		return "get"
	case KindPut:
		return "put"
	case KindCAS:
		return "cas"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Value is the content of a key: a string, or absent. The zero Value is absent.
// Values are comparable with ==.
type Value struct {
	Data    string
	Present bool
}

// Absent is the value of a key that does not exist.
func Absent() Value { return Value{} }

// Present is the value of a key holding s.
func Present(s string) Value { return Value{Data: s, Present: true} }

func (v Value) String() string {
	if !v.Present {
		return "<absent>"
	}
	return fmt.Sprintf("%q", v.Data)
}

// Input is what a client asked for.
type Input struct {
	Kind Kind
	Key  string
	// Value is the value written by a put, or by a cas that succeeds.
	Value string
	// Expect is the value a cas requires the key to hold (Absent to require that
	// the key does not exist).
	Expect Value
}

// Get returns the input of a read of key.
func Get(key string) Input { return Input{Kind: KindGet, Key: key} }

// Put returns the input of a write of value to key.
func Put(key, value string) Input { return Input{Kind: KindPut, Key: key, Value: value} }

// CAS returns the input of a compare-and-swap: set key to value if it holds expect.
func CAS(key string, expect Value, value string) Input {
	return Input{Kind: KindCAS, Key: key, Value: value, Expect: expect}
}

func (in Input) String() string {
	switch in.Kind {
	case KindGet:
		return fmt.Sprintf("get(%q)", in.Key)
	case KindPut:
		return fmt.Sprintf("put(%q, %q)", in.Key, in.Value)
	case KindCAS:
		return fmt.Sprintf("cas(%q, %v -> %q)", in.Key, in.Expect, in.Value)
	}
	return fmt.Sprintf("%v(%q)", in.Kind, in.Key)
}

// Outcome says whether an operation took effect.
type Outcome uint8

// The outcomes.
const (
	// OutcomeOK means the server answered and Output holds its answer.
	OutcomeOK Outcome = iota + 1
	// OutcomeFail means the operation definitely did not take effect.
	OutcomeFail
	// OutcomeUnknown means the operation may or may not have taken effect.
	OutcomeUnknown
)

func (o Outcome) String() string {
	switch o {
	case OutcomeOK:
		return "ok"
	case OutcomeFail:
		return "fail"
	case OutcomeUnknown:
		return "unknown"
	}
	return fmt.Sprintf("outcome(%d)", uint8(o))
}

// Output is what the server answered. Only the field of the operation's kind is
// meaningful, and only when Outcome is OutcomeOK.
type Output struct {
	Outcome Outcome
	// Value is what a get read.
	Value Value
	// Succeeded is whether a cas found the expected value and wrote.
	Succeeded bool
}

func (o Output) describe(k Kind) string {
	if o.Outcome != OutcomeOK {
		return o.Outcome.String()
	}
	switch k {
	case KindGet:
		return o.Value.String()
	case KindCAS:
		if o.Succeeded {
			return "ok"
		}
		return "failed"
	}
	return "ok"
}

// Operation is one entry of a history: times are nanoseconds on one monotonic clock
// shared by every client (see Recorder). Return is ignored for OutcomeUnknown.
type Operation struct {
	Client int
	Input  Input
	Output Output
	Call   int64
	Return int64
}

// History is a sequence of operations in any order.
type History []Operation
