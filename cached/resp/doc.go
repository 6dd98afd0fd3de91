// Package resp reads and writes RESP2, the Redis serialization protocol, for
// cached's Redis-compatible listener and for test and benchmark clients.
//
// A server reads requests with [Reader.ReadCommand], which accepts both the
// array-of-bulk-strings form that clients send and the inline form
// ("PING\r\n", space-separated, with Redis-style quoting) that telnet users
// type. The returned arguments alias the Reader's buffer and are valid only
// until the next call, so the hot path does not allocate; a server that keeps
// an argument (a key it stores, say) must copy it. After writing the replies
// to a [Writer], the server flushes once [Reader.ReadBufferedCommand] finds
// no complete command left, so a pipeline of commands gets one write.
//
// The Reader never allocates on the word of the peer: a declared array
// count or bulk length is checked against MaxArgs and MaxBulk and the buffer
// only grows (by doubling) as data actually arrives, so memory stays within
// about twice the bytes received. Malformed input yields an error wrapping
// [ErrProtocol] whose [ProtocolError].Msg is the Redis-style text ("Protocol
// error: expected '$', got 'x'") to send back as "-ERR "+Msg before closing
// the connection; the Reader is unusable after it. A bulk string over
// MaxBulk but within MaxDiscard is not an error of the stream: the Reader
// reads the command to its end, discarding that payload as it arrives, and
// returns a [TooLargeError] ([ErrTooLarge]) to answer, and the connection
// goes on.
//
// An event loop that must not block uses a buffer Reader
// ([NewBufferReader]): it adds what the socket holds with [Reader.Fill], and
// ReadCommand parses only that, returning [ErrIncomplete] rather than
// waiting; parsing resumes where it stopped, so a command arriving in pieces
// is parsed about once. [Reader.ReadBufferedCommand] does the same on a
// stream Reader, and [Reader.Attach] turns a buffer Reader into a stream
// Reader, keeping what it holds.
//
// Clients read replies with [Reader.ReadReply], which parses every RESP2
// reply type (simple string, error, integer, bulk, null bulk, array, null
// array, nested) into an owned [Reply], and send commands with
// [Writer.Command].
//
// Readers and Writers are not safe for concurrent use; a connection has one
// of each, owned by its goroutine.
package resp
