/**
 * Node flags every service process runs with (the launcher, the fault suite and the container
 * image pass them on the command line: V8's own flags are not allowed in NODE_OPTIONS).
 *
 * `--max-semi-space-size=32`: a service allocates a message's worth of short-lived objects for each
 * message it handles (decoded JSON, validated copies, envelopes); with V8's default 16 MB semi-space
 * the young generation was collected several times a second and garbage collection took 12-14 % of
 * a busy service's CPU. A 32 MB semi-space halves the scavenges (`node --trace-gc`, 20,000-command
 * pipeline: 164 scavenges, 1.24 s -> 90, 0.82 s) for at most 48 MB more memory.
 *
 * `--no-allocation-site-pretenuring`: during a backlog a message waits long enough to survive two
 * scavenges, and V8 then allocates every later object of the same allocation sites (the NATS client's
 * message, its delivery info, the views of the socket's buffer) straight in the old generation, for
 * good. After the bench's 60,000-command pipeline, the old generation grew ~12 MB/s at 1,000
 * commands/s, and the buffers those objects held (freed only by a full collection) grew external
 * memory ~3.3 MB/s until V8 started one, every ~17 s. Each one delayed 130-540 commands past 50 ms.
 * Without pretenuring, in 30 s at 1,000/s external memory stayed at 3-12 MB, no full collection
 * ran, and p99 command → view was 40 ms (169 of 30,000 commands past 50 ms), against 60-104 ms in
 * four such runs with it.
 */
export const SERVICE_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=32',
  '--no-allocation-site-pretenuring',
];
