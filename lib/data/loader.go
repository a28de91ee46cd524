package data

import (
	"fmt"
	"sync"
)

// Batch is one mini-batch: Images is B×C×H×W float32 (NCHW), Labels has B
// entries, Indices are the dataset indices the images came from.
type Batch struct {
	Images  []float32
	Labels  []int32
	Indices []int
	B       int // images in this batch (the last one may be smaller)
	C, H, W int
	Epoch   int // epoch this batch belongs to
	Index   int // position of the batch within its epoch
}

// Shape returns [B, C, H, W].
func (b *Batch) Shape() []int { return []int{b.B, b.C, b.H, b.W} }

// LoaderConfig configures a Loader.
type LoaderConfig struct {
	BatchSize int
	// Shuffle draws a new order every epoch from (Seed, epoch); otherwise
	// images come in dataset order.
	Shuffle bool
	Seed    uint64
	// DropLast drops the final batch of an epoch when it is smaller than
	// BatchSize.
	DropLast bool
	// Augment, if non-nil, transforms every image (random draws from
	// (Seed, epoch, batch index)). Use nil for evaluation, or an Augment
	// with only Norm set.
	Augment *Augment
	// Prefetch is how many batches a background goroutine prepares ahead;
	// 0 prepares each batch in Next. The batches are the same either way.
	Prefetch int
	// StartEpoch is the epoch the first Next call begins (for resuming).
	StartEpoch int
	// StartBatch skips the first StartBatch batches of StartEpoch, to
	// resume a run checkpointed in the middle of an epoch.
	StartBatch int
}

// Loader yields the batches of a dataset, epoch after epoch.
//
// Next returns the next batch of the current epoch, or ok = false once the
// epoch is exhausted; the call after that starts the next epoch. Every
// batch depends only on (Seed, epoch, batch index) and the dataset, so a
// run is reproducible whatever the prefetching and can be resumed at any
// epoch and batch with StartEpoch and StartBatch. A Loader is used from
// one goroutine; Close stops the prefetcher.
type Loader struct {
	ds    *Dataset
	cfg   LoaderConfig
	epoch int // epoch Next is currently in
	pos   int // next batch index within the epoch (synchronous mode)
	order []int
	nb    int
	skip  int // batches still to skip at the start of the current epoch

	// prefetch state
	ch   chan *Batch
	stop chan struct{}
	wg   sync.WaitGroup
	pool chan *Batch

	closed bool
}

// NewLoader returns a loader over ds.
func NewLoader(ds *Dataset, cfg LoaderConfig) (*Loader, error) {
	if cfg.BatchSize <= 0 {
		return nil, fmt.Errorf("data: NewLoader: batch size %d", cfg.BatchSize)
	}
	if err := ds.Validate(); err != nil {
		return nil, err
	}
	if cfg.Augment != nil && cfg.Augment.Norm != nil {
		if len(cfg.Augment.Norm.Mean) != ds.C || len(cfg.Augment.Norm.Std) != ds.C {
			return nil, fmt.Errorf("data: NewLoader: normalisation has %d means/%d stds for %d channels",
				len(cfg.Augment.Norm.Mean), len(cfg.Augment.Norm.Std), ds.C)
		}
	}
	nb := ds.N / cfg.BatchSize
	if !cfg.DropLast && ds.N%cfg.BatchSize != 0 {
		nb++
	}
	if cfg.StartBatch < 0 || cfg.StartBatch > nb {
		return nil, fmt.Errorf("data: NewLoader: start batch %d outside [0,%d]", cfg.StartBatch, nb)
	}
	l := &Loader{ds: ds, cfg: cfg, epoch: cfg.StartEpoch, nb: nb, pos: -1, skip: cfg.StartBatch}
	if cfg.Prefetch > 0 {
		l.pool = make(chan *Batch, cfg.Prefetch+2)
	}
	return l, nil
}

// BatchesPerEpoch is the number of batches Next yields per epoch.
func (l *Loader) BatchesPerEpoch() int { return l.nb }

// Epoch is the epoch the next batch belongs to.
func (l *Loader) Epoch() int { return l.epoch }

// Order returns the order of dataset indices used in an epoch.
func (l *Loader) Order(epoch int) []int {
	if !l.cfg.Shuffle {
		o := make([]int, l.ds.N)
		for i := range o {
			o[i] = i
		}
		return o
	}
	return NewRNG(Mix(l.cfg.Seed, streamShuffle, uint64(epoch))).Perm(l.ds.N)
}

