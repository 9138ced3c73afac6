package io.taskmesh.e2e.cluster.kubelet;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;
import java.util.function.Supplier;

/** What every pod worker of one kubelet shares. */
record NodeContext(
    KubernetesClient api,
    PodNetwork network,
    ContainerImages images,
    ContainerEnvironment environment,
    Prober prober,
    ScheduledExecutorService probes,
    ReadableClasspath classpath,
    Supplier<List<Service>> services,
    Consumer<PodWorker> statusChanged,
    Path workDir) {}
