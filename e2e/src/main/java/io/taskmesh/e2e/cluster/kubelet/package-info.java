/**
 * The local cluster's node: what a kubelet, a container runtime and kube-proxy do, with processes and
 * network namespaces instead of containers. Root only (network namespaces, veth pairs, iptables,
 * setpriv, bind mounts); Debian packages iproute2, iptables and util-linux.
 *
 * <ul>
 *   <li>{@link io.taskmesh.e2e.cluster.kubelet.PodNetwork}: a node network namespace with the pods'
 *       bridge, linked to the host by one veth pair; pods, services and the link share one slot of
 *       10.213.0.0/16, and nothing routes anywhere else.
 *   <li>{@link io.taskmesh.e2e.cluster.kubelet.Kubelet}: every pod the API server holds runs here, each
 *       in its own network namespace with its own address, {@code /etc/hosts} answering Service names,
 *       its volumes bind-mounted at their mount paths (ConfigMaps and Secrets rewritten in place with
 *       the kubelet's {@code ..data} swap), init containers in order, native sidecars before the app and
 *       after it, probes, restarts with back-off, status written back, graceful deletion; and
 *       kube-proxy's ClusterIP DNAT in the node namespace.
 *   <li>{@link io.taskmesh.e2e.cluster.kubelet.ContainerImages}: the project's images run {@code java}
 *       with the main class and JVM flags of their Jib build, from the e2e runtime classpath; any other
 *       image runs its container's command verbatim when the host has it (the capture's iptables script).
 *       A project image's container also sees {@code /app/jib-classpath-file}, as in a Jib image, so a
 *       command that starts the JVM itself ({@code java -cp "$(cat /app/jib-classpath-file)" ...}) runs.
 *       The proxy's image is sidecar/Dockerfile's ({@link io.taskmesh.e2e.cluster.kubelet.ProxyImage}): its
 *       container sees the shaded jar at {@code /app/taskmesh-proxy.jar} and the class-data archive a training
 *       run of it wrote at {@code /app/taskmesh-proxy.jsa}, made once per jar under e2e's {@code target/images}.
 * </ul>
 *
 * <p>Where it differs from a real node, knowingly: no cgroups (memory limits only size the JVM, as its
 * container support would, via {@code -XX:MaxRAM}); no image file systems (a container sees the host's
 * files, with its volumes mounted over them; a mount point missing on the host is created there as an
 * empty directory and left); {@code readOnlyRootFilesystem} is not enforced; back-off is capped at 10 s
 * instead of 5 min, so tests see restarts.
 */
package io.taskmesh.e2e.cluster.kubelet;
