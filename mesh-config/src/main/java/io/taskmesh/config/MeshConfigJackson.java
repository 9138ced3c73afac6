package io.taskmesh.config;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.Module;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdScalarSerializer;
import java.io.IOException;
import java.time.Duration;

/** Jackson support for documents that embed these records: durations read and written as {@code 5s}. */
public final class MeshConfigJackson {
  private MeshConfigJackson() {}

  public static Module module() {
    SimpleModule module = new SimpleModule("taskmesh-mesh-config");
    module.addSerializer(Duration.class, new DurationSerializer());
    module.addDeserializer(Duration.class, new DurationDeserializer());
    return module;
  }

  private static final class DurationSerializer extends StdScalarSerializer<Duration> {
    private static final long serialVersionUID = 1L;

    DurationSerializer() {
      super(Duration.class);
    }

    @Override
    public void serialize(Duration value, JsonGenerator generator, SerializerProvider provider) throws IOException {
      generator.writeString(Durations.format(value));
    }
  }

  private static final class DurationDeserializer extends StdScalarDeserializer<Duration> {
    private static final long serialVersionUID = 1L;

    DurationDeserializer() {
      super(Duration.class);
    }

    @Override
    public Duration deserialize(JsonParser parser, DeserializationContext context) throws IOException {
      String text = parser.getValueAsString();
      try {
        return Durations.parse(text == null ? parser.getText() : text);
      } catch (IllegalArgumentException e) {
        return (Duration) context.handleWeirdStringValue(Duration.class, String.valueOf(text), e.getMessage());
      }
    }
  }
}
