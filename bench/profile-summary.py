#!/usr/bin/env python3
"""Summarises an async-profiler collapsed-stack file (one line per stack: frames joined by ";", then a count): the
share of event-loop threads, the inclusive shares of the request path's main frames, the top self frames.
Usage: bench/profile-summary.py FILE TITLE"""
import sys, collections
path, title = sys.argv[1], sys.argv[2]
total = 0; loop = 0
self_frames = collections.Counter(); inclusive = collections.Counter()
MARKS = [
  ("child stream channels (AbstractHttp2StreamChannel, any frame)", "AbstractHttp2StreamChannel"),
  ("Http2MultiplexHandler", "Http2MultiplexHandler"),
  ("frame relay, downstream (listener.CallerStreams)", "io/taskmesh/sidecar/listener/CallerStreams"),
  ("frame relay, upstream (cluster.UpstreamStreams)", "io/taskmesh/sidecar/cluster/UpstreamStreams"),
  ("LogicalCall.start (route, filters, first try)", "io/taskmesh/sidecar/logical/LogicalCall.start"),
  ("HPACK decode", "HpackDecoder"),
  ("HPACK encode", "HpackEncoder"),
  ("TLS (SslHandler)", "io/netty/handler/ssl/SslHandler"),
  ("writev", "writev"),
  ("epoll_wait", "epoll_wait"),
  ("window updates (consumeBytes)", "consumeBytes"),
  ("method-handle calls (linkToTargetMethod)", "linkToTargetMethod"),
  ("header name/value validation (Netty)", ("HttpHeaderValidationUtil", "HttpUtil.validate", "HttpUtil.isValidTokenChar",
      "validateName", "HpackDecoder.validateHeader", "DefaultHttp2Headers$3.validate", "hasPseudoHeaderFormat")),
  ("String header text walked char by char", ("java/lang/String.charAt", "java/lang/String.length")),
]
for line in open(path):
    line = line.rstrip("\n")
    if not line: continue
    stack, _, n = line.rpartition(" ")
    n = int(n); total += n
    frames = stack.split(";")
    if not any(("EventLoop" in f and ".run" in f) or "IoHandler.run" in f or "SingleThreadEventExecutor$" in f for f in frames):
        continue
    loop += n
    self_frames[frames[-1]] += n
    for label, mark in MARKS:
        marks = (mark,) if isinstance(mark, str) else mark  # a label may stand for several frames
        if any(m in f for f in frames for m in marks):
            inclusive[label] += n
print(f"## {title}: {total} samples, event-loop threads {100*loop/max(total,1):.1f}%\n")
print("Event-loop samples under (inclusive, % of event-loop samples):")
for label, _ in MARKS:
    print(f"  {100*inclusive[label]/max(loop,1):6.1f}%  {label}")
print("\nTop 20 self frames on event-loop threads (% of event-loop samples):")
for frame, n in self_frames.most_common(20):
    print(f"  {100*n/max(loop,1):6.1f}%  {frame}")
