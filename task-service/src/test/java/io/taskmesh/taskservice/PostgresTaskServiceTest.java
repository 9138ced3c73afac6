package io.taskmesh.taskservice;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import org.junit.jupiter.api.AfterAll;

class PostgresTaskServiceTest extends TaskServiceContractTest {
  private EmbeddedPostgres postgres;

  @Override
  TaskServerOptions storeOptions() {
    postgres = TestPostgres.start();
    return TestPostgres.options(postgres);
  }

  @AfterAll
  void stopPostgres() throws IOException {
    postgres.close();
  }
}
