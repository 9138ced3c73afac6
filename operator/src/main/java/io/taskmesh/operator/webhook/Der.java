package io.taskmesh.operator.webhook;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

/**
 * The few ASN.1 DER encodings an X.509 certificate needs. The JDK can sign and parse certificates but has
 * no public API to build one, and BouncyCastle is only a test dependency here.
 */
final class Der {
  private static final DateTimeFormatter UTC_TIME = DateTimeFormatter.ofPattern("yyMMddHHmmss'Z'");
  private static final DateTimeFormatter GENERALIZED_TIME = DateTimeFormatter.ofPattern("yyyyMMddHHmmss'Z'");

  private Der() {}

  static byte[] sequence(byte[]... items) {
    return tagged(0x30, concat(items));
  }

  static byte[] set(byte[]... items) {
    return tagged(0x31, concat(items));
  }

  static byte[] integer(BigInteger value) {
    return tagged(0x02, value.toByteArray());
  }

  static byte[] bool(boolean value) {
    return tagged(0x01, new byte[] {(byte) (value ? 0xff : 0x00)});
  }

  static byte[] nullValue() {
    return new byte[] {0x05, 0x00};
  }

  static byte[] octetString(byte[] value) {
    return tagged(0x04, value);
  }

  /** A BIT STRING whose last {@code unusedBits} bits are padding. */
  static byte[] bitString(int unusedBits, byte[] value) {
    byte[] content = new byte[value.length + 1];
    content[0] = (byte) unusedBits;
    System.arraycopy(value, 0, content, 1, value.length);
    return tagged(0x03, content);
  }

  static byte[] utf8String(String value) {
    return tagged(0x0c, value.getBytes(StandardCharsets.UTF_8));
  }

  /** RFC 5280: UTCTime through 2049, GeneralizedTime after. */
  static byte[] time(ZonedDateTime instant) {
    ZonedDateTime utc = instant.withZoneSameInstant(ZoneOffset.UTC);
    return utc.getYear() < 2050
        ? tagged(0x17, UTC_TIME.format(utc).getBytes(StandardCharsets.US_ASCII))
        : tagged(0x18, GENERALIZED_TIME.format(utc).getBytes(StandardCharsets.US_ASCII));
  }

  static byte[] oid(String dotted) {
    String[] arcs = dotted.split("\\.");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(Integer.parseInt(arcs[0]) * 40 + Integer.parseInt(arcs[1]));
    for (int i = 2; i < arcs.length; i++) {
      long arc = Long.parseLong(arcs[i]);
      int groups = Math.max(1, (64 - Long.numberOfLeadingZeros(arc) + 6) / 7);
      for (int g = groups - 1; g >= 0; g--) {
        int sevenBits = (int) ((arc >> (7 * g)) & 0x7f);
        out.write(g == 0 ? sevenBits : sevenBits | 0x80);
      }
    }
    return tagged(0x06, out.toByteArray());
  }

  /** A context-specific tag: {@code [number]}, constructed (EXPLICIT) or primitive (IMPLICIT of a string). */
  static byte[] contextTag(int number, boolean constructed, byte[] content) {
    return tagged(0x80 | (constructed ? 0x20 : 0) | number, content);
  }

  static byte[] tagged(int tag, byte[] content) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(tag);
    int length = content.length;
    if (length < 0x80) {
      out.write(length);
    } else {
      byte[] lengthBytes = BigInteger.valueOf(length).toByteArray();
      int skip = lengthBytes[0] == 0 ? 1 : 0;
      out.write(0x80 | (lengthBytes.length - skip));
      out.write(lengthBytes, skip, lengthBytes.length - skip);
    }
    out.writeBytes(content);
    return out.toByteArray();
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }
}
