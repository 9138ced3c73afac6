package io.taskmesh.sidecar.gateway;

import com.google.api.HttpRule;
import com.google.protobuf.DescriptorProtos.MethodOptions;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/** The HTTP bindings of a set of gRPC services, found by method and path. */
final class TranscodingTable {
  /** A request's binding and the path variables it bound. */
  record Match(HttpBinding binding, Map<String, String> pathVariables) {}

  private final List<HttpBinding> bindings;

  private TranscodingTable(List<HttpBinding> bindings) {
    this.bindings = List.copyOf(bindings);
  }

  /** Every annotated unary or server-streaming method of every service in {@code files}. */
  static TranscodingTable of(Collection<FileDescriptor> files) {
    List<HttpBinding> bindings = new ArrayList<>();
    for (FileDescriptor file : files) {
      for (ServiceDescriptor service : file.getServices()) {
        for (MethodDescriptor method : service.getMethods()) {
          if (!method.isClientStreaming()) {
            HttpRule rule = httpRule(method);
            addBinding(bindings, rule, method);
            rule.getAdditionalBindingsList().forEach(additional -> addBinding(bindings, additional, method));
          }
        }
      }
    }
    return new TranscodingTable(bindings);
  }

  List<HttpBinding> bindings() {
    return bindings;
  }

  Optional<Match> find(String httpMethod, String path) {
    for (HttpBinding binding : bindings) {
      if (binding.httpMethod().equals(httpMethod)) {
        Optional<Map<String, String>> variables = binding.template().match(path);
        if (variables.isPresent()) {
          return Optional.of(new Match(binding, variables.get()));
        }
      }
    }
    return Optional.empty();
  }

  /** The HTTP methods bound to {@code path}: for a 405's {@code Allow} when the request's method is not among them. */
  Set<String> methodsFor(String path) {
    Set<String> methods = new TreeSet<>();
    for (HttpBinding binding : bindings) {
      if (binding.template().match(path).isPresent()) {
        methods.add(binding.httpMethod());
      }
    }
    return methods;
  }

  /** Options are parsed again with the registry in case the source linked them without knowing the extension. */
  private static HttpRule httpRule(MethodDescriptor method) {
    try {
      return MethodOptions.parseFrom(method.getOptions().toByteString(), Descriptors.REGISTRY)
          .getExtension(com.google.api.AnnotationsProto.http);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("options of " + method.getFullName() + " cannot be read", e);
    }
  }

  private static void addBinding(List<HttpBinding> bindings, HttpRule rule, MethodDescriptor method) {
    String httpMethod;
    String template;
    switch (rule.getPatternCase()) {
      case GET -> { httpMethod = "GET"; template = rule.getGet(); }
      case POST -> { httpMethod = "POST"; template = rule.getPost(); }
      case PUT -> { httpMethod = "PUT"; template = rule.getPut(); }
      case PATCH -> { httpMethod = "PATCH"; template = rule.getPatch(); }
      case DELETE -> { httpMethod = "DELETE"; template = rule.getDelete(); }
      case CUSTOM -> { httpMethod = rule.getCustom().getKind(); template = rule.getCustom().getPath(); }
      default -> { return; }
    }
    bindings.add(new HttpBinding(httpMethod, PathTemplate.parse(template), rule.getBody(), method));
  }
}
