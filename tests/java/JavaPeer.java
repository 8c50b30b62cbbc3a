import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * The JDK's side of the Java interop tests (tests/java_interop.rs): the real
 * DataOutputStream.writeUTF and DataInputStream.readUTF, driven from the
 * command line.
 *
 * <pre>
 * java JavaPeer client &lt;port&gt; &lt;escaped-message&gt;...   send each message, print each reply
 * java JavaPeer server [port [escaped-suffix]]    the lesson's ServerV2 (port 0, the default: a free one)
 * java JavaPeer server-v3 [port [escaped-suffix]] the lesson's ServerV3: a thread per client
 * java JavaPeer server-v6 [port]                  the course's ServerV6: V3, a session manager, a shutdown hook
 * java JavaPeer encode &lt;escaped&gt;...               print the frame writeUTF writes, in hex
 * java JavaPeer decode &lt;hex-frame&gt;...             print what readUTF makes of each frame
 * </pre>
 *
 * The servers reply message + " World!", or message + the suffix given (a
 * learner's server that replies "Hello World", say). The tests of
 * examine (tests/examine.rs) run them as a learner's Java servers.
 *
 * Text crosses the command line and standard output escaped, in ASCII only,
 * so that no platform charset can change it on the way: printable ASCII
 * (0x20..0x7E) except the backslash stands for itself, and every other
 * UTF-16 code unit is written as backslash-u and four uppercase hex digits.
 */
public class JavaPeer {

    public static void main(String[] args) throws IOException {
        if (args.length == 0) {
            usage();
        }
        switch (args[0]) {
            case "client":
                if (args.length < 2) {
                    usage();
                }
                client(Integer.parseInt(args[1]), slice(args, 2));
                break;
            case "server":
                server(port(args), suffix(args));
                break;
            case "server-v3":
                serverV3(port(args), suffix(args), null);
                break;
            case "server-v6":
                serverV6(port(args));
                break;
            case "encode":
                encode(slice(args, 1));
                break;
            case "decode":
                decode(slice(args, 1));
                break;
            default:
                usage();
        }
    }

    /** Connects, sends each message and prints each reply, then sends "exit". */
    static void client(int port, String[] escapedMessages) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            DataInputStream in = new DataInputStream(socket.getInputStream());
            for (String escaped : escapedMessages) {
                out.writeUTF(unescape(escaped));
                out.flush();
                System.out.println(escape(in.readUTF()));
            }
            out.writeUTF("exit");
            out.flush();
        }
    }

    /**
     * The lesson's ServerV2: accepts one client, answers each message with
     * message + suffix until the client sends "exit", then ends. It listens
     * on 127.0.0.1 only, on `port` (0: one the kernel picks), and says which.
     */
    static void server(int port, String suffix) throws IOException {
        try (ServerSocket listener = listen(port)) {
            try (Socket socket = listener.accept()) {
                DataInputStream in = new DataInputStream(socket.getInputStream());
                DataOutputStream out = new DataOutputStream(socket.getOutputStream());
                while (true) {
                    String received = in.readUTF();
                    System.out.println("received: " + escape(received));
                    if (received.equals("exit")) {
                        break;
                    }
                    out.writeUTF(received + suffix);
                    out.flush();
                }
            }
        }
    }

    /**
     * The lesson's ServerV3: the main thread only accepts; each client gets a
     * thread of its own running ServerV2's loop, and "exit" ends that session
     * alone. With `sessions`, each session's socket is added to it while the
     * session runs (ServerV6's session manager).
     */
    static void serverV3(int port, String suffix, java.util.Set<Socket> sessions) throws IOException {
        ServerSocket listener = listen(port);
        serve(listener, suffix, sessions);
    }

    /** Accepts clients until the listening socket is closed, a thread each. */
    static void serve(ServerSocket listener, String suffix, java.util.Set<Socket> sessions) {
        while (true) {
            Socket socket;
            try {
                socket = listener.accept();
            } catch (IOException closed) {
                System.out.println("accept ended: " + closed.getMessage());
                return; // the shutdown hook closed the listening socket
            }
            new Thread(() -> session(socket, suffix, sessions)).start();
        }
    }

    /** ServerV2's loop for one client, in its own thread; ends alone. */
    static void session(Socket socket, String suffix, java.util.Set<Socket> sessions) {
        if (sessions != null) {
            sessions.add(socket);
        }
        try (socket) {
            DataInputStream in = new DataInputStream(socket.getInputStream());
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            while (true) {
                String received = in.readUTF();
                if (received.equals("exit")) {
                    break;
                }
                out.writeUTF(received + suffix);
                out.flush();
            }
            System.out.println("[" + Thread.currentThread().getName() + "] session ended: exit");
        } catch (IOException ended) {
            System.out.println("[" + Thread.currentThread().getName() + "] session ended: " + ended);
        } finally {
            if (sessions != null) {
                sessions.remove(socket);
            }
        }
    }

    /**
     * The course's ServerV6: ServerV3 with a session manager and a shutdown
     * hook. On Ctrl-C the JVM runs the hook, which closes every session's
     * socket and the listening socket, then sleeps a second, as the course's
     * does; the JVM then exits with status 130 (128 + SIGINT).
     */
    static void serverV6(int port) throws IOException {
        java.util.Set<Socket> sessions = java.util.concurrent.ConcurrentHashMap.newKeySet();
        ServerSocket listener = listen(port);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("shutdown hook: closing " + sessions.size() + " sessions");
            for (Socket session : sessions) {
                try {
                    session.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
            try {
                listener.close();
                Thread.sleep(1000);
            } catch (IOException | InterruptedException ignored) {
                // stopping anyway
            }
            System.out.println("shutdown hook: done");
        }));
        serve(listener, " World!", sessions);
    }

    /** A listening socket on 127.0.0.1:port, announced on standard output. */
    static ServerSocket listen(int port) throws IOException {
        ServerSocket listener = new ServerSocket(port, 50, InetAddress.getByName("127.0.0.1"));
        System.out.println("listening on 127.0.0.1:" + listener.getLocalPort());
        System.out.flush(); // the tests wait for this line before they connect
        return listener;
    }

    /** A server's port: its first argument, 0 if none. */
    static int port(String[] args) {
        return args.length > 1 ? Integer.parseInt(args[1]) : 0;
    }

    /** What a server adds to each message: its second argument, escaped, or " World!". */
    static String suffix(String[] args) {
        return args.length > 2 ? unescape(args[2]) : " World!";
    }

    /** Prints, per text, the whole frame writeUTF writes (length included) in hex. */
    static void encode(String[] escapedTexts) throws IOException {
        for (String escaped : escapedTexts) {
            ByteArrayOutputStream frame = new ByteArrayOutputStream();
            new DataOutputStream(frame).writeUTF(unescape(escaped));
            StringBuilder hex = new StringBuilder();
            for (byte b : frame.toByteArray()) {
                hex.append(String.format("%02X", b & 0xFF));
            }
            System.out.println(hex);
        }
    }

    /** Feeds each hex frame to readUTF; prints "ok <text>" or "error <exception>". */
    static void decode(String[] hexFrames) {
        for (String hex : hexFrames) {
            byte[] frame = new byte[hex.length() / 2];
            for (int i = 0; i < frame.length; i++) {
                frame[i] = (byte) parseHex(hex.substring(2 * i, 2 * i + 2));
            }
            try {
                String text = new DataInputStream(new ByteArrayInputStream(frame)).readUTF();
                System.out.println("ok " + escape(text));
            } catch (IOException refused) {
                System.out.println("error " + refused.getClass().getSimpleName());
            }
        }
    }

    /** Writes text in ASCII only: see the class comment. */
    static String escape(String text) {
        StringBuilder escaped = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char unit = text.charAt(i); // a UTF-16 code unit, maybe half a surrogate pair
            if (unit >= 0x20 && unit <= 0x7E && unit != '\\') {
                escaped.append(unit);
            } else {
                escaped.append(String.format("\\u%04X", (int) unit));
            }
        }
        return escaped.toString();
    }

    /** The reverse of escape; refuses a backslash not followed by u and four hex digits. */
    static String unescape(String escaped) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < escaped.length(); i++) {
            char c = escaped.charAt(i);
            if (c != '\\') {
                text.append(c);
                continue;
            }
            if (i + 6 > escaped.length() || escaped.charAt(i + 1) != 'u') {
                throw new IllegalArgumentException("bad escape at " + i + " in " + escaped);
            }
            text.append((char) parseHex(escaped.substring(i + 2, i + 6)));
            i += 5;
        }
        return text.toString();
    }

    /** Hex digits only (Integer.parseInt alone would also take a sign). */
    static int parseHex(String digits) {
        int value = 0;
        for (int i = 0; i < digits.length(); i++) {
            int digit = Character.digit(digits.charAt(i), 16);
            if (digit < 0) {
                throw new IllegalArgumentException("not hex: " + digits);
            }
            value = value * 16 + digit;
        }
        return value;
    }

    static String[] slice(String[] args, int from) {
        return java.util.Arrays.copyOfRange(args, from, args.length);
    }

    static void usage() {
        System.err.println("usage: JavaPeer client <port> <escaped-message>... | server [port [suffix]]"
                + " | server-v3 [port [suffix]] | server-v6 [port] | encode <escaped>... | decode <hex-frame>...");
        System.exit(2);
    }
}
