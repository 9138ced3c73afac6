package io.taskmesh.e2e.cluster.apiserver;

import java.util.ArrayList;
import java.util.List;

/** Warnings for the client, sent as {@code Warning: 299 - "..."} headers, as the API server does. */
final class Warnings {
  private final List<String> messages = new ArrayList<>();

  void add(String message) {
    messages.add(message);
  }

  List<String> headers() {
    return messages.stream().map(message -> "299 - \"" + message.replace("\"", "\\\"") + "\"").toList();
  }
}
