package io.taskmesh.sidecar.gateway;

import com.google.protobuf.DynamicMessage;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.Map;

/** A unary call's answer: its message as one JSON body, or its status as a JSON error. */
final class UnaryResponse extends ClientCall.Listener<DynamicMessage> {
  private final Exchange exchange;
  private final Runnable onUnimplemented;
  private DynamicMessage response;

  /** @param onUnimplemented told when the service does not know the method (its descriptors may be stale) */
  UnaryResponse(Exchange exchange, Runnable onUnimplemented) {
    this.exchange = exchange;
    this.onUnimplemented = onUnimplemented;
  }

  @Override
  public void onMessage(DynamicMessage message) {
    response = message;
  }

  @Override
  public void onClose(Status status, Metadata trailers) {
    if (status.getCode() == Status.Code.UNIMPLEMENTED) {
      onUnimplemented.run();
    }
    if (!status.isOk()) {
      ResponseJson.failed(exchange, status, trailers);
    } else if (response == null) {
      exchange.error(502, "INTERNAL", "the upstream ended the call without a response message", "no_response", Map.of());
    } else {
      exchange.respond(200, "application/json", ResponseJson.print(response), Map.of());
    }
  }
}
