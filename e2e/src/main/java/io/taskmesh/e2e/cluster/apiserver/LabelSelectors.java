package io.taskmesh.e2e.cluster.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** Kubernetes label selectors ({@code matchLabels}, {@code matchExpressions}) over a labels object. */
final class LabelSelectors {
  private LabelSelectors() {}

  /** A missing or empty selector matches everything, as in the API. */
  static boolean matches(JsonNode selector, JsonNode labels) {
    if (selector == null || selector.isMissingNode() || selector.isNull()) {
      return true;
    }
    for (Iterator<Map.Entry<String, JsonNode>> wanted = selector.path("matchLabels").fields(); wanted.hasNext(); ) {
      Map.Entry<String, JsonNode> label = wanted.next();
      if (!label.getValue().asText().equals(labels.path(label.getKey()).asText(null))) {
        return false;
      }
    }
    for (JsonNode expression : selector.path("matchExpressions")) {
      String key = expression.path("key").asText();
      List<String> values = new ArrayList<>();
      expression.path("values").forEach(value -> values.add(value.asText()));
      boolean present = labels.has(key);
      String value = labels.path(key).asText();
      boolean holds = switch (expression.path("operator").asText()) {
        case "In" -> present && values.contains(value);
        case "NotIn" -> !present || !values.contains(value);
        case "Exists" -> present;
        case "DoesNotExist" -> !present;
        default -> throw new ApiException(422, "Invalid", "unknown label selector operator "
            + expression.path("operator").asText());
      };
      if (!holds) {
        return false;
      }
    }
    return true;
  }
}
