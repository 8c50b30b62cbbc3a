import java.io.IOException;
import java.net.ServerSocket;

/**
 * The course's first server line and nothing else: chapter 1 runs it under
 * strace to show the system calls behind {@code new ServerSocket(12345)}.
 * It binds, says where, and closes.
 *
 * <pre>
 * javac -d target/java-peer tests/java/Bind.java
 * java -cp target/java-peer Bind            new ServerSocket(12345)
 * java -cp target/java-peer Bind &lt;port&gt;     the same on another port (0: one the kernel picks)
 * </pre>
 */
public class Bind {

    public static void main(String[] args) throws IOException {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 12345;
        try (ServerSocket serverSocket = new ServerSocket(port)) {
            System.out.println("listening on " + serverSocket.getLocalSocketAddress());
        }
    }
}
