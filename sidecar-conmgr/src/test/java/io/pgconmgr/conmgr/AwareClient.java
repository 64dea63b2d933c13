package io.pgconmgr.conmgr;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The driver side of docs/aware-client-protocol.md, as small as a driver could write it: ask
 * conmgr for an instance, then watch the same socket for the failure notice.
 */
public final class AwareClient implements AutoCloseable {

  /** conmgr's answer: where to connect. */
  public record Address(String host, int port, int instance, String role) {
  }

  /** conmgr's failure notice, or end of stream (conmgr gone) when {@code instance} is -1. */
  public record Notice(int instance, String reason) {
  }

  /** conmgr refused: the ErrorResponse fields. */
  public static final class Refused extends IOException {
    public final Map<Character, String> fields;

    Refused(Map<Character, String> fields) {
      super(fields.get('C') + ": " + fields.get('M') + " (" + fields.get('D') + ")");
      this.fields = fields;
    }
  }

  private final Socket socket;
  private final DataInputStream in;

  private AwareClient(Socket socket) throws IOException {
    this.socket = socket;
    this.in = new DataInputStream(socket.getInputStream());
  }

  /** Phase one: send the startup packet with the aware option, read the address (or the error). */
  public static AwareClient ask(InetSocketAddress conmgr, String target, Map<String, String> params, Address[] out)
      throws IOException {
    Socket s = new Socket(conmgr.getAddress(), conmgr.getPort());
    s.setSoTimeout(30_000);
    AwareClient c = new AwareClient(s);
    try {
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      DataOutputStream d = new DataOutputStream(body);
      d.writeInt(196608);
      Map<String, String> all = new java.util.LinkedHashMap<>(params);
      all.put("_pq_.conmgr_aware", target);
      for (Map.Entry<String, String> e : all.entrySet()) {
        d.write(e.getKey().getBytes(StandardCharsets.UTF_8));
        d.write(0);
        d.write(e.getValue().getBytes(StandardCharsets.UTF_8));
        d.write(0);
      }
      d.write(0);
      DataOutputStream o = new DataOutputStream(s.getOutputStream());
      o.writeInt(body.size() + 4);
      o.write(body.toByteArray());
      o.flush();
      int type = c.in.readUnsignedByte();
      int len = c.in.readInt();
      byte[] msg = c.in.readNBytes(len - 4);
      if (type == 'E') {
        throw new Refused(errorFields(msg));
      }
      if (type != 'M' || msg[0] != 'A') {
        throw new IOException("unexpected message " + (char) type + " from conmgr");
      }
      DataInputStream m = new DataInputStream(new java.io.ByteArrayInputStream(msg, 1, msg.length - 1));
      int version = m.readUnsignedShort();
      if (version != 1) {
        throw new IOException("unsupported aware-client protocol version " + version);
      }
      out[0] = new Address(cstring(m), m.readInt(), m.readInt(), cstring(m));
      return c;
    } catch (IOException | RuntimeException e) {
      s.close();
      throw e;
    }
  }

  /** Waits for the failure notice (or conmgr closing); null when nothing came within {@code timeout}. */
  public Notice awaitNotice(Duration timeout) throws IOException {
    socket.setSoTimeout((int) timeout.toMillis());
    try {
      int type = in.read();
      if (type < 0) {
        return new Notice(-1, "conmgr closed the channel");
      }
      int len = in.readInt();
      byte[] msg = in.readNBytes(len - 4);
      if (type != 'M' || msg[0] != 'F') {
        throw new IOException("unexpected message " + (char) type + " on the notice channel");
      }
      DataInputStream m = new DataInputStream(new java.io.ByteArrayInputStream(msg, 1, msg.length - 1));
      return new Notice(m.readInt(), cstring(m));
    } catch (SocketTimeoutException e) {
      return null;
    }
  }

  /** The fields of an ErrorResponse body, by field code. */
  public static Map<Character, String> errorFields(byte[] body) {
    Map<Character, String> fields = new HashMap<>();
    int i = 0;
    while (i < body.length && body[i] != 0) {
      char code = (char) body[i++];
      int end = i;
      while (body[end] != 0) {
        end++;
      }
      fields.put(code, new String(body, i, end - i, StandardCharsets.UTF_8));
      i = end + 1;
    }
    return fields;
  }

  private static String cstring(DataInputStream m) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = m.read()) > 0) {
      b.write(c);
    }
    return b.toString(StandardCharsets.UTF_8);
  }

  /** Sends Terminate and closes: the client is done with its database connection. */
  @Override
  public void close() throws IOException {
    try {
      DataOutputStream o = new DataOutputStream(socket.getOutputStream());
      o.writeByte('X');
      o.writeInt(4);
      o.flush();
    } catch (IOException e) {
      // closing anyway
    }
    socket.close();
  }
}
