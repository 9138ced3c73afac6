package io.taskmesh.taskservice;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;

/** A real PostgreSQL (zonky's embedded binaries from Maven Central) for tests. */
final class TestPostgres {
  private TestPostgres() {}

  static EmbeddedPostgres start() {
    try {
      return EmbeddedPostgres.builder().start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start embedded PostgreSQL", e);
    }
  }

  static TaskServerOptions options(EmbeddedPostgres postgres) {
    return TaskServerOptions.defaults().withDatabaseUrl(postgres.getJdbcUrl("postgres", "postgres"));
  }
}
