// Package searchdfake is an in-memory stand-in for a searchd node's client
// services (cairn.searchd.v1 IndexService, DocumentService, SearchService,
// ClusterService) for the tests of the packages that only speak them: the
// HTTP API (searchd/es), change data capture (searchd/cdc) and the CLI. It
// keeps documents in maps and implements no search: Search returns every
// document of the named indexes (score 1, by id, honouring "size", "from"
// and a "search_after" of one id) and records the request, so that tests
// can check what reached the service and inject failures (FailNext,
// FailAfter). Errors carry the rpcerr reasons of the real services. Tests
// of search behaviour use searchd/searchdtest, a real cluster.
package searchdfake

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sort"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"cairn.dev/cairn/node/rpcerr"
	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
)

// Error returns a status error with reason r (a searchd reason such as
// "INDEX_NOT_FOUND") and code c, as the real services send.
func Error(c codes.Code, r, msg string, md map[string]string) error {
	st := status.New(c, msg)
	if d, err := st.WithDetails(&errdetails.ErrorInfo{Reason: r, Domain: rpcerr.Domain, Metadata: md}); err == nil {
		st = d
	}
	return st.Err()
}

type doc struct {
	source  []byte
	version int64
	seq     int64
}

type index struct {
	pb   *searchdv1.Index
	docs map[string]*doc
	seq  int64
}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	searchdv1.UnimplementedIndexServiceServer
	searchdv1.UnimplementedDocumentServiceServer
	searchdv1.UnimplementedSearchServiceServer
	searchdv1.UnimplementedClusterServiceServer

	mu sync.Mutex // protects the fields below
	// indexes by name.
	indexes map[string]*index
	nextID  int
	// fail, when set, is returned by the next call of the named method
	// ("PutDocument") instead of running it.
	fail map[string]error
	// skip counts the calls of a method to let through before its fail.
	skip map[string]int
	// Searches are the requests Search and Count received, in order.
	searches []*searchdv1.SearchRequest
	// bulks are the Bulk requests received, in order.
	bulks []*searchdv1.BulkRequest
}

// New returns an empty fake.
func New() *Server {
	return &Server{indexes: map[string]*index{}, fail: map[string]error{}, skip: map[string]int{}}
}

// Start serves s on a loopback port for the test and returns a connection
// to it; both are closed by t.Cleanup.
func Start(t testing.TB) (*Server, *grpc.ClientConn) {
	t.Helper()
	s := New()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(grpc.MaxRecvMsgSize(64 << 20))
	searchdv1.RegisterIndexServiceServer(g, s)
	searchdv1.RegisterDocumentServiceServer(g, s)
	searchdv1.RegisterSearchServiceServer(g, s)
	searchdv1.RegisterClusterServiceServer(g, s)
	go func() { _ = g.Serve(lis) }() // ends with g.Stop below
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(64<<20)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		g.Stop()
	})
	return s, conn
}

// FailNext makes the next call of method fail with err.
func (s *Server) FailNext(method string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[method] = err
}

// FailAfter lets n calls of method through, then fails the next one with
// err.
func (s *Server) FailAfter(method string, n int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[method] = err
	s.skip[method] = n
}

// Searches returns the Search and Count requests received so far.
func (s *Server) Searches() []*searchdv1.SearchRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*searchdv1.SearchRequest(nil), s.searches...)
}

// Bulks returns the Bulk requests received so far.
func (s *Server) Bulks() []*searchdv1.BulkRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*searchdv1.BulkRequest(nil), s.bulks...)
}

// Docs returns the ids and sources of an index's documents.
func (s *Server) Docs(name string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	if ix, ok := s.indexes[name]; ok {
		for id, d := range ix.docs {
			out[id] = string(d.source)
		}
	}
	return out
}

// failing returns the injected error of method, once. Called with mu held.
func (s *Server) failing(method string) error {
	err := s.fail[method]
	if err == nil {
		return nil
	}
	if s.skip[method] > 0 {
		s.skip[method]--
		return nil
	}
	delete(s.fail, method)
	return err
}

func notFound(name string) error {
	return Error(codes.NotFound, "INDEX_NOT_FOUND", "searchd: no such index "+name, map[string]string{"index": name})
}

