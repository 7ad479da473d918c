// Runs one genuine Elasticsearch 7.10.2 node (OSS modules) in this JVM (org.codelibs
// elasticsearch-cluster-runner), plain HTTP, bound to 127.0.0.1 only, for the compatibility suite.
// Prints a ready line once the cluster is yellow and keeps running until the process is killed; a
// shutdown hook closes the node.
// Usage: java -cp <runner classpath>:<classes> Main <http port> <base dir> <transport port>
import org.codelibs.elasticsearch.runner.ElasticsearchClusterRunner;

public final class Main {
    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: Main <http port> <base dir> <transport port>");
            System.exit(2);
        }
        String port = args[0];
        String baseDir = args[1];
        String transportPort = args[2];

        ElasticsearchClusterRunner runner = new ElasticsearchClusterRunner();
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
            settings.put("transport.port", transportPort);
            settings.put("discovery.type", "single-node");
            settings.put("cluster.routing.allocation.disk.threshold_enabled", false);
            // The runner's default roles lack ingest: an index `pipeline` would get "no ingest nodes".
            settings.putList("node.roles", "master", "data", "ingest");
        });
        runner.build(ElasticsearchClusterRunner.newConfigs()
                .basePath(baseDir)
                .numOfNode(1)
                .clusterName("ddbsync-compat")
                .printOnFailure());
        runner.ensureYellow();
        System.out.println("Elasticsearch ready on http://127.0.0.1:" + port);
        System.out.flush();
        Thread.currentThread().join(); // until killed
    }
}
