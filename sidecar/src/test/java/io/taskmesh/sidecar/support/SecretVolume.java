package io.taskmesh.sidecar.support;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/**
 * A mounted Secret as the kubelet lays it out: the files in a timestamped directory, {@code ..data} a symlink to
 * it, and each key a symlink through {@code ..data}. An update writes a new directory and renames a new
 * {@code ..data} link over the old one, so a reader sees either every old file or every new one.
 */
public final class SecretVolume {
  private final Path dir;
  private int version;

  public SecretVolume(Path dir, Map<String, String> files) {
    this.dir = dir;
    write(files);
    files.keySet().forEach(name -> {
      try {
        Files.createSymbolicLink(dir.resolve(name), Path.of("..data", name));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  /** The Secret's {@code tls.crt} and {@code tls.key} (PKCS#8) in PEM. */
  public static Map<String, String> tls(List<X509Certificate> chain, PrivateKey key) {
    StringWriter certificates = new StringWriter();
    StringWriter privateKey = new StringWriter();
    try (JcaPEMWriter certWriter = new JcaPEMWriter(certificates); JcaPEMWriter keyWriter = new JcaPEMWriter(privateKey)) {
      for (X509Certificate certificate : chain) {
        certWriter.writeObject(certificate);
      }
      keyWriter.writeObject(new JcaPKCS8Generator(key, null));  // PRIVATE KEY, as cert-manager writes it
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Map.of("tls.crt", certificates.toString(), "tls.key", privateKey.toString());
  }

  public Path file(String name) {
    return dir.resolve(name);
  }

  /** Swaps every file at once, as the kubelet does when the Secret changes. */
  public void update(Map<String, String> files) {
    write(files);
  }

  private void write(Map<String, String> files) {
    try {
      Path data = Files.createDirectory(dir.resolve("..data_" + ++version));
      for (Map.Entry<String, String> file : files.entrySet()) {
        Files.writeString(data.resolve(file.getKey()), file.getValue());
      }
      Path link = Files.createSymbolicLink(dir.resolve("..data_tmp"), data.getFileName());
      Files.move(link, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
