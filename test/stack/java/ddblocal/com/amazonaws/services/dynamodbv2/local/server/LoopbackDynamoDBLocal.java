// Starts DynamoDB Local (in memory, no telemetry) bound to 127.0.0.1 only, with the test-control
// hooks on: PutItem on table "[TEST_CONTROL]" with ACTION=ROLLOVER closes every open stream shard,
// ACTION=DILATE_TIME with HOURS=<n> ages stream records by n hours.
//
// It lives in DynamoDB Local's own package because the handler constructor that enables test
// control is package-private; the jar is not sealed, so the class loader allows that.
// Usage: java -Djava.library.path=DynamoDBLocal_lib -cp DynamoDBLocal.jar:<classes> \
//          com.amazonaws.services.dynamodbv2.local.server.LoopbackDynamoDBLocal <port>
package com.amazonaws.services.dynamodbv2.local.server;

import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

public final class LoopbackDynamoDBLocal {
    private static final String HOST = "127.0.0.1";

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: LoopbackDynamoDBLocal <port>");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);

        // authorityLevel 0, inMemory, no dbPath, not sharedDb, no delayTransientStatuses, testControl.
        LocalDynamoDBRequestHandler requests =
                new LocalDynamoDBRequestHandler(0, true, null, false, false, true);
        DynamoDBProxyServer proxy =
                new DynamoDBProxyServer(port, new LocalDynamoDBServerHandler(requests, "*"));

        // DynamoDBProxyServer builds a Jetty Server(port) that listens on every interface and
        // offers no host setting: rebind its connector before starting.
        Field f = DynamoDBProxyServer.class.getDeclaredField("server");
        f.setAccessible(true);
        Server server = (Server) f.get(proxy);
        for (Connector c : server.getConnectors()) {
            ((ServerConnector) c).setHost(HOST);
        }

        // safeStart starts Jetty without the start-up telemetry event that start() would send.
        proxy.safeStart();
        System.out.println("DynamoDB Local ready on " + HOST + ":" + port + " (inMemory, testControl)");
        System.out.flush();
        proxy.join();
    }
}
