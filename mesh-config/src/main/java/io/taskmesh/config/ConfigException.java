package io.taskmesh.config;

/** A configuration value that cannot be accepted; {@link #key()} is the dotted path of the offending key. */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String key;

  public ConfigException(String key, String problem) {
    super(key.isEmpty() ? problem : key + ": " + problem);
    this.key = key;
  }

  public String key() {
    return key;
  }
}
