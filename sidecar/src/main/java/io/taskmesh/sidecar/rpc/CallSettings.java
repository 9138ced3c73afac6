package io.taskmesh.sidecar.rpc;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What one call adds to its channel's defaults: a deadline (sent as {@code grpc-timeout} and enforced here), another
 * {@code :authority}, and metadata headers.
 */
public record CallSettings(Optional<Duration> deadline, Optional<String> authority, Map<String, String> metadata) {
  public static final CallSettings NONE = new CallSettings(Optional.empty(), Optional.empty(), Map.of());

  public CallSettings {
    metadata = Map.copyOf(metadata);
  }

  public static CallSettings deadline(Duration deadline) {
    return NONE.withDeadline(deadline);
  }

  public CallSettings withDeadline(Duration newDeadline) {
    return new CallSettings(Optional.of(newDeadline), authority, metadata);
  }

  public CallSettings withAuthority(String newAuthority) {
    return new CallSettings(deadline, Optional.of(newAuthority), metadata);
  }

  public CallSettings withHeader(String name, String value) {
    Map<String, String> headers = new LinkedHashMap<>(metadata);
    headers.put(name, value);
    return new CallSettings(deadline, authority, headers);
  }
}
