package io.taskmesh.sidecar.cluster;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.taskmesh.sidecar.discovery.EndpointAddress;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** One backend address of a cluster: its connection pool and the load figures the balancer reads. */
public final class Endpoint {
  public enum State { ACTIVE, DRAINING }

  /** Weight of the newest latency sample in the moving average. */
  private static final double EWMA_ALPHA = 0.3;
  private static final long INITIAL_LATENCY_NANOS = 1_000_000;

  private final EndpointAddress address;
  /** {@code host:port}, made once: every request's outcome names it. */
  private final String addressText;
  private final EndpointConnectionPool pool;
  private final AtomicInteger outstanding = new AtomicInteger();
  private final AtomicLong requests = new AtomicLong();
  /** How fast an idle endpoint's latency average decays: to 1/e after this long without samples. */
  private static final double DECAY_NANOS = 1e9;

  private volatile double ewmaLatencyNanos = INITIAL_LATENCY_NANOS;
  private volatile long lastSampleNanos = System.nanoTime();
  private volatile State state = State.ACTIVE;

  Endpoint(EndpointAddress address, UpstreamConnector connector) {
    this.address = address;
    this.addressText = address.toString();
    this.pool = new EndpointConnectionPool(connector, this);
  }

  public EndpointAddress address() {
    return address;
  }

  /** The address as {@code host:port}. */
  public String addressText() {
    return addressText;
  }

  public State state() {
    return state;
  }

  public int outstanding() {
    return outstanding.get();
  }

  public long requests() {
    return requests.get();
  }

  /**
   * The latency average, decayed toward zero while no sample arrives: an endpoint that once looked slow
   * and so got no traffic looks cheaper as time passes, gets a request and a fresh sample, and is never
   * starved (the "peak EWMA" decay of Finagle and linkerd).
   */
  public double ewmaLatencyNanos() {
    long idle = System.nanoTime() - lastSampleNanos;
    return ewmaLatencyNanos * Math.exp(-(double) idle / DECAY_NANOS);
  }

  public int connections() {
    return pool.connectionCount();
  }

  /**
   * Starts a request here: counts it outstanding until {@link #requestFinished()}. The stream opens on a
   * connection run by {@code loop}, the downstream stream's event loop.
   */
  public Future<UpstreamStream> openStream(UpstreamStream.Receiver receiver, EventLoop loop) {
    outstanding.incrementAndGet();
    requests.incrementAndGet();
    return pool.openStream(receiver, loop);
  }

  /** Streams open on this endpoint's connections now; zero once every call to it is over (no state is left). */
  public int openUpstreamStreams() {
    return pool.mappedStreams();
  }

  public void requestFinished() {
    outstanding.decrementAndGet();
  }

  /** Time to the first response headers, a latency sample that also suits long streams. */
  public synchronized void recordLatency(long nanos) {
    ewmaLatencyNanos = ewmaLatencyNanos() * (1 - EWMA_ALPHA) + nanos * EWMA_ALPHA;
    lastSampleNanos = System.nanoTime();
  }

  void drain() {
    state = State.DRAINING;
    pool.drain();
  }
}
