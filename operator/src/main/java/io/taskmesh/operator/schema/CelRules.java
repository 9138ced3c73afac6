package io.taskmesh.operator.schema;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Evaluates a CRD's {@code x-kubernetes-validations} rule with cel-java, {@code self} bound to the value at
 * the rule's node, as the API server does. Unlike the API server it types {@code self} as dyn rather than by
 * the schema, so it checks what a rule decides, not that the API server would type-check it.
 */
public final class CelRules {
  private static final CelCompiler COMPILER =
      CelCompilerFactory.standardCelCompilerBuilder().setStandardMacros(CelStandardMacro.STANDARD_MACROS)
          .addVar("self", SimpleType.DYN).build();
  private static final CelRuntime RUNTIME = CelRuntimeFactory.standardCelRuntimeBuilder().build();

  private CelRules() {}

  /** @throws IllegalArgumentException when the rule does not compile or does not give a bool */
  public static boolean holds(String rule, JsonNode self) {
    try {
      CelAbstractSyntaxTree ast = COMPILER.compile(rule).getAst();
      Object result = RUNTIME.createProgram(ast).eval(Map.of("self", toCel(self)));
      if (!(result instanceof Boolean holds)) {
        throw new IllegalArgumentException("rule " + rule + " gave " + result + ", not a bool");
      }
      return holds;
    } catch (IllegalArgumentException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalArgumentException("rule " + rule + " cannot be evaluated: " + e.getMessage(), e);
    }
  }

  private static Object toCel(JsonNode node) {
    if (node.isObject()) {
      Map<String, Object> map = new LinkedHashMap<>();
      node.fields().forEachRemaining(field -> map.put(field.getKey(), toCel(field.getValue())));
      return map;
    }
    if (node.isArray()) {
      List<Object> list = new ArrayList<>();
      node.forEach(item -> list.add(toCel(item)));
      return list;
    }
    if (node.isIntegralNumber()) {
      return node.asLong();
    }
    if (node.isNumber()) {
      return node.asDouble();
    }
    if (node.isBoolean()) {
      return node.asBoolean();
    }
    return node.asText();
  }
}
