package io.taskmesh.config;

import java.util.List;

/** Changes to a request's headers before it is sent on (a GRPCRoute RequestHeaderModifier filter). */
public record HeaderModifier(List<Header> set, List<Header> add, List<String> remove) {
  public static final HeaderModifier NONE = new HeaderModifier(List.of(), List.of(), List.of());

  public HeaderModifier {
    set = List.copyOf(set);
    add = List.copyOf(add);
    remove = List.copyOf(remove);
  }
}
