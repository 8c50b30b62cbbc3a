import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * server-v3's design written plainly in Java, for the benchmark: one platform
 * thread per client, DataInputStream.readUTF / DataOutputStream.writeUTF, the
 * reply received + " World!". It logs nothing but its port.
 *
 * Usage: java ThreadPerClientServer BACKLOG
 */
public class ThreadPerClientServer {
    public static void main(String[] args) throws IOException {
        int backlog = Integer.parseInt(args[0]);
        ServerSocket listener = new ServerSocket(0, backlog, InetAddress.getLoopbackAddress());
        System.out.println("listening on 127.0.0.1:" + listener.getLocalPort());
        System.out.flush();
        while (true) {
            Socket socket = listener.accept();
            new Thread(() -> session(socket)).start();
        }
    }

    /** One client's session; VirtualThreadServer runs it on a virtual thread. */
    static void session(Socket socket) {
        try (socket;
             DataInputStream input = new DataInputStream(socket.getInputStream());
             DataOutputStream output = new DataOutputStream(socket.getOutputStream())) {
            while (true) {
                String received = input.readUTF();
                if (received.equals("exit")) {
                    return;
                }
                output.writeUTF(received + " World!");
            }
        } catch (EOFException closed) {
            // The client closed between messages.
        } catch (IOException failure) {
            // A reset or a malformed message ends this session only.
        }
    }
}
