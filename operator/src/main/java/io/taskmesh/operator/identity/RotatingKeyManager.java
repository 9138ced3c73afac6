package io.taskmesh.operator.identity;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A server key manager that serves whatever credentials its source gives now. Each credential set gets
 * its own alias, so a handshake that chose an alias gets the chain and key of that set even if a rotation
 * happens mid-handshake.
 */
final class RotatingKeyManager extends X509ExtendedKeyManager {
  /** A private key and the chain that certifies it, leaf first. */
  record Credentials(PrivateKey key, X509Certificate[] chain) {}

  private final Supplier<Credentials> source;
  /** The current set and the one before it, for handshakes that chose it just before a rotation. */
  private final Map<String, Credentials> byAlias = new LinkedHashMap<>();

  RotatingKeyManager(Supplier<Credentials> source) {
    this.source = source;
  }

  private synchronized String currentAlias() {
    Credentials credentials = source.get();
    String alias = credentials.chain()[0].getSerialNumber().toString(16);
    if (!byAlias.containsKey(alias)) {
      byAlias.put(alias, credentials);
      if (byAlias.size() > 2) {
        byAlias.remove(byAlias.keySet().iterator().next());
      }
    }
    return alias;
  }

  private synchronized Credentials credentials(String alias) {
    return byAlias.get(alias);
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    return currentAlias();
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return currentAlias();
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    return new String[] {currentAlias()};
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    Credentials credentials = credentials(alias);
    return credentials == null ? null : credentials.chain().clone();
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    Credentials credentials = credentials(alias);
    return credentials == null ? null : credentials.key();
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return null;
  }

  @Override
  public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
    return null;
  }
}
