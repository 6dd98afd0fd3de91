package blobd

// Owned by the public gRPC API (replace this file): the cairn.blobd.v1
// services.

func (s *Server) registerAPI() {}
