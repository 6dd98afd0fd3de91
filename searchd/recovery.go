package searchd

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"

	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
	"cairn.dev/cairn/searchd/meta"
)

// recoverFromPeer copies a consistent commit point of a started copy of
// the shard (on another node) into dir: the files go to a temporary
// directory beside it, are checked (sizes and CRC-32C) and renamed into
// place, so dir holds a whole commit point or nothing.
func (s *Server) recoverFromPeer(ctx context.Context, ix *meta.Index, shard int, dir string) error {
	var last error = errors.New("no started copy on another node")
	for _, node := range s.readCopies(ix, shard) {
		if node == s.cfg.ID {
			continue
		}
		if last = s.copyFrom(ctx, node, ix, shard, dir); last == nil {
			s.recoveries.Add(1)
			s.logger.Info("copy: recovered from a peer", "index", ix.Name, "shard", shard, "from", node)
			return nil
		}
	}
	return last
}

func (s *Server) copyFrom(ctx context.Context, node string, ix *meta.Index, shard int, dir string) error {
	cl, err := s.shardClient(node)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := cl.CopyShard(ctx, &searchdv1.CopyShardRequest{Shard: ref(ix, shard)})
	if err != nil {
		return err
	}
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	tmp := dir + ".recovering"
	_ = os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	want := map[string]*searchdv1.ShardFile{}
	for _, f := range first.GetFiles() {
		if f.GetName() == "" || strings.Contains(f.GetName(), "..") || filepath.IsAbs(f.GetName()) {
			return fmt.Errorf("searchd: peer sent a bad file name %q", f.GetName())
		}
		want[f.GetName()] = f
	}
	got := map[string]*recvFile{}
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		spec := want[msg.GetFile()]
		if spec == nil {
			return fmt.Errorf("searchd: peer sent data of unannounced file %q", msg.GetFile())
		}
		rf := got[msg.GetFile()]
		if rf == nil {
			path := filepath.Join(tmp, msg.GetFile())
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			fh, err := os.Create(path)
			if err != nil {
				return err
			}
			rf = &recvFile{f: fh, crc: crc32.New(castagnoli)}
			got[msg.GetFile()] = rf
			defer fh.Close()
		}
		if _, err := rf.f.Write(msg.GetData()); err != nil {
			return err
		}
		rf.crc.Write(msg.GetData())
		rf.n += int64(len(msg.GetData()))
	}
	for name, spec := range want {
		rf := got[name]
		if rf == nil && spec.GetSize() == 0 {
			fh, err := os.Create(filepath.Join(tmp, name))
			if err != nil {
				return err
			}
			fh.Close()
			continue
		}
		if rf == nil || rf.n != spec.GetSize() || rf.crc.Sum32() != spec.GetCrc32C() {
			return fmt.Errorf("searchd: file %s of the copy arrived damaged or short", name)
		}
		if err := rf.f.Sync(); err != nil {
			return err
		}
	}
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}

type recvFile struct {
	f   *os.File
	crc interface {
		Write([]byte) (int, error)
		Sum32() uint32
	}
	n int64
}
