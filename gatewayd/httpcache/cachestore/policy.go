package cachestore

// policy is a byte-weighted W-TinyLFU over one tier's entries: a window
// LRU of about 1 % of the capacity in front of a segmented LRU main area
// (probation, and protected holding up to 80 % of main). New entries enter
// the window (or, when larger than the window, go straight to admission).
// An entry leaving the window is a candidate for main: when main lacks
// room, the candidate is admitted only if its sketch estimate is higher
// than that of every main entry it would displace (taken from the LRU end
// of probation, then of protected); otherwise the candidate is evicted.
// Not safe for concurrent use (the Store's mutex guards it).
type policy struct {
	sk           *sketch
	capacity     int64
	windowCap    int64
	mainCap      int64
	protectedCap int64
	window       list
	probation    list
	protected    list
	evictions    int64 // entries displaced by others
	rejections   int64 // candidates refused by admission
}

func newPolicy(capacity int64, sk *sketch) *policy {
	p := &policy{sk: sk, capacity: capacity}
	p.windowCap = max(capacity/100, 1)
	p.mainCap = capacity - p.windowCap
	p.protectedCap = p.mainCap / 10 * 8
	p.window.init()
	p.probation.init()
	p.protected.init()
	return p
}

// bytes is what the tier holds.
func (p *policy) bytes() int64 { return p.window.bytes + p.probation.bytes + p.protected.bytes }

// add inserts e (e.size set) and appends to out the entries that left the
// policy to make room, e itself included when it was refused. It reports
// whether e is still held.
func (p *policy) add(e *entry, out []*entry) ([]*entry, bool) {
	if e.size > p.windowCap {
		out = p.admitMain(e, out)
		return out, e.seg != segNone
	}
	e.seg = segWindow
	p.window.pushFront(e)
	for p.window.bytes > p.windowCap {
		c := p.window.back()
		p.window.remove(c)
		c.seg = segNone
		out = p.admitMain(c, out)
	}
	return out, e.seg != segNone
}

// victims reports how many main entries, from the LRU end, a candidate of
// size bytes and estimate freq would displace, and whether it beats them
// all (n == 0 and true when there is room).
func (p *policy) victims(size int64, freq int) (n int, admit bool) {
	if size > p.mainCap {
		return 0, false
	}
	need := p.probation.bytes + p.protected.bytes + size - p.mainCap
	if need <= 0 {
		return 0, true
	}
	var freed int64
	for _, l := range [2]*list{&p.probation, &p.protected} {
		for v := l.root.prev; v != &l.root; v = v.prev {
			if p.sk.estimate(v.hash) >= freq {
				return n, false
			}
			freed += v.size
			n++
			if freed >= need {
				return n, true
			}
		}
	}
	return n, freed >= need
}

// wouldAdmit reports whether admitMain would take a candidate now.
func (p *policy) wouldAdmit(hash uint64, size int64) bool {
	_, ok := p.victims(size, p.sk.estimate(hash))
	return ok
}

// admitMain runs the admission contest for candidate c (in no list).
func (p *policy) admitMain(c *entry, out []*entry) []*entry {
	n, ok := p.victims(c.size, p.sk.estimate(c.hash))
	if !ok {
		p.rejections++
		return append(out, c)
	}
	for range n {
		v := p.probation.back()
		if v == nil {
			v = p.protected.back()
		}
		p.remove(v)
		p.evictions++
		out = append(out, v)
	}
	c.seg = segProbation
	p.probation.pushFront(c)
	return out
}

// addMain inserts e into probation without a contest, evicting from the
// LRU end of main as needed (rebuilding a tier at Open).
func (p *policy) addMain(e *entry, out []*entry) []*entry {
	e.seg = segProbation
	p.probation.pushFront(e)
	return p.shrink(out)
}

// shrink evicts, without a contest, until every area fits its limit.
func (p *policy) shrink(out []*entry) []*entry {
	for p.window.bytes > p.windowCap {
		c := p.window.back()
		p.window.remove(c)
		c.seg = segNone
		out = p.admitMain(c, out)
	}
	for p.probation.bytes+p.protected.bytes > p.mainCap {
		v := p.probation.back()
		if v == nil {
			v = p.protected.back()
		}
		p.remove(v)
		p.evictions++
		out = append(out, v)
	}
	return out
}

// onAccess records a hit on e: window and protected entries move to the
// front; a probation entry is promoted to protected (demoting protected's
// LRU entries to probation when protected overflows).
func (p *policy) onAccess(e *entry) {
	switch e.seg {
	case segWindow:
		p.window.moveToFront(e)
	case segProtected:
		p.protected.moveToFront(e)
	case segProbation:
		p.probation.remove(e)
		e.seg = segProtected
		p.protected.pushFront(e)
		for p.protected.bytes > p.protectedCap && p.protected.n > 1 {
			t := p.protected.back()
			p.protected.remove(t)
			t.seg = segProbation
			p.probation.pushFront(t)
		}
	}
}

// remove takes e out of the policy.
func (p *policy) remove(e *entry) {
	switch e.seg {
	case segWindow:
		p.window.remove(e)
	case segProbation:
		p.probation.remove(e)
	case segProtected:
		p.protected.remove(e)
	}
	e.seg = segNone
}

// resize changes e's charged size in place and evicts what no longer fits.
func (p *policy) resize(e *entry, size int64, out []*entry) []*entry {
	var l *list
	switch e.seg {
	case segWindow:
		l = &p.window
	case segProbation:
		l = &p.probation
	case segProtected:
		l = &p.protected
	default:
		e.size = size
		return out
	}
	l.bytes += size - e.size
	e.size = size
	return p.shrink(out)
}
