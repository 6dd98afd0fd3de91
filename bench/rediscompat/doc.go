// Command rediscompat sends the same commands to redis-server and to every
// node of a cached cluster and compares the raw RESP bytes of the replies.
// bench/redis-compat.sh starts both and runs it:
//
//	go run ./bench/rediscompat -redis 127.0.0.1:26500 \
//	    -cached 127.0.0.1:18322,127.0.0.1:18332,127.0.0.1:18342 \
//	    -corpus bench/rediscompat/corpus \
//	    -expected bench/rediscompat/expected-differences.txt
//
// # Corpus
//
// The corpus is a directory of *.txt files, run in name order, each on its
// own: every target runs a whole file in one connection, after FLUSHALL.
// One command per line:
//
//	# a comment (also blank lines)
//	SET k "a value" EX 100      a command, sent as a RESP array
//	---                         FLUSHALL before the next line (a new group)
//	~ TTL k                     an integer reply that depends on the time:
//	                            equal within 2
//	~5000 PEXPIRETIME k         equal within 5000
//	? CLIENT ID                 sent, reply not compared
//	inline ECHO a"b c"          sent as an inline command (the rest of the
//	                            line, as typed, then CRLF) on a connection of
//	                            its own, since a protocol error closes it
//
// Arguments are split as redis-cli splits them: blanks separate them,
// "double quotes" take the escapes \n \r \t \b \a \" \\ and \xHH, 'single
// quotes' take \' only.
//
// Every target answers the same file in the same order, so a target's
// replies depend only on its own earlier ones: the targets run one after
// the other, redis first. Replies that depend on the time (TTL, PTTL,
// EXPIRETIME) must carry "~": the runs are seconds apart.
//
// # Expected differences
//
// The -expected file lists the replies known to differ, one per line:
//
//	strings.txt: COMMAND COUNT -- cached has fewer commands than redis-server
//
// (the corpus file, ": ", the line as written in the corpus, " -- ", why).
// A listed line may differ on any node; rediscompat exits 1 only when an
// unlisted line differs, and reports listed lines that no longer differ.
package main
