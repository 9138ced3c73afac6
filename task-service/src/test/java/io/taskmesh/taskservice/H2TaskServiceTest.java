package io.taskmesh.taskservice;

import java.util.UUID;

class H2TaskServiceTest extends TaskServiceContractTest {
  @Override
  TaskServerOptions storeOptions() {
    return TaskServerOptions.defaults().withDatabaseUrl("jdbc:h2:mem:contract-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
  }
}
