package io.taskmesh.sidecar.gateway;

import com.google.api.AnnotationsProto;
import com.google.api.HttpProto;
import com.google.protobuf.DescriptorProtos;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Descriptors.DescriptorValidationException;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.ExtensionRegistry;
import com.google.protobuf.InvalidProtocolBufferException;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Turns serialized file descriptors (a descriptor-set file, or server reflection's answers) into linked ones. */
final class Descriptors {
  /** Knows {@code google.api.http}, so method options keep their HTTP rules when parsed. */
  static final ExtensionRegistry REGISTRY = registry();

  /** Files every annotated proto imports; used when a source leaves them out. */
  private static final Map<String, FileDescriptor> BUILT_IN = Map.of(
      "google/protobuf/descriptor.proto", DescriptorProtos.getDescriptor(),
      "google/api/annotations.proto", AnnotationsProto.getDescriptor(),
      "google/api/http.proto", HttpProto.getDescriptor());

  private Descriptors() {}

  private static ExtensionRegistry registry() {
    ExtensionRegistry registry = ExtensionRegistry.newInstance();
    AnnotationsProto.registerAllExtensions(registry);
    return registry;
  }

  static List<FileDescriptor> fromDescriptorSet(byte[] bytes) throws InvalidProtocolBufferException {
    return link(FileDescriptorSet.parseFrom(bytes, REGISTRY).getFileList());
  }

  /** Links files to their dependencies; fails naming a file whose imports are missing or invalid. */
  static List<FileDescriptor> link(Collection<FileDescriptorProto> files) {
    Map<String, FileDescriptorProto> byName = new LinkedHashMap<>();
    files.forEach(file -> byName.put(file.getName(), file));
    Map<String, FileDescriptor> linked = new HashMap<>();
    for (String name : byName.keySet()) {
      link(name, byName, linked);
    }
    return byName.keySet().stream().map(linked::get).toList();
  }

  private static FileDescriptor link(String name, Map<String, FileDescriptorProto> byName,
      Map<String, FileDescriptor> linked) {
    FileDescriptor done = linked.get(name);
    if (done != null) {
      return done;
    }
    FileDescriptorProto proto = byName.get(name);
    if (proto == null) {
      FileDescriptor builtIn = BUILT_IN.get(name);
      if (builtIn == null) {
        throw new IllegalArgumentException("descriptor file '" + name + "' is imported but not provided");
      }
      return builtIn;
    }
    FileDescriptor[] dependencies = proto.getDependencyList().stream()
        .map(dependency -> link(dependency, byName, linked))
        .toArray(FileDescriptor[]::new);
    try {
      FileDescriptor file = FileDescriptor.buildFrom(proto, dependencies);
      linked.put(name, file);
      return file;
    } catch (DescriptorValidationException e) {
      throw new IllegalArgumentException("descriptor file '" + name + "' is invalid: " + e.getMessage(), e);
    }
  }
}
