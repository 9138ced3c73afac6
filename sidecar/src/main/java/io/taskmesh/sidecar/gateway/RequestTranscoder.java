package io.taskmesh.sidecar.gateway;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Builds the gRPC request message of an HTTP request: the JSON body (per its binding's {@code body}), then
 * query parameters, then path variables, each into the field of the same name (proto or JSON spelling,
 * dotted for nested fields). Anything that does not fit is a {@link BadRequest} naming the field.
 */
final class RequestTranscoder {
  private static final JsonFormat.Parser JSON = JsonFormat.parser();
  private static final ObjectMapper MAPPER = new ObjectMapper()
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);

  private RequestTranscoder() {}

  static DynamicMessage build(TranscodingTable.Match match, String body, Map<String, List<String>> query)
      throws BadRequest {
    HttpBinding binding = match.binding();
    Descriptor type = binding.rpc().getInputType();
    DynamicMessage.Builder request = DynamicMessage.newBuilder(type);
    if (binding.body().isEmpty()) {
      if (!body.isBlank()) {
        throw new BadRequest(binding.httpMethod() + " " + binding.template() + " takes no request body");
      }
    } else if (binding.body().equals("*")) {
      mergeJson(body, request);
    } else {
      FieldDescriptor field = field(type, binding.body());
      if (field.getJavaType() != FieldDescriptor.JavaType.MESSAGE || field.isRepeated()) {
        throw new BadRequest("body field '" + binding.body() + "' is not a message");
      }
      DynamicMessage.Builder bodyMessage = DynamicMessage.newBuilder(field.getMessageType());
      mergeJson(body, bodyMessage);
      request.setField(field, bodyMessage.build());
    }
    for (Map.Entry<String, List<String>> parameter : query.entrySet()) {
      if (match.pathVariables().containsKey(parameter.getKey())) {
        continue; // the path's value wins
      }
      for (String value : parameter.getValue()) {
        set(request, parameter.getKey(), value, "query parameter");
      }
    }
    for (Map.Entry<String, String> variable : match.pathVariables().entrySet()) {
      set(request, variable.getKey(), variable.getValue(), "path variable");
    }
    return request.build();
  }

  /** Field by field, so a wrong value is reported with the name of its field. */
  private static void mergeJson(String body, Message.Builder target) throws BadRequest {
    if (body.isBlank()) {
      return;
    }
    JsonNode root;
    try {
      root = MAPPER.readTree(body);
    } catch (JsonProcessingException e) {
      String where = e.getLocation() == null ? ""
          : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
      throw new BadRequest("malformed JSON" + where + ": " + e.getOriginalMessage());
    }
    if (!root.isObject()) {
      throw new BadRequest("the request body must be a JSON object, got: " + abbreviate(root.toString()));
    }
    for (Map.Entry<String, JsonNode> entry : root.properties()) {
      field(target.getDescriptorForType(), entry.getKey());
      ObjectNode single = MAPPER.createObjectNode();
      single.set(entry.getKey(), entry.getValue());
      try {
        JSON.merge(single.toString(), target);
      } catch (InvalidProtocolBufferException | RuntimeException e) {
        throw new BadRequest("field '" + entry.getKey() + "': " + e.getMessage());
      }
    }
  }

  /** Sets a (possibly dotted) field path from its text form. */
  private static void set(Message.Builder target, String path, String text, String source) throws BadRequest {
    int dot = path.indexOf('.');
    if (dot >= 0) {
      FieldDescriptor parent = field(target.getDescriptorForType(), path.substring(0, dot), source, path);
      if (parent.getJavaType() != FieldDescriptor.JavaType.MESSAGE || parent.isRepeated()) {
        throw new BadRequest(source + " '" + path + "': '" + parent.getName() + "' is not a message");
      }
      Message.Builder nested = ((Message) target.getField(parent)).toBuilder();
      set(nested, path.substring(dot + 1), text, source);
      target.setField(parent, nested.build());
      return;
    }
    FieldDescriptor field = field(target.getDescriptorForType(), path, source, path);
    Object value = scalar(field, text, source);
    if (field.isRepeated()) {
      target.addRepeatedField(field, value);
    } else {
      target.setField(field, value);
    }
  }

  private static Object scalar(FieldDescriptor field, String text, String source) throws BadRequest {
    try {
      return switch (field.getType()) {
        case STRING -> text;
        case BOOL -> switch (text) {
          case "true" -> true;
          case "false" -> false;
          default -> throw new NumberFormatException("not true or false");
        };
        case INT32, SINT32, SFIXED32 -> Integer.parseInt(text);
        case UINT32, FIXED32 -> Integer.parseUnsignedInt(text);
        case INT64, SINT64, SFIXED64 -> Long.parseLong(text);
        case UINT64, FIXED64 -> Long.parseUnsignedLong(text);
        case FLOAT -> Float.parseFloat(text);
        case DOUBLE -> Double.parseDouble(text);
        case BYTES -> ByteString.copyFrom(Base64.getUrlDecoder().decode(text.replace('+', '-').replace('/', '_')));
        case ENUM -> enumValue(field, text);
        default -> throw new BadRequest(source + " '" + field.getName() + "' is a message and cannot be set from text");
      };
    } catch (IllegalArgumentException e) {
      throw new BadRequest(source + " '" + field.getName() + "': '" + abbreviate(text) + "' is not a valid "
          + field.getType().name().toLowerCase(Locale.ROOT));
    }
  }

  private static EnumValueDescriptor enumValue(FieldDescriptor field, String text) {
    EnumValueDescriptor value = field.getEnumType().findValueByName(text);
    if (value == null) {
      value = field.getEnumType().findValueByNumber(Integer.parseInt(text));
    }
    if (value == null) {
      throw new IllegalArgumentException("no such enum value");
    }
    return value;
  }

  private static FieldDescriptor field(Descriptor type, String name) throws BadRequest {
    return field(type, name, "field", name);
  }

  private static FieldDescriptor field(Descriptor type, String name, String source, String path) throws BadRequest {
    FieldDescriptor field = type.findFieldByName(name);
    if (field == null) {
      field = type.getFields().stream().filter(f -> f.getJsonName().equals(name)).findFirst().orElse(null);
    }
    if (field == null) {
      throw new BadRequest("unknown " + source + " '" + path + "': " + type.getFullName() + " has no field '" + name + "'");
    }
    return field;
  }

  private static String abbreviate(String text) {
    return text.length() <= 64 ? text : text.substring(0, 64) + "...";
  }
}
