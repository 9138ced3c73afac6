package io.taskmesh.sidecar.route;

import io.netty.util.AsciiString;
import java.time.Duration;
import java.util.Optional;

/**
 * The {@code grpc-timeout} header: at most 8 digits and a unit (H, M, S, m, u, n), per the gRPC HTTP/2
 * protocol. Each hop forwards only the time that is left, so a deadline stays absolute across hops.
 */
public final class GrpcTimeout {
  /** An AsciiString: Netty's headers hash and compare it by its bytes, not character by character. */
  public static final AsciiString HEADER = AsciiString.cached("grpc-timeout");
  private static final long MAX_VALUE = 99_999_999L;

  private GrpcTimeout() {}

  /** The timeout in the header, or empty when it is malformed (a malformed header is ignored, as grpc-java does). */
  public static Optional<Duration> parse(CharSequence header) {
    if (header == null || header.length() < 2 || header.length() > 9) {
      return Optional.empty();
    }
    long value = 0;
    for (int i = 0; i < header.length() - 1; i++) {
      char c = header.charAt(i);
      if (c < '0' || c > '9') {
        return Optional.empty();
      }
      value = value * 10 + (c - '0');
    }
    return switch (header.charAt(header.length() - 1)) {
      case 'H' -> Optional.of(Duration.ofHours(value));
      case 'M' -> Optional.of(Duration.ofMinutes(value));
      case 'S' -> Optional.of(Duration.ofSeconds(value));
      case 'm' -> Optional.of(Duration.ofMillis(value));
      case 'u' -> Optional.of(Duration.ofNanos(value * 1_000));
      case 'n' -> Optional.of(Duration.ofNanos(value));
      default -> Optional.empty();
    };
  }

  /**
   * The finest unit whose value fits in 8 digits, rounded up. Callers check that time is left first: a
   * spent deadline is answered with DEADLINE_EXCEEDED, not forwarded. ASCII bytes, which the HTTP/2 codec
   * validates and encodes without walking a String's characters: a hop sends it on with every request.
   */
  public static AsciiString format(Duration remaining) {
    long nanos = Math.max(1, remaining.toNanos());
    if (nanos <= MAX_VALUE) {
      return withUnit(nanos, 'n');
    }
    long micros = ceilDiv(nanos, 1_000);
    if (micros <= MAX_VALUE) {
      return withUnit(micros, 'u');
    }
    long millis = ceilDiv(nanos, 1_000_000);
    if (millis <= MAX_VALUE) {
      return withUnit(millis, 'm');
    }
    long seconds = ceilDiv(nanos, 1_000_000_000);
    if (seconds <= MAX_VALUE) {
      return withUnit(seconds, 'S');
    }
    long minutes = ceilDiv(seconds, 60);
    if (minutes <= MAX_VALUE) {
      return withUnit(minutes, 'M');
    }
    return withUnit(Math.min(ceilDiv(minutes, 60), MAX_VALUE), 'H');
  }

  /** At most 8 digits and the unit, written as bytes from the last one back. */
  private static AsciiString withUnit(long value, char unit) {
    byte[] text = new byte[9];
    int start = text.length - 1;
    text[start] = (byte) unit;
    long rest = value;
    do {
      text[--start] = (byte) ('0' + rest % 10);
      rest /= 10;
    } while (rest > 0);
    return new AsciiString(text, start, text.length - start, false);
  }

  private static long ceilDiv(long value, long divisor) {
    return (value + divisor - 1) / divisor;
  }
}
