package io.taskmesh.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * How a sidecar is run other than as deployed, so two ways of running the same proxy share one run: another proxy
 * jar, another Java home, JVM flags added after the deployed ones (of two values of one {@code -XX} flag the JVM
 * takes the later, so {@code -XX:ReservedCodeCacheSize=16m} replaces the deployed {@code 24m}), and environment
 * variables.
 *
 * @param jar the proxy jar; blank for the bench's default ({@link Topologies#sidecarClasspath()})
 * @param javaHome the Java home; blank for the bench's default ({@link Topologies#sidecarJava()})
 * @param flags JVM flags after the deployed ones
 * @param environment variables set in the sidecar's environment, e.g. {@code MALLOC_ARENA_MAX}
 */
public record SidecarVariant(String jar, String javaHome, List<String> flags, Map<String, String> environment) {
  /** The sidecar as the operator injects it. */
  public static final SidecarVariant DEPLOYED = new SidecarVariant("", "", List.of(), Map.of());
  private static final Pattern ENVIRONMENT = Pattern.compile("[A-Z_][A-Z0-9_]*=.*");

  public SidecarVariant {
    flags = List.copyOf(flags);
    environment = Collections.unmodifiableMap(new LinkedHashMap<>(environment)); // in order, for describe()
  }

  /**
   * A variant from its words: {@code jar:PATH} (the proxy jar), {@code java:HOME} (the Java home),
   * {@code NAME=VALUE} with an upper-case name (an environment variable), any other word a JVM flag.
   */
  public static SidecarVariant of(String spec) {
    String jar = "";
    String javaHome = "";
    List<String> flags = new ArrayList<>();
    Map<String, String> environment = new LinkedHashMap<>();
    for (String word : spec.trim().split("\\s+")) {
      if (word.isEmpty()) {
        continue;
      }
      if (word.startsWith("jar:")) {
        jar = word.substring(4);
      } else if (word.startsWith("java:")) {
        javaHome = word.substring(5);
      } else if (ENVIRONMENT.matcher(word).matches()) {
        environment.put(word.substring(0, word.indexOf('=')), word.substring(word.indexOf('=') + 1));
      } else {
        flags.add(word);
      }
    }
    return new SidecarVariant(jar, javaHome, flags, environment);
  }

  /** {@code label=words;label=words} ({@link #of}), in order; {@code property} names the setting in errors. */
  public static Map<String, SidecarVariant> parse(String property, String spec) {
    Map<String, SidecarVariant> variants = new LinkedHashMap<>();
    for (String entry : spec.split(";")) {
      if (entry.isBlank()) {
        continue;
      }
      int equals = entry.indexOf('=');
      if (equals < 1) {
        throw new IllegalArgumentException(property + " entry '" + entry.trim() + "' is not label=flags");
      }
      String label = entry.substring(0, equals).trim();
      if (!label.matches("[a-z0-9][a-z0-9-]*")) {
        throw new IllegalArgumentException(property + " label '" + label
            + "' must be lower-case letters, digits and dashes (it names a bench path)");
      }
      if (variants.put(label, of(entry.substring(equals + 1))) != null) {
        throw new IllegalArgumentException(property + " names variant '" + label + "' twice");
      }
    }
    return variants;
  }

  /** The words this variant was read from, for a report. */
  public String describe() {
    List<String> words = new ArrayList<>();
    if (!jar.isBlank()) {
      words.add("jar:" + jar);
    }
    if (!javaHome.isBlank()) {
      words.add("java:" + javaHome);
    }
    environment.forEach((name, value) -> words.add(name + "=" + value));
    words.addAll(flags);
    return words.isEmpty() ? "(as deployed)" : String.join(" ", words);
  }
}
