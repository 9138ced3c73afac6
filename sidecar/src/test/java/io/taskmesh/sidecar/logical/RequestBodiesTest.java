package io.taskmesh.sidecar.logical;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import java.io.ByteArrayOutputStream;
import org.junit.jupiter.api.Test;

class RequestBodiesTest {
  @Test
  void protobufMessagesInTheirLengthPrefixesAreWellFormed() {
    byte[] message = StringValue.of("task-1").toByteArray();

    assertThat(RequestBodies.isWellFormed(framed(0, message))).isTrue();
    assertThat(RequestBodies.isWellFormed(concat(framed(0, message), framed(0, new byte[0])))).as("two messages").isTrue();
    assertThat(RequestBodies.isWellFormed(new byte[0])).as("no message at all").isTrue();
    assertThat(RequestBodies.isWellFormed(framed(1, new byte[] {(byte) 0xff}))).as("compressed: not judged").isTrue();
  }

  @Test
  void bytesThatAreNotProtobufOrNotFramedAreMalformed() {
    assertThat(RequestBodies.isWellFormed(framed(0, new byte[] {(byte) 0xff, (byte) 0xff, 0x01}))).isFalse();
    assertThat(RequestBodies.isWellFormed(framed(0, new byte[] {0x0a, 0x7f, 0x41}))).as("a field longer than the message").isFalse();
    assertThat(RequestBodies.isWellFormed(framed(7, new byte[0]))).as("a compressed flag of 7").isFalse();
    assertThat(RequestBodies.isWellFormed(new byte[] {0, 0, 0})).as("a cut prefix").isFalse();
    byte[] cut = framed(0, StringValue.of("task-1").toByteArray());
    assertThat(RequestBodies.isWellFormed(java.util.Arrays.copyOf(cut, cut.length - 1))).as("a cut message").isFalse();
  }

  private static byte[] framed(int compressed, byte[] message) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(compressed);
    out.write(message.length >>> 24);
    out.write(message.length >>> 16);
    out.write(message.length >>> 8);
    out.write(message.length);
    out.writeBytes(message);
    return out.toByteArray();
  }

  private static byte[] concat(byte[] first, byte[] second) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(first);
    out.writeBytes(second);
    return out.toByteArray();
  }
}
