package io.taskmesh.config;

import io.taskmesh.discovery.v1.RouteTable;
import java.time.Duration;
import java.util.List;

/**
 * Route rules as discovery carries them ({@code EndpointSet.routes}) and back: the control plane writes
 * them, a proxy reads them. The two sides share this class so that a rule reads back equal to what was sent.
 */
public final class RouteTableMessages {
  private RouteTableMessages() {}

  public static RouteTable toMessage(long version, List<RouteRule> rules) {
    RouteTable.Builder table = RouteTable.newBuilder().setVersion(version);
    for (RouteRule rule : rules) {
      io.taskmesh.discovery.v1.RouteRule.Builder message = io.taskmesh.discovery.v1.RouteRule.newBuilder()
          .setRequestHeaders(io.taskmesh.discovery.v1.HeaderModifier.newBuilder()
              .addAllSet(toMessages(rule.requestHeaders().set()))
              .addAllAdd(toMessages(rule.requestHeaders().add()))
              .addAllRemove(rule.requestHeaders().remove()))
          .setTimeoutMillis(rule.timeout() == null ? 0 : rule.timeout().toMillis());
      for (RouteMatch match : rule.matches()) {
        message.addMatches(io.taskmesh.discovery.v1.RouteMatch.newBuilder()
            .setGrpcService(match.grpcService() == null ? "" : match.grpcService())
            .setGrpcMethod(match.grpcMethod() == null ? "" : match.grpcMethod())
            .addAllHeaders(toMessages(match.headers())));
      }
      for (RouteBackend backend : rule.backends()) {
        message.addBackends(io.taskmesh.discovery.v1.RouteBackend.newBuilder()
            .setService(backend.service()).setWeight(backend.weight()));
      }
      table.addRules(message);
    }
    return table.build();
  }

  public static List<RouteRule> rules(RouteTable table) {
    return table.getRulesList().stream().map(rule -> new RouteRule(
        rule.getMatchesList().stream().map(match -> new RouteMatch(emptyToNull(match.getGrpcService()),
            emptyToNull(match.getGrpcMethod()), fromMessages(match.getHeadersList()))).toList(),
        rule.getBackendsList().stream().map(backend -> new RouteBackend(backend.getService(), backend.getWeight()))
            .toList(),
        new HeaderModifier(fromMessages(rule.getRequestHeaders().getSetList()),
            fromMessages(rule.getRequestHeaders().getAddList()), rule.getRequestHeaders().getRemoveList()),
        rule.getTimeoutMillis() == 0 ? null : Duration.ofMillis(rule.getTimeoutMillis()))).toList();
  }

  private static List<io.taskmesh.discovery.v1.Header> toMessages(List<Header> headers) {
    return headers.stream().map(header -> io.taskmesh.discovery.v1.Header.newBuilder()
        .setName(header.name()).setValue(header.value()).build()).toList();
  }

  private static List<Header> fromMessages(List<io.taskmesh.discovery.v1.Header> headers) {
    return headers.stream().map(header -> new Header(header.getName(), header.getValue())).toList();
  }

  private static String emptyToNull(String value) {
    return value.isEmpty() ? null : value;
  }
}