// makeBatch builds batch bi of an epoch whose index order is order, reusing
// the buffers of reuse when it is non-nil and large enough.
func (l *Loader) makeBatch(epoch, bi int, order []int, reuse *Batch) *Batch {
	bs := l.cfg.BatchSize
	lo, hi := bi*bs, min((bi+1)*bs, len(order))
	n := hi - lo
	sz := l.ds.ImageSize()
	b := reuse
	if b == nil || cap(b.Images) < n*sz || cap(b.Labels) < n || cap(b.Indices) < n {
		b = &Batch{Images: make([]float32, bs*sz), Labels: make([]int32, bs), Indices: make([]int, bs)}
	}
	b.Images, b.Labels, b.Indices = b.Images[:n*sz], b.Labels[:n], b.Indices[:n]
	b.B, b.C, b.H, b.W, b.Epoch, b.Index = n, l.ds.C, l.ds.H, l.ds.W, epoch, bi
	var rng *RNG
	if l.cfg.Augment != nil {
		rng = NewRNG(Mix(l.cfg.Seed, streamAugment, uint64(epoch), uint64(bi)))
	}
	for j, idx := range order[lo:hi] {
		b.Indices[j] = idx
		b.Labels[j] = l.ds.Labels[idx]
		dst := b.Images[j*sz : (j+1)*sz]
		if rng != nil {
			l.cfg.Augment.Apply(dst, l.ds.Image(idx), l.ds.C, l.ds.H, l.ds.W, rng)
		} else {
			copy(dst, l.ds.Image(idx))
		}
	}
	return b
}

// Next returns the next batch, or (nil, false) at the end of an epoch.
func (l *Loader) Next() (*Batch, bool) {
	if l.closed {
		return nil, false
	}
	if l.cfg.Prefetch <= 0 {
		if l.pos < 0 {
			l.order, l.pos, l.skip = l.Order(l.epoch), l.skip, 0
		}
		if l.pos >= l.nb {
			l.epoch++
			l.pos = -1
			return nil, false
		}
		b := l.makeBatch(l.epoch, l.pos, l.order, nil)
		l.pos++
		return b, true
	}
	if l.ch == nil {
		l.start(l.epoch, l.skip)
		l.skip = 0
	}
	b, ok := <-l.ch
	if !ok {
		l.wg.Wait()
		l.ch = nil
		l.epoch++
		return nil, false
	}
	return b, true
}

// EndEpoch abandons the rest of the current epoch (stopping the
// prefetcher); the next Next starts the following epoch. It does nothing
// before the first Next of an epoch.
func (l *Loader) EndEpoch() {
	if l.closed {
		return
	}
	if l.cfg.Prefetch <= 0 {
		if l.pos >= 0 {
			l.epoch++
			l.pos = -1
		}
		return
	}
	if l.ch != nil {
		l.stopProducer()
		l.epoch++
	}
}

func (l *Loader) stopProducer() {
	close(l.stop)
	for range l.ch { // drain so the producer is never blocked
	}
	l.wg.Wait()
	l.ch = nil
}

// Recycle hands a batch the caller has finished with back to the loader,
// which may reuse its memory for a later batch. Optional.
func (l *Loader) Recycle(b *Batch) {
	if l.pool == nil || b == nil {
		return
	}
	select {
	case l.pool <- b:
	default:
	}
}

// start launches the producer of one epoch, from batch first on.
func (l *Loader) start(epoch, first int) {
	l.ch = make(chan *Batch, l.cfg.Prefetch)
	l.stop = make(chan struct{})
	ch, stop := l.ch, l.stop
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer close(ch)
		order := l.Order(epoch)
		for bi := first; bi < l.nb; bi++ {
			var reuse *Batch
			select {
			case reuse = <-l.pool:
			default:
			}
			b := l.makeBatch(epoch, bi, order, reuse)
			select {
			case ch <- b:
			case <-stop:
				return
			}
		}
	}()
}

// Close stops the prefetcher and waits for it; Next then returns false.
func (l *Loader) Close() {
	if l.closed {
		return
	}
	l.closed = true
	if l.ch != nil {
		l.stopProducer()
	}
}

// Batches returns all batches of a dataset in order, normalised when norm
// is non-nil and otherwise unchanged: a convenience for evaluation.
func Batches(ds *Dataset, batchSize int, norm *Stats) ([]*Batch, error) {
	var aug *Augment
	if norm != nil {
		aug = &Augment{Norm: norm}
	}
	l, err := NewLoader(ds, LoaderConfig{BatchSize: batchSize, Augment: aug})
	if err != nil {
		return nil, err
	}
	var out []*Batch
	for b, ok := l.Next(); ok; b, ok = l.Next() {
		out = append(out, b)
	}
	return out, nil
}
