package io.taskmesh.sidecar.gateway;

import com.google.protobuf.DynamicMessage;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;

/**
 * A server stream's answer: one JSON object per line (NDJSON), or one Server-Sent Event per message when the
 * client asked for {@code text/event-stream}. The head is sent with the first message, so a call that fails
 * before any still gets its mapped HTTP status; a failure later ends the stream with an error line/event.
 * The next message is requested only when the last one was written, so a slow client slows the stream.
 */
final class StreamingResponse extends ClientCall.Listener<DynamicMessage> {
  private final Exchange exchange;
  private final ClientCall<DynamicMessage, DynamicMessage> call;
  private final boolean sse;
  private final Runnable onUnimplemented;
  private boolean started;

  /** @param onUnimplemented told when the service does not know the method (its descriptors may be stale) */
  StreamingResponse(Exchange exchange, ClientCall<DynamicMessage, DynamicMessage> call, boolean sse,
      Runnable onUnimplemented) {
    this.exchange = exchange;
    this.call = call;
    this.sse = sse;
    this.onUnimplemented = onUnimplemented;
  }

  @Override
  public void onMessage(DynamicMessage message) {
    start();
    String json = ResponseJson.print(message);
    exchange.writeChunk(sse ? "data: " + json + "\n\n" : json + "\n").addListener(written -> {
      if (written.isSuccess()) {
        call.request(1);
      }
    });
  }

  @Override
  public void onClose(Status status, Metadata trailers) {
    if (status.getCode() == Status.Code.UNIMPLEMENTED) {
      onUnimplemented.run();
    }
    if (!started && !status.isOk()) {
      ResponseJson.failed(exchange, status, trailers);
      return;
    }
    start();
    if (!status.isOk()) {
      String error = exchange.errorJson(status.getCode().name(),
          status.getDescription() == null ? status.getCode().name() : status.getDescription());
      exchange.writeChunk(sse ? "event: error\ndata: " + error + "\n\n" : "{\"error\":" + error + "}\n");
    }
    exchange.endStream();
  }

  private void start() {
    if (!started) {
      started = true;
      exchange.startStream(200, sse ? "text/event-stream" : "application/x-ndjson");
    }
  }
}
