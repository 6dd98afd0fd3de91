// Package blobchaos holds blobd's chaos scenarios, run by its tests through
// the chaos framework (cluster/chaos). Writers PUT objects of random sizes
// (1 B to 2 MiB with an occasional ~10 MiB one in the short runs, up to
// 64 MiB in the long ones) whose content is derived from a content id
// (Content: a header naming the id, then ChaCha8 bytes), so the history
// holds each PUT's SHA-256 and a reader knows, byte by byte, whether what
// it got is exactly what some PUT sent (Verifier); they overwrite and
// delete some of their keys. Readers GET and LIST concurrently, and a
// monitor records blobd's repair status (Blob). Once the faults are over the
// drain reads every key and lists the bucket (Blob.Drain).
//
// The checkers are pure functions of the history (checkObjects,
// checkRepair) behind Check methods, table-tested on hand-made histories and
// run against an in-memory fake that breaks one rule per case. Objects
// judges wrong bytes, partial and foreign objects, visible failed PUTs,
// stale reads, listings that miss or add keys, and acknowledged writes lost
// or unreadable at the end; Repair judges that the repair status is healthy
// again, and stays so, within a bound after the last fault was healed.
//
// Faults: volume servers (followers of the metadata group) and the metadata
// leader killed, a node cut off or paused, every node crashed at once, and
// the volume files of a killed node damaged (the tampers flip-needle,
// truncate-dat, delete-volume, damage-volume). BlobdScenarios lists the
// scenarios.
package blobchaos
