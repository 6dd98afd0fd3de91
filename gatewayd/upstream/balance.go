package upstream

import (
	"fmt"
	"math/rand/v2"
)

// balance is a pool's load-balancing algorithm.
type balance int

const (
	balanceRoundRobin balance = iota
	balanceLeastRequest
	balanceRandom
)

func parseBalance(s string) (balance, error) {
	switch s {
	case "", "round_robin":
		return balanceRoundRobin, nil
	case "least_request":
		return balanceLeastRequest, nil
	case "random":
		return balanceRandom, nil
	}
	return 0, fmt.Errorf("%w: unknown balance %q (round_robin, least_request, random)", ErrInvalidSpec, s)
}

// choose returns one of the candidates (at least one) by the algorithm. It
// mutates round-robin state; the pool's mutex guards it.
func (b balance) choose(cands []*target, rnd *rand.Rand) *target {
	if len(cands) == 1 {
		return cands[0]
	}
	switch b {
	case balanceLeastRequest:
		return leastRequest(cands, rnd)
	case balanceRandom:
		return weightedRandom(cands, rnd)
	}
	return smoothRoundRobin(cands)
}

// smoothRoundRobin is nginx's smooth weighted round robin: every candidate's
// running weight grows by its weight, the largest wins and gives back the sum
// of the weights. Over any sum-of-weights picks from a fixed set each target
// is chosen exactly weight times, interleaved rather than in runs.
func smoothRoundRobin(cands []*target) *target {
	var best *target
	total := 0
	for _, t := range cands {
		t.current += t.weight
		total += t.weight
		if best == nil || t.current > best.current {
			best = t
		}
	}
	best.current -= total
	return best
}

// leastRequest is the power of two choices: of two distinct random
// candidates, the one with fewer requests in flight per unit of weight wins
// (the first drawn on a tie).
func leastRequest(cands []*target, rnd *rand.Rand) *target {
	n := len(cands)
	i := rnd.IntN(n)
	j := rnd.IntN(n - 1)
	if j >= i {
		j++
	}
	a, b := cands[i], cands[j]
	if (b.inflight+1)*a.weight < (a.inflight+1)*b.weight {
		return b
	}
	return a
}

// weightedRandom draws a candidate with probability proportional to its
// weight.
func weightedRandom(cands []*target, rnd *rand.Rand) *target {
	total := 0
	for _, t := range cands {
		total += t.weight
	}
	r := rnd.IntN(total)
	for _, t := range cands {
		if r < t.weight {
			return t
		}
		r -= t.weight
	}
	return cands[len(cands)-1]
}
