package io.taskmesh.sidecar.rpc;

import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;

/**
 * One method of a service, as the wire names it: {@code /package.Service/Method}, and how its responses parse.
 *
 * @param <Q> the request message
 * @param <R> the response message
 */
public record GrpcMethod<Q extends MessageLite, R extends MessageLite>(String path, Parser<R> responses) {
  public GrpcMethod {
    if (!path.startsWith("/") || path.indexOf('/', 1) < 0) {
      throw new IllegalArgumentException("a gRPC method path is /package.Service/Method, not '" + path + "'");
    }
  }

  public static <Q extends MessageLite, R extends MessageLite> GrpcMethod<Q, R> of(String service, String method,
      Parser<R> responses) {
    return new GrpcMethod<>("/" + service + "/" + method, responses);
  }
}
