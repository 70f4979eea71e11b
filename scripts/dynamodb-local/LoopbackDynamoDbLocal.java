import java.lang.reflect.Field;

/**
 * AWS's DynamoDB Local bound to one address (default 127.0.0.1) instead of every interface: its
 * own command line has no host option (Jetty's Server(port) listens on *). Built from the same
 * jar's ServerRunner, then each Jetty connector gets the host before the server starts.
 *
 * Reflection only, so `java LoopbackDynamoDbLocal.java` compiles it with the JDK alone (source
 * launch, Java 11+); the jar and its libs are on the class path at run time.
 *
 *   java -Ddynamodb.local.host=127.0.0.1 -cp DynamoDBLocal.jar:DynamoDBLocal_lib/* \
 *     LoopbackDynamoDbLocal.java -inMemory -sharedDb -port 8000
 */
public class LoopbackDynamoDbLocal {
  public static void main(String[] args) throws Exception {
    String host = System.getProperty("dynamodb.local.host", "127.0.0.1");
    Class<?> runner = Class.forName("software.amazon.dynamodb.services.local.main.ServerRunner");
    Object proxy = runner.getMethod("createServerFromCommandLineArgs", String[].class).invoke(null, (Object) args);
    Field field = proxy.getClass().getDeclaredField("server");
    field.setAccessible(true);
    Object jetty = field.get(proxy);
    Object[] connectors = (Object[]) jetty.getClass().getMethod("getConnectors").invoke(jetty);
    if (connectors.length == 0) throw new IllegalStateException("DynamoDB Local has no connector to bind");
    for (Object connector : connectors) connector.getClass().getMethod("setHost", String.class).invoke(connector, host);
    proxy.getClass().getMethod("start").invoke(proxy);
    System.out.println("DynamoDB Local listening on " + host + " (scripts/dynamodb-local/LoopbackDynamoDbLocal.java)");
  }
}
