package io.taskmesh.sidecar.support;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto.Label;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto.Type;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.DescriptorValidationException;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.MethodDescriptor;
import java.util.Map;

/**
 * The task service as a client built from the original TypeScript design's task.proto sees it, assembled
 * here field by field (name, number, type) without the project's generated classes: requests are built and
 * responses decoded as {@link DynamicMessage}s of these descriptors, and travel as plain bytes.
 */
public final class SeedTaskWire {
  public static final String SERVICE = "taskservice.TaskService";
  private static final FileDescriptor FILE = build();

  private SeedTaskWire() {}

  public static Descriptor type(String name) {
    Descriptor type = FILE.findMessageTypeByName(name);
    if (type == null) {
      throw new IllegalArgumentException("the seed's task.proto has no message " + name);
    }
    return type;
  }

  /** A request message with the given fields set; any field left out is not on the wire, as in proto3. */
  public static byte[] encode(String type, Map<String, Object> fields) {
    Descriptor descriptor = type(type);
    DynamicMessage.Builder message = DynamicMessage.newBuilder(descriptor);
    fields.forEach((name, value) -> {
      var field = descriptor.findFieldByName(name);
      if (field == null) {
        throw new IllegalArgumentException(type + " has no field " + name);
      }
      if (field.isRepeated()) {
        ((Iterable<?>) value).forEach(item -> message.addRepeatedField(field, item));
      } else {
        message.setField(field, value);
      }
    });
    return message.build().toByteArray();
  }

  public static DynamicMessage decode(String type, byte[] bytes) {
    try {
      return DynamicMessage.parseFrom(type(type), bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError("a " + type + " the seed's clients cannot parse: " + e.getMessage(), e);
    }
  }

  public static MethodDescriptor<byte[], byte[]> method(String name, boolean serverStreaming) {
    return MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(serverStreaming ? MethodDescriptor.MethodType.SERVER_STREAMING : MethodDescriptor.MethodType.UNARY)
        .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, name))
        .setRequestMarshaller(RawBytesMarshaller.INSTANCE)
        .setResponseMarshaller(RawBytesMarshaller.INSTANCE)
        .build();
  }

  private static FileDescriptor build() {
    FileDescriptorProto file = FileDescriptorProto.newBuilder()
        .setName("seed/task.proto")
        .setPackage("taskservice")
        .setSyntax("proto3")
        .addMessageType(message("CreateTaskRequest",
            field("title", 1, Type.TYPE_STRING), field("description", 2, Type.TYPE_STRING),
            field("priority", 3, Type.TYPE_STRING), field("status", 4, Type.TYPE_STRING),
            field("user_id", 5, Type.TYPE_INT32), field("project_id", 6, Type.TYPE_INT32)))
        .addMessageType(message("TaskResponse",
            field("id", 1, Type.TYPE_INT32), field("title", 2, Type.TYPE_STRING),
            field("description", 3, Type.TYPE_STRING), field("priority", 4, Type.TYPE_STRING),
            field("status", 5, Type.TYPE_STRING), field("user_id", 6, Type.TYPE_INT32),
            field("project_id", 7, Type.TYPE_INT32), field("created_at", 8, Type.TYPE_STRING),
            field("updated_at", 9, Type.TYPE_STRING)))
        .addMessageType(message("GetTaskRequest", field("id", 1, Type.TYPE_INT32)))
        .addMessageType(message("UpdateTaskRequest",
            field("id", 1, Type.TYPE_INT32), field("title", 2, Type.TYPE_STRING),
            field("description", 3, Type.TYPE_STRING), field("priority", 4, Type.TYPE_STRING),
            field("status", 5, Type.TYPE_STRING)))
        .addMessageType(message("DeleteTaskRequest", field("id", 1, Type.TYPE_INT32)))
        .addMessageType(message("DeleteResponse",
            field("success", 1, Type.TYPE_BOOL), field("message", 2, Type.TYPE_STRING)))
        .addMessageType(message("ListTasksRequest",
            field("user_id", 1, Type.TYPE_INT32), field("limit", 2, Type.TYPE_INT32),
            field("offset", 3, Type.TYPE_INT32), field("status", 4, Type.TYPE_STRING)))
        .addMessageType(message("TaskSubscriptionRequest",
            field("user_id", 1, Type.TYPE_INT32), field("task_ids", 2, Type.TYPE_INT32).setLabel(Label.LABEL_REPEATED)))
        .addMessageType(message("TaskUpdateEvent",
            field("event_type", 1, Type.TYPE_STRING),
            field("task", 2, Type.TYPE_MESSAGE).setTypeName(".taskservice.TaskResponse"),
            field("timestamp", 3, Type.TYPE_STRING)))
        .build();
    try {
      return FileDescriptor.buildFrom(file, new FileDescriptor[0]);
    } catch (DescriptorValidationException e) {
      throw new IllegalStateException(e);
    }
  }

  private static DescriptorProto message(String name, FieldDescriptorProto.Builder... fields) {
    DescriptorProto.Builder message = DescriptorProto.newBuilder().setName(name);
    for (FieldDescriptorProto.Builder field : fields) {
      message.addField(field);
    }
    return message.build();
  }

  private static FieldDescriptorProto.Builder field(String name, int number, Type type) {
    return FieldDescriptorProto.newBuilder().setName(name).setNumber(number).setType(type)
        .setLabel(Label.LABEL_OPTIONAL).setJsonName(name);
  }
}
