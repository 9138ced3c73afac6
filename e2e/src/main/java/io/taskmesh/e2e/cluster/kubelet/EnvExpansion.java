package io.taskmesh.e2e.cluster.kubelet;

import java.util.Map;

/** Kubernetes' {@code $(VAR_NAME)} expansion in env values, command and args: unknown names stay as written. */
final class EnvExpansion {
  private EnvExpansion() {}

  static String expand(String value, Map<String, String> env) {
    StringBuilder out = new StringBuilder();
    int i = 0;
    while (i < value.length()) {
      char c = value.charAt(i);
      if (c == '$' && i + 1 < value.length() && value.charAt(i + 1) == '$') {
        out.append('$');
        i += 2;
      } else if (c == '$' && i + 1 < value.length() && value.charAt(i + 1) == '(') {
        int end = value.indexOf(')', i + 2);
        String name = end < 0 ? null : value.substring(i + 2, end);
        if (name != null && env.containsKey(name)) {
          out.append(env.get(name));
          i = end + 1;
        } else {
          out.append(c);
          i++;
        }
      } else {
        out.append(c);
        i++;
      }
    }
    return out.toString();
  }
}