// get returns an index. Called with mu held.
func (s *Server) get(name string) (*index, error) {
	ix, ok := s.indexes[name]
	if !ok {
		return nil, notFound(name)
	}
	return ix, nil
}

func (s *Server) CreateIndex(_ context.Context, req *searchdv1.CreateIndexRequest) (*searchdv1.CreateIndexResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failing("CreateIndex"); err != nil {
		return nil, err
	}
	if ix, ok := s.indexes[req.GetName()]; ok {
		return nil, Error(codes.AlreadyExists, "INDEX_EXISTS", "searchd: index exists", map[string]string{"uuid": ix.pb.GetUuid()})
	}
	st := req.GetSettings()
	if st == nil {
		st = &searchdv1.IndexSettings{}
	}
	if st.Shards == 0 {
		st.Shards = 1
	}
	var shards []*searchdv1.Shard
	for i := int32(0); i < st.Shards; i++ {
		shards = append(shards, &searchdv1.Shard{Id: i, Copies: []*searchdv1.ShardCopy{{NodeId: "searchd-1", State: searchdv1.CopyState_COPY_STATE_STARTED}}})
	}
	mappings := req.GetMappingsJson()
	if len(mappings) == 0 {
		mappings = []byte(`{}`)
	}
	s.nextID++
	pb := &searchdv1.Index{
		Name: req.GetName(), Uuid: fmt.Sprintf("uuid-%d", s.nextID), Settings: st, MappingsJson: mappings, MappingVersion: 1,
		Shards: shards, CreatedAt: timestamppb.New(time.Unix(1700000000, 0)), Health: "green",
	}
	if st.Replicas > 0 {
		pb.Health = "yellow"
	}
	s.indexes[req.GetName()] = &index{pb: pb, docs: map[string]*doc{}}
	return &searchdv1.CreateIndexResponse{Index: pb}, nil
}

func (s *Server) DeleteIndex(_ context.Context, req *searchdv1.DeleteIndexRequest) (*searchdv1.DeleteIndexResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.get(req.GetName()); err != nil {
		return nil, err
	}
	delete(s.indexes, req.GetName())
	return &searchdv1.DeleteIndexResponse{}, nil
}

func (s *Server) GetIndex(_ context.Context, req *searchdv1.GetIndexRequest) (*searchdv1.GetIndexResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ix, err := s.get(req.GetName())
	if err != nil {
		return nil, err
	}
	return &searchdv1.GetIndexResponse{Index: ix.pb}, nil
}

func (s *Server) ListIndexes(context.Context, *searchdv1.ListIndexesRequest) (*searchdv1.ListIndexesResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := &searchdv1.ListIndexesResponse{}
	for _, ix := range s.indexes {
		resp.Indexes = append(resp.Indexes, ix.pb)
	}
	sort.Slice(resp.Indexes, func(i, j int) bool { return resp.Indexes[i].GetName() < resp.Indexes[j].GetName() })
	return resp, nil
}

func (s *Server) PutMapping(_ context.Context, req *searchdv1.PutMappingRequest) (*searchdv1.PutMappingResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failing("PutMapping"); err != nil {
		return nil, err
	}
	ix, err := s.get(req.GetIndex())
	if err != nil {
		return nil, err
	}
	ix.pb.MappingsJson = req.GetMappingsJson()
	ix.pb.MappingVersion++
	return &searchdv1.PutMappingResponse{Index: ix.pb}, nil
}

func (s *Server) Refresh(_ context.Context, req *searchdv1.RefreshRequest) (*searchdv1.RefreshResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := req.GetIndexes()
	if len(names) == 0 {
		for n := range s.indexes {
			names = append(names, n)
		}
	}
	var total int32
	for _, n := range names {
		ix, err := s.get(n)
		if err != nil {
			return nil, err
		}
		total += ix.pb.GetSettings().GetShards()
	}
	return &searchdv1.RefreshResponse{TotalShards: total, SuccessfulShards: total}, nil
}

func (s *Server) IndexStats(_ context.Context, req *searchdv1.IndexStatsRequest) (*searchdv1.IndexStatsResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ix, err := s.get(req.GetName())
	if err != nil {
		return nil, err
	}
	var size int64
	for _, d := range ix.docs {
		size += int64(len(d.source))
	}
	return &searchdv1.IndexStatsResponse{Index: ix.pb, Docs: int64(len(ix.docs)), SizeBytes: size, Segments: 1}, nil
}

