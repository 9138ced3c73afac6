package io.taskmesh.sidecar.identity;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The projected ServiceAccount token (audience taskmesh) the kubelet keeps fresh in the pod; read anew
 * for every request, since the kubelet replaces it before it expires.
 */
public final class TokenFile {
  /** Far above a JWT's size; a bigger file is not a token. */
  private static final long MAX_BYTES = 64 * 1024;
  private final Path path;

  public TokenFile(Path path) {
    this.path = path;
  }

  public String read() throws IOException {
    long size = Files.size(path);
    if (size > MAX_BYTES) {
      throw new IOException("token file " + path + " holds " + size + " bytes, more than a token");
    }
    String token = Files.readString(path, StandardCharsets.US_ASCII).trim();
    if (token.isEmpty()) {
      throw new IOException("token file " + path + " is empty");
    }
    return token;
  }

  public Path path() {
    return path;
  }
}
