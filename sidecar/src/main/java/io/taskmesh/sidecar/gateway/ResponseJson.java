package io.taskmesh.sidecar.gateway;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.grpc.Metadata;
import io.grpc.Status;
import io.taskmesh.sidecar.codec.ProxyError;
import java.util.LinkedHashMap;
import java.util.Map;

/** Response messages as JSON (proto field names, every field shown), and what an upstream's failure becomes. */
final class ResponseJson {
  private static final JsonFormat.Printer PRINTER = JsonFormat.printer()
      .preservingProtoFieldNames()
      .alwaysPrintFieldsWithNoPresence()
      .omittingInsignificantWhitespace();
  private static final Metadata.Key<String> ERROR_KEY =
      Metadata.Key.of(ProxyError.ERROR_HEADER, Metadata.ASCII_STRING_MARSHALLER);

  private ResponseJson() {}

  static String print(Message message) {
    try {
      return PRINTER.print(message);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("cannot print " + message.getDescriptorForType().getFullName(), e);
    }
  }

  /** Answers a failed call with the mapped HTTP status; a proxy hop's {@code taskmesh-error} is passed on. */
  static void failed(Exchange exchange, Status status, Metadata trailers) {
    Map<String, String> headers = new LinkedHashMap<>();
    String proxyError = trailers == null ? null : trailers.get(ERROR_KEY);
    if (proxyError != null) {
      headers.put(ProxyError.ERROR_HEADER, proxyError);
    }
    exchange.error(HttpStatuses.of(status.getCode()), status.getCode().name(),
        status.getDescription() == null ? status.getCode().name() : status.getDescription(), null, headers);
  }
}
