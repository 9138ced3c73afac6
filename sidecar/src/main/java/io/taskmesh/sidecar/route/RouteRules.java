package io.taskmesh.sidecar.route;

import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import io.taskmesh.config.Header;
import io.taskmesh.config.HeaderModifier;
import io.taskmesh.config.RouteBackend;
import io.taskmesh.config.RouteMatch;
import io.taskmesh.config.RouteRule;
import io.taskmesh.sidecar.cluster.ClusterResolver;
import io.taskmesh.sidecar.concrete.Backend;
import io.taskmesh.sidecar.concrete.Backends;
import java.time.Duration;
import java.util.List;

/**
 * A service's route rules, made ready for requests when a config is accepted (a GRPCRoute whose parent is
 * the service): tried in order, the first whose match fits the request takes it. Matching reads the
 * request's path and headers without allocating.
 */
public final class RouteRules {
  /** A service with no rules: every request goes to the service's own cluster. */
  public static final RouteRules NONE = new RouteRules(List.of());

  private final List<Rule> rules;

  private RouteRules(List<Rule> rules) {
    this.rules = List.copyOf(rules);
  }

  /** @param clusters where each backend's cluster is found */
  public static RouteRules of(List<RouteRule> rules, ClusterResolver clusters) {
    return rules.isEmpty() ? NONE : new RouteRules(rules.stream().map(rule -> Rule.of(rule, clusters)).toList());
  }

  /** The first rule that takes the request, or null when none does. */
  public Rule match(String path, Http2Headers headers) {
    for (Rule rule : rules) {
      if (rule.takes(path, headers)) {
        return rule;
      }
    }
    return null;
  }

  /**
   * One rule: its matches (none: every request), its backends split by weight, its header changes, and its
   * timeout ({@code null}: the service's).
   */
  public record Rule(List<Match> matches, Backends backends, HeaderModifier requestHeaders, Duration timeout) {
    static Rule of(RouteRule rule, ClusterResolver clusters) {
      List<Backend> backends = rule.backends().stream()
          .map((RouteBackend backend) -> new Backend(backend.service(), backend.weight(), clusters)).toList();
      return new Rule(rule.matches().stream().map(Match::of).toList(), Backends.of(backends), rule.requestHeaders(),
          rule.timeout());
    }

    boolean takes(String path, Http2Headers headers) {
      if (matches.isEmpty()) {
        return true;
      }
      for (Match match : matches) {
        if (match.fits(path, headers)) {
          return true;
        }
      }
      return false;
    }

    /** Sets, adds and removes the rule's headers on a request it took. */
    public void modify(Http2Headers headers) {
      for (Header header : requestHeaders.set()) {
        headers.set(header.name(), header.value());
      }
      for (Header header : requestHeaders.add()) {
        headers.add(header.name(), header.value());
      }
      for (String name : requestHeaders.remove()) {
        headers.remove(name);
      }
    }
  }

  /** One match, its path part made ready to compare: the whole path, its service prefix or its method suffix. */
  record Match(String exactPath, String pathPrefix, String pathSuffix, List<Header> headers) {
    static Match of(RouteMatch match) {
      String service = match.grpcService();
      String method = match.grpcMethod();
      return new Match(service != null && method != null ? "/" + service + "/" + method : null,
          service != null && method == null ? "/" + service + "/" : null,
          service == null && method != null ? "/" + method : null, match.headers());
    }

    boolean fits(String path, Http2Headers requestHeaders) {
      if ((exactPath != null && !exactPath.equals(path)) || (pathPrefix != null && !path.startsWith(pathPrefix))
          || (pathSuffix != null && !path.endsWith(pathSuffix))) {
        return false;
      }
      for (Header header : headers) {
        CharSequence value = requestHeaders.get(header.name());
        if (value == null || !AsciiString.contentEquals(value, header.value())) {
          return false;
        }
      }
      return true;
    }
  }
}
