import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * ThreadPerClientServer with a virtual thread per client (JDK 21 and later):
 * the same accept loop and the same session, started with Thread.ofVirtual()
 * instead of new Thread(). A virtual thread blocked in readUTF is parked by
 * the JDK, which waits for the socket with its own poller; a few carrier
 * platform threads run the virtual threads that can go on. It logs nothing
 * but its port.
 *
 * Usage: java -cp CLASSES VirtualThreadServer BACKLOG (ThreadPerClientServer
 * on the same class path).
 */
public class VirtualThreadServer {
    public static void main(String[] args) throws IOException {
        int backlog = Integer.parseInt(args[0]);
        ServerSocket listener = new ServerSocket(0, backlog, InetAddress.getLoopbackAddress());
        System.out.println("listening on 127.0.0.1:" + listener.getLocalPort());
        System.out.flush();
        Thread.Builder sessions = Thread.ofVirtual();
        while (true) {
            Socket socket = listener.accept();
            sessions.start(() -> ThreadPerClientServer.session(socket));
        }
    }
}