// put applies one write. Called with mu held.
func (s *Server) put(name, id string, source []byte, create bool) (*searchdv1.PutDocumentResponse, error) {
	ix, err := s.get(name)
	if err != nil {
		return nil, err
	}
	if !json.Valid(source) {
		return nil, Error(codes.InvalidArgument, "PARSE_ERROR", "searchd: the document is not JSON", nil)
	}
	if id == "" {
		s.nextID++
		id = fmt.Sprintf("gen%017d", s.nextID)
	}
	old, exists := ix.docs[id]
	if exists && create {
		return nil, Error(codes.FailedPrecondition, "VERSION_CONFLICT", fmt.Sprintf("current version [%d]", old.version), nil)
	}
	d := &doc{source: source, version: 1, seq: ix.seq}
	result := "created"
	if exists {
		d.version = old.version + 1
		result = "updated"
	}
	ix.seq++
	ix.docs[id] = d
	return &searchdv1.PutDocumentResponse{Id: id, SeqNo: d.seq, Result: result, Version: d.version}, nil
}

func (s *Server) PutDocument(_ context.Context, req *searchdv1.PutDocumentRequest) (*searchdv1.PutDocumentResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failing("PutDocument"); err != nil {
		return nil, err
	}
	return s.put(req.GetIndex(), req.GetId(), req.GetSourceJson(), req.GetOpType() == searchdv1.OpType_OP_TYPE_CREATE)
}

func (s *Server) GetDocument(_ context.Context, req *searchdv1.GetDocumentRequest) (*searchdv1.GetDocumentResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ix, err := s.get(req.GetIndex())
	if err != nil {
		return nil, err
	}
	d, ok := ix.docs[req.GetId()]
	if !ok {
		return &searchdv1.GetDocumentResponse{}, nil
	}
	return &searchdv1.GetDocumentResponse{Found: true, SourceJson: d.source, SeqNo: d.seq, Version: d.version}, nil
}

// del applies one delete. Called with mu held.
func (s *Server) del(name, id string) (*searchdv1.DeleteDocumentResponse, error) {
	ix, err := s.get(name)
	if err != nil {
		return nil, err
	}
	seq := ix.seq
	ix.seq++
	if _, ok := ix.docs[id]; !ok {
		return &searchdv1.DeleteDocumentResponse{SeqNo: seq, Result: "not_found"}, nil
	}
	delete(ix.docs, id)
	return &searchdv1.DeleteDocumentResponse{SeqNo: seq, Result: "deleted"}, nil
}

func (s *Server) DeleteDocument(_ context.Context, req *searchdv1.DeleteDocumentRequest) (*searchdv1.DeleteDocumentResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.del(req.GetIndex(), req.GetId())
}

func (s *Server) Bulk(_ context.Context, req *searchdv1.BulkRequest) (*searchdv1.BulkResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failing("Bulk"); err != nil {
		return nil, err
	}
	s.bulks = append(s.bulks, req)
	resp := &searchdv1.BulkResponse{}
	for _, it := range req.GetItems() {
		name := it.GetIndex()
		if name == "" {
			name = req.GetIndex()
		}
		r := &searchdv1.BulkItemResult{Action: it.GetAction(), Index: name, Id: it.GetId()}
		var err error
		switch it.GetAction() {
		case searchdv1.BulkAction_BULK_ACTION_DELETE:
			var d *searchdv1.DeleteDocumentResponse
			if d, err = s.del(name, it.GetId()); err == nil {
				r.Result, r.SeqNo, r.Status = d.GetResult(), d.GetSeqNo(), 200
				if d.GetResult() == "not_found" {
					r.Status = 404
				}
			}
		default:
			var p *searchdv1.PutDocumentResponse
			if p, err = s.put(name, it.GetId(), it.GetSourceJson(), it.GetAction() == searchdv1.BulkAction_BULK_ACTION_CREATE); err == nil {
				r.Id, r.Result, r.SeqNo, r.Version, r.Status = p.GetId(), p.GetResult(), p.GetSeqNo(), p.GetVersion(), 200
				if p.GetResult() == "created" {
					r.Status = 201
				}
			}
		}
		if err != nil {
			info, _ := rpcerr.FromError(err)
			resp.Errors = true
			r.Status, r.ErrorReason = 400, info.Message
			switch info.Reason {
			case "INDEX_NOT_FOUND":
				r.Status, r.ErrorType = 404, "index_not_found_exception"
			case "VERSION_CONFLICT":
				r.Status, r.ErrorType = 409, "version_conflict_engine_exception"
			default:
				r.ErrorType = "mapper_parsing_exception"
			}
		}
		resp.Items = append(resp.Items, r)
	}
	return resp, nil
}

