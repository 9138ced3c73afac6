package io.taskmesh.sidecar.route;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.MethodDescriptorProto;
import com.google.protobuf.DescriptorProtos.MethodOptions.IdempotencyLevel;
import com.google.protobuf.DescriptorProtos.ServiceDescriptorProto;
import com.google.protobuf.ExtensionRegistryLite;
import io.taskmesh.sidecar.NettyResources;
import io.taskmesh.sidecar.rpc.CallSettings;
import io.taskmesh.sidecar.rpc.GrpcChannel;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import io.taskmesh.sidecar.reflection.ServerFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the proxy knows of an upstream's methods, learnt from the upstream's gRPC server reflection (asked at
 * the service's first call, off the event loops): which methods are
 * unary — only those get the route timeout and the per-try timeout, so a watch is never cut — and which
 * the proto marks {@code idempotency_level} IDEMPOTENT or NO_SIDE_EFFECTS, which may also be retried
 * after the upstream reset them. Until a service's methods are known, each is treated as a possible stream.
 *
 * <p>The first call to a service usually comes before its endpoints (discovery answers on demand) and before
 * the far side is ready, so a failed ask is repeated by itself at once with a short backoff ({@link #FIRST_RETRY}
 * doubling up to {@link #LONGEST_RETRY}, {@link #PROMPT_RETRIES} times); only after those the service is asked
 * again at a call {@link #ASK_AGAIN_AFTER} later.
 */
public final class MethodCatalog implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(MethodCatalog.class);
  private static final Duration ASK_AGAIN_AFTER = Duration.ofSeconds(10);
  private static final Duration FIRST_RETRY = Duration.ofMillis(100);
  private static final Duration LONGEST_RETRY = Duration.ofSeconds(2);
  private static final int PROMPT_RETRIES = 12;
  private static final Duration REFLECTION_DEADLINE = Duration.ofSeconds(20);

  /**
   * Marks this catalog's reflection calls, so that the server sidecar passing them to its app keeps them
   * out of the app's metrics, traces and rate limit. Honoured only on the reflection method itself.
   */
  static final String QUERY_HEADER = "taskmesh-internal";
  private static final String QUERY_VALUE = "method-catalog";
  private static final String REFLECTION_PATH = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";

  /** A catalog that never learns anything: every method may be a stream, none is idempotent. */
  public static final MethodCatalog NONE = new MethodCatalog(null, null);

  /** @param idempotent the proto says calling it twice does no harm */
  public record MethodShape(boolean unary, boolean idempotent) {}

  private final NettyResources netty;
  private final Function<String, Optional<InetSocketAddress>> endpointOf;
  private final Map<String, Map<String, MethodShape>> known = new ConcurrentHashMap<>();
  /** Services being asked, their prompt retries included. */
  private final Set<String> asking = ConcurrentHashMap.newKeySet();
  /** Services whose prompt retries all failed: when a call may ask again. */
  private final Map<String, Long> askAgainAtNanos = new ConcurrentHashMap<>();
  private final ScheduledExecutorService asker = Executors.newSingleThreadScheduledExecutor(runnable -> {
    Thread thread = new Thread(runnable, "taskmesh-method-catalog");
    thread.setDaemon(true);
    return thread;
  });

  /**
   * @param netty the event loops that carry the queries
   * @param endpointOf an address where the service answers reflection, if any; null: never ask
   */
  public MethodCatalog(NettyResources netty, Function<String, Optional<InetSocketAddress>> endpointOf) {
    this.netty = netty;
    this.endpointOf = endpointOf;
  }

  /** The method's shape if known; asks the service in the background when it is not known yet. */
  public Optional<MethodShape> shape(String service, String path) {
    Map<String, MethodShape> methods = known.get(service);
    if (methods == null) {
      if (endpointOf != null) {
        askLater(service);
      }
      return Optional.empty();
    }
    return Optional.ofNullable(methods.get(path));
  }

  /** Another sidecar's catalog asking the app's methods. */
  public static boolean isCatalogQuery(io.netty.handler.codec.http2.Http2Headers headers) {
    CharSequence path = headers.path();
    return path != null && REFLECTION_PATH.contentEquals(path)
        && QUERY_VALUE.equals(String.valueOf(headers.get(QUERY_HEADER)));
  }

  /** True when the service's methods are known and {@code path} is one of them. */
  public boolean isKnownMethod(String service, String path) {
    Map<String, MethodShape> methods = known.get(service);
    return methods != null && methods.containsKey(path);
  }

  /** True when the service's methods are known and {@code path} is not one of them. */
  public boolean isUnknownMethod(String service, String path) {
    Map<String, MethodShape> methods = known.get(service);
    return methods != null && !methods.containsKey(path);
  }

  /** For the admin page: per service, the methods learnt and their shape. */
  public String toJson() {
    StringBuilder json = new StringBuilder("{");
    String serviceSeparator = "";
    for (Map.Entry<String, Map<String, MethodShape>> service : new java.util.TreeMap<>(known).entrySet()) {
      json.append(serviceSeparator).append('"').append(service.getKey()).append("\":{");
      String methodSeparator = "";
      for (Map.Entry<String, MethodShape> method : new java.util.TreeMap<>(service.getValue()).entrySet()) {
        json.append(methodSeparator).append('"').append(method.getKey()).append("\":{\"unary\":")
            .append(method.getValue().unary()).append(",\"idempotent\":").append(method.getValue().idempotent())
            .append('}');
        methodSeparator = ",";
      }
      json.append('}');
      serviceSeparator = ",";
    }
    return json.append('}').toString();
  }

  private void askLater(String service) {
    if (asking.contains(service)) {
      return;
    }
    Long againAt = askAgainAtNanos.get(service);
    if (againAt != null && System.nanoTime() - againAt < 0) {
      return;
    }
    if (asking.add(service)) {
      askAgainAtNanos.remove(service);
      later(() -> ask(service, 0), Duration.ZERO);
    }
  }

  private void ask(String service, int retries) {
    Optional<InetSocketAddress> endpoint = endpointOf.apply(service);
    if (endpoint.isEmpty()) {
      failed(service, retries, "no endpoint known yet");
      return;
    }
    GrpcChannel channel = GrpcChannel.plaintext(netty, endpoint.get().getHostString(), endpoint.get().getPort());
    CallSettings query = CallSettings.deadline(REFLECTION_DEADLINE).withAuthority(service)
        .withHeader(QUERY_HEADER, QUERY_VALUE);
    ServerFiles.fetch(channel, query, service, ExtensionRegistryLite.getEmptyRegistry())
        .whenComplete((files, failure) -> {
          channel.close();
          if (failure != null) {
            failed(service, retries, failure.getMessage());
            return;
          }
          Map<String, MethodShape> methods = new HashMap<>();
          files.forEach(file -> addMethods(file, methods));
          known.put(service, Map.copyOf(methods));
          asking.remove(service);
          log.info("event=methods_learnt service={} methods={} retries={}", service, methods.size(), retries);
        });
  }

  private void failed(String service, int retries, String reason) {
    if (retries < PROMPT_RETRIES) {
      long delayNanos = Math.min(LONGEST_RETRY.toNanos(), FIRST_RETRY.toNanos() << retries);
      later(() -> ask(service, retries + 1), Duration.ofNanos(delayNanos));
      return;
    }
    log.info("event=methods_unknown service={} reason=\"{}\" retries={}", service, reason, retries);
    askAgainAtNanos.put(service, System.nanoTime() + ASK_AGAIN_AFTER.toNanos());
    asking.remove(service);
  }

  private void later(Runnable task, Duration delay) {
    try {
      asker.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException closed) {
      // the catalog was closed: nothing is asked any more
    }
  }

  private static void addMethods(FileDescriptorProto file, Map<String, MethodShape> methods) {
    String prefix = file.getPackage().isEmpty() ? "" : file.getPackage() + ".";
    for (ServiceDescriptorProto service : file.getServiceList()) {
      for (MethodDescriptorProto method : service.getMethodList()) {
        IdempotencyLevel level = method.getOptions().getIdempotencyLevel();
        methods.put("/" + prefix + service.getName() + "/" + method.getName(), new MethodShape(
            !method.getClientStreaming() && !method.getServerStreaming(),
            level == IdempotencyLevel.IDEMPOTENT || level == IdempotencyLevel.NO_SIDE_EFFECTS));
      }
    }
  }

  @Override
  public void close() {
    asker.shutdownNow();
  }
}
