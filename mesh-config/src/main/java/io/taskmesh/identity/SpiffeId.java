package io.taskmesh.identity;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A workload's identity, {@code spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>}: the one URI
 * subject alternative name of its certificate.
 */
public record SpiffeId(String trustDomain, String namespace, String serviceAccount) {
  /** SPIFFE's trust domain alphabet; namespaces and ServiceAccounts are DNS-1123 subdomains in Kubernetes. */
  private static final Pattern TRUST_DOMAIN = Pattern.compile("[a-z0-9._-]{1,255}");
  private static final Pattern NAME = Pattern.compile("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");
  private static final Pattern URI =
      Pattern.compile("spiffe://([^/]+)/ns/([^/]+)/sa/([^/]+)");

  public SpiffeId {
    checkTrustDomain(trustDomain);
    check("namespace", namespace);
    check("service account", serviceAccount);
  }

  /** Reads a SPIFFE ID of the {@code /ns/<ns>/sa/<sa>} form; any other URI is refused naming what is wrong. */
  public static SpiffeId parse(String uri) {
    Matcher matcher = URI.matcher(uri == null ? "" : uri);
    if (!matcher.matches()) {
      throw new IllegalArgumentException("'" + uri + "' is not a workload SPIFFE ID (spiffe://<trust domain>/ns/"
          + "<namespace>/sa/<service account>)");
    }
    return new SpiffeId(matcher.group(1), matcher.group(2), matcher.group(3));
  }

  public static void checkTrustDomain(String trustDomain) {
    if (trustDomain == null || !TRUST_DOMAIN.matcher(trustDomain).matches()) {
      throw new IllegalArgumentException("'" + trustDomain + "' is not a SPIFFE trust domain (lower-case letters, "
          + "digits, '.', '-', '_')");
    }
  }

  private static void check(String what, String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("'" + name + "' is not a valid " + what + " name");
    }
  }

  public String uri() {
    return "spiffe://" + trustDomain + "/ns/" + namespace + "/sa/" + serviceAccount;
  }

  @Override
  public String toString() {
    return uri();
  }
}