// hits returns the documents of the named indexes, by index and id.
// Called with mu held.
func (s *Server) hits(names []string) ([]*searchdv1.Hit, int32, error) {
	var hits []*searchdv1.Hit
	var shards int32
	for _, n := range names {
		ix, err := s.get(n)
		if err != nil {
			return nil, 0, err
		}
		shards += ix.pb.GetSettings().GetShards()
		ids := make([]string, 0, len(ix.docs))
		for id := range ix.docs {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			hits = append(hits, &searchdv1.Hit{Index: n, Id: id, Score: 1, SourceJson: ix.docs[id].source})
		}
	}
	return hits, shards, nil
}

func (s *Server) Search(_ context.Context, req *searchdv1.SearchRequest) (*searchdv1.SearchResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failing("Search"); err != nil {
		return nil, err
	}
	s.searches = append(s.searches, req)
	var body struct {
		Size *int            `json:"size"`
		From int             `json:"from"`
		Aggs json.RawMessage `json:"aggs"`
		// SearchAfter pages by id: the fake's hits are sorted by id.
		SearchAfter []any `json:"search_after"`
	}
	if len(req.GetBodyJson()) > 0 {
		if err := json.Unmarshal(req.GetBodyJson(), &body); err != nil {
			return nil, Error(codes.InvalidArgument, "PARSE_ERROR", "searchd: "+err.Error(), nil)
		}
	}
	hits, shards, err := s.hits(req.GetIndexes())
	if err != nil {
		return nil, err
	}
	if len(body.SearchAfter) == 1 {
		after := fmt.Sprint(body.SearchAfter[0])
		kept := hits[:0]
		for _, h := range hits {
			if h.GetId() > after {
				kept = append(kept, h)
			}
		}
		hits = kept
	}
	resp := &searchdv1.SearchResponse{TookMs: 1, TotalHits: int64(len(hits)), TotalRelation: "eq", TotalShards: shards, SuccessfulShards: shards}
	size := 10
	if body.Size != nil {
		size = *body.Size
	}
	if body.From < len(hits) {
		hits = hits[body.From:]
	} else {
		hits = nil
	}
	if len(hits) > size {
		hits = hits[:size]
	}
	resp.Hits = hits
	if len(hits) > 0 {
		resp.MaxScore = 1
	}
	if len(body.Aggs) > 0 {
		resp.AggregationsJson = []byte(`{"fake":{"buckets":[]}}`)
	}
	return resp, nil
}

func (s *Server) Count(_ context.Context, req *searchdv1.CountRequest) (*searchdv1.CountResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.searches = append(s.searches, &searchdv1.SearchRequest{Indexes: req.GetIndexes(), BodyJson: req.GetBodyJson()})
	hits, _, err := s.hits(req.GetIndexes())
	if err != nil {
		return nil, err
	}
	return &searchdv1.CountResponse{Count: int64(len(hits))}, nil
}

func (s *Server) Suggest(_ context.Context, req *searchdv1.SuggestRequest) (*searchdv1.SuggestResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.get(req.GetIndex()); err != nil {
		return nil, err
	}
	return &searchdv1.SuggestResponse{Suggestions: []*searchdv1.Suggestion{{Text: req.GetPrefix() + "top", DocFreq: 3}}}, nil
}

func (s *Server) ListNodes(context.Context, *searchdv1.ListNodesRequest) (*searchdv1.ListNodesResponse, error) {
	return &searchdv1.ListNodesResponse{Nodes: []*searchdv1.NodeInfo{{Id: "searchd-1", Alive: true}, {Id: "searchd-2", Alive: true}, {Id: "searchd-3", Alive: true}}}, nil
}
