package io.taskmesh.sidecar.gateway;

import com.google.protobuf.Descriptors.MethodDescriptor;

/**
 * One {@code google.api.http} binding: an HTTP method and path template that call {@code rpc}.
 *
 * @param body {@code "*"} (the whole request message is the JSON body), a field name, or {@code ""} (no body)
 */
record HttpBinding(String httpMethod, PathTemplate template, String body, MethodDescriptor rpc) {
  /** The gRPC method path, e.g. {@code /taskservice.TaskService/GetTask}: the {@code method} of metrics. */
  String grpcPath() {
    return "/" + rpc.getService().getFullName() + "/" + rpc.getName();
  }
}
