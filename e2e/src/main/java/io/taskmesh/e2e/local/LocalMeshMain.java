package io.taskmesh.e2e.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The main job on one machine: {@code up} runs a local mesh until Ctrl-C; {@code demo} walks through its story. */
@Command(name = "taskmesh", mixinStandardHelpOptions = true,
    description = "Run taskmesh locally: task-service replicas, sidecars, PostgreSQL and Zipkin on 127.0.0.1.",
    subcommands = {LocalMeshMain.Up.class, LocalMeshMain.DemoCommand.class})
public final class LocalMeshMain {

  @Option(names = "--replicas", defaultValue = "3", description = "task-service replicas (default ${DEFAULT-VALUE})")
  int replicas;

  @Option(names = "--no-tracing", description = "do not start Zipkin")
  boolean noTracing;

  @Option(names = "--work-dir", description = "where configs, logs and the database go (default: a new temp dir)")
  Path workDir;

  public static void main(String[] args) {
    System.exit(new CommandLine(new LocalMeshMain()).execute(args));
  }

  LocalMesh start() throws IOException {
    Path dir = workDir != null ? Files.createDirectories(workDir) : Files.createTempDirectory("taskmesh-local");
    String classpath = Classpath.forChildren();
    Path zipkin = noTracing ? null : Path.of(System.getProperty("taskmesh.zipkin.jar", "e2e/target/zipkin/zipkin-server-exec.jar"));
    System.out.println("taskmesh local mesh; logs and configs in " + dir);
    System.out.println("(processes share this machine's loopback, so each pod gets its own ports instead of its own 127.0.0.1)");
    Path otelAgentDir = Path.of(System.getProperty("taskmesh.otel.dir", "e2e/target/otel"));
    LocalMesh mesh = LocalMesh.start(new LocalMesh.Options(replicas, true, zipkin, otelAgentDir, dir, classpath),
        line -> System.out.println("  - " + line));
    Runtime.getRuntime().addShutdownHook(new Thread(mesh::close, "stop-local-mesh"));
    return mesh;
  }

  @Command(name = "up", description = "Start the mesh, print where everything listens, run until Ctrl-C.")
  static final class Up implements Callable<Integer> {
    @CommandLine.ParentCommand LocalMeshMain main;

    @Override
    public Integer call() throws Exception {
      LocalMesh mesh = main.start();
      System.out.println();
      System.out.println("client sidecar outbound  " + mesh.outboundTarget() + "   (authority: task-service)");
      System.out.println("client sidecar admin     " + mesh.clientAdmin() + "/clusters  /metrics  /config");
      for (LocalMesh.Replica replica : mesh.replicas()) {
        System.out.printf("replica %d                app 127.0.0.1:%d  sidecar inbound %d  admin http://127.0.0.1:%d%n",
            replica.index(), replica.ports().app(), replica.ports().inbound(), replica.ports().admin());
      }
      System.out.println("gateway                  " + mesh.gatewayUri() + "/api/tasks   (REST/JSON and gRPC; admin "
          + mesh.gatewayAdmin() + "/gateway)");
      if (mesh.zipkin() != null) {
        System.out.println("zipkin                   " + mesh.zipkin().baseUri() + "/zipkin/");
      }
      System.out.println("discovery server         127.0.0.1:" + mesh.discoveryPort() + "   (the operator's, fed by a static source)");
      System.out.println("postgresql               " + mesh.databaseUrl());
      System.out.println();
      System.out.println("Try:  java -cp \"$(cat e2e/target/classpath.txt)\" io.taskmesh.taskservice.cli.TaskCli \\");
      System.out.println("        --target " + mesh.outboundTarget() + " --authority task-service create --title hello --user-id 1");
      System.out.println("      curl -s -X POST " + mesh.gatewayUri() + "/api/tasks -d '{\"title\":\"hello\",\"user_id\":1}'");
      System.out.println("      curl -sN -H 'Accept: text/event-stream' '" + mesh.gatewayUri() + "/api/tasks:watch?user_id=1'");
      System.out.println("Ctrl-C stops everything.");
      new CountDownLatch(1).await();
      return 0;
    }
  }

  @Command(name = "demo", description = "Start the mesh, walk through the story with real calls, stop.")
  static final class DemoCommand implements Callable<Integer> {
    @CommandLine.ParentCommand LocalMeshMain main;

    @Override
    public Integer call() throws Exception {
      try (LocalMesh mesh = main.start()) {
        new Demo(mesh, System.out).run();
      }
      return 0;
    }
  }
}
