package lockbench

import (
	"context"
	"errors"
	"fmt"
	"time"

	lockclient "cairn.dev/cairn/lockd/client"
)

// lockdDriver shares Config.Conns lockd clients among the Lockers.
type lockdDriver struct {
	cfg     Config
	clients []*lockclient.Client
}

func newLockdDriver(cfg Config) (Driver, error) {
	d := &lockdDriver{cfg: cfg}
	for range cfg.Conns {
		c, err := lockclient.New(lockclient.Config{Endpoints: cfg.Endpoints, RequestTimeout: cfg.RequestTimeout, TLS: cfg.TLS})
		if err != nil {
			d.Close()
			return nil, err
		}
		d.clients = append(d.clients, c)
	}
	return d, nil
}

func (d *lockdDriver) NewLocker(ctx context.Context, i int) (Locker, error) {
	s, err := d.clients[i%len(d.clients)].NewSession(ctx, d.cfg.TTL)
	if err != nil {
		return nil, err
	}
	return &lockdLocker{s: s}, nil
}

func (d *lockdDriver) Close() error {
	var errs []error
	for _, c := range d.clients {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

type lockdLocker struct {
	s *lockclient.Session
}

func (l *lockdLocker) Lock(ctx context.Context, name string) (uint64, error) {
	g, err := l.s.Acquire(ctx, name, nil)
	if err != nil {
		return 0, err
	}
	return g.Token, nil
}

func (l *lockdLocker) Unlock(ctx context.Context, name string) error {
	err := l.s.Release(ctx, name)
	if errors.Is(err, lockclient.ErrNotHolder) || errors.Is(err, lockclient.ErrNotHeld) {
		return fmt.Errorf("%w: %v", ErrNotHeld, err)
	}
	return err
}

func (l *lockdLocker) Close(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return l.s.Close(ctx)
}
