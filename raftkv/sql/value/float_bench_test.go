package value

import (
	"math"
	"testing"
)

func BenchmarkFloatTextOdd(b *testing.B) {
	v := NewFloat(math.Float64frombits(math.Float64bits(0.3) | 1))
	var buf []byte
	for i := 0; i < b.N; i++ {
		buf = AppendText(buf[:0], v)
	}
}

func BenchmarkFloatTextEven(b *testing.B) {
	v := NewFloat(math.Float64frombits(math.Float64bits(0.3) &^ 1))
	var buf []byte
	for i := 0; i < b.N; i++ {
		buf = AppendText(buf[:0], v)
	}
}
