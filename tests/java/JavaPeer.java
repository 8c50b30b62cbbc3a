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
 * java JavaPeer server                            the lesson's ServerV2 on a free port
 * java JavaPeer encode &lt;escaped&gt;...               print the frame writeUTF writes, in hex
 * java JavaPeer decode &lt;hex-frame&gt;...             print what readUTF makes of each frame
 * </pre>
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
                server();
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
     * message + " World!" until the client sends "exit". It listens on
     * 127.0.0.1 only, on a port the kernel picks, and says which.
     */
    static void server() throws IOException {
        try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            System.out.println("listening on 127.0.0.1:" + listener.getLocalPort());
            System.out.flush(); // the test waits for this line before it connects
            try (Socket socket = listener.accept()) {
                DataInputStream in = new DataInputStream(socket.getInputStream());
                DataOutputStream out = new DataOutputStream(socket.getOutputStream());
                while (true) {
                    String received = in.readUTF();
                    System.out.println("received: " + escape(received));
                    if (received.equals("exit")) {
                        break;
                    }
                    out.writeUTF(received + " World!");
                    out.flush();
                }
            }
        }
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
        System.err.println("usage: JavaPeer client <port> <escaped-message>... | server"
                + " | encode <escaped>... | decode <hex-frame>...");
        System.exit(2);
    }
}
