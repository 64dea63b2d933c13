package io.pgconmgr.protocol.heartbeat;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * The byte layout of heartbeat frames (docs/heartbeat-protocol.md): type codes, limits and the
 * body writers and readers shared by {@link FrameEncoder} and {@link FrameDecoder}.
 */
final class FrameFormat {
  /** Bytes of the length prefix; the length counts the type byte and the body. */
  static final int LENGTH_FIELD_BYTES = 2;
  /** Largest value of the length prefix a peer may send; larger means a broken or hostile peer. */
  static final int MAX_FRAME_LENGTH = 1024;
  /** Largest UTF-8 encoding of a string field; longer strings are cut on encode. */
  static final int MAX_STRING_BYTES = 255;
  /** First four body bytes of a Hello: "PGCM", so a stray client is recognised at once. */
  static final int HELLO_MAGIC = 0x5047434D;

  static final byte TYPE_HELLO = 1;
  static final byte TYPE_ATTRIBUTES = 2;
  static final byte TYPE_HEARTBEAT = 3;
  static final byte TYPE_GOODBYE = 4;

  private static final int FLAG_REACHABLE = 1;
  private static final int FLAG_IN_RECOVERY = 1 << 1;
  private static final int FLAG_DEFAULT_TX_READ_ONLY = 1 << 2;

  private FrameFormat() {
  }

  static void writeBody(Frame frame, ByteBuf out) {
    // Java 17 has no pattern switch; the sealed Frame keeps this chain complete.
    if (frame instanceof Hello h) {
      out.writeInt(HELLO_MAGIC);
      out.writeShort(h.version());
      out.writeInt(h.heartbeatIntervalMs());
      out.writeInt(h.heartbeatTimeoutMs());
      writeString(h.peerName(), out);
    } else if (frame instanceof Attributes a) {
      int flags = (a.reachable() ? FLAG_REACHABLE : 0)
          | (a.inRecovery() ? FLAG_IN_RECOVERY : 0)
          | (a.defaultTransactionReadOnly() ? FLAG_DEFAULT_TX_READ_ONLY : 0);
      out.writeByte(flags);
      out.writeLong(a.timeline());
      out.writeLong(a.systemIdentifier());
      out.writeLong(a.replayLagMs());
      out.writeInt(a.serverVersionNum());
    } else if (frame instanceof Heartbeat h) {
      out.writeLong(h.sequence());
      out.writeLong(h.sentAtMillis());
    } else if (frame instanceof Goodbye g) {
      writeString(g.reason(), out);
    } else {
      throw new IllegalArgumentException("not a heartbeat frame: " + frame);
    }
  }

  static byte typeOf(Frame frame) {
    if (frame instanceof Hello) {
      return TYPE_HELLO;
    } else if (frame instanceof Attributes) {
      return TYPE_ATTRIBUTES;
    } else if (frame instanceof Heartbeat) {
      return TYPE_HEARTBEAT;
    } else if (frame instanceof Goodbye) {
      return TYPE_GOODBYE;
    }
    throw new IllegalArgumentException("not a heartbeat frame: " + frame);
  }

  /**
   * Reads one body. Bytes after the fields this version knows are ignored: that is how a newer
   * minor revision appends fields without breaking older peers.
   *
   * @throws MalformedFrameException when the body is too short or a field is invalid
   */
  static Frame readBody(byte type, ByteBuf body) {
    return switch (type) {
      case TYPE_HELLO -> readHello(body);
      case TYPE_ATTRIBUTES -> {
        need(body, 1 + 8 + 8 + 8 + 4, "attributes");
        int flags = body.readUnsignedByte();
        yield new Attributes((flags & FLAG_REACHABLE) != 0, (flags & FLAG_IN_RECOVERY) != 0,
            (flags & FLAG_DEFAULT_TX_READ_ONLY) != 0, body.readLong(), body.readLong(),
            body.readLong(), body.readInt());
      }
      case TYPE_HEARTBEAT -> {
        need(body, 16, "heartbeat");
        yield new Heartbeat(body.readLong(), body.readLong());
      }
      case TYPE_GOODBYE -> new Goodbye(readString(body, "goodbye reason"));
      default -> throw new MalformedFrameException("unknown frame type " + (type & 0xff));
    };
  }

  private static Hello readHello(ByteBuf body) {
    need(body, 4 + 2, "hello");
    int magic = body.readInt();
    if (magic != HELLO_MAGIC) {
      throw new MalformedFrameException(
          String.format("hello magic 0x%08x is not 0x%08x (not a heartbeat client)", magic,
              HELLO_MAGIC));
    }
    int version = body.readUnsignedShort();
    if (version != HeartbeatProtocol.VERSION) {
      // Magic and version are frozen for every major version; the rest may change with the major,
      // so only the version is surfaced and the receiver answers with a Goodbye.
      return new Hello(version, 0, 0, "");
    }
    need(body, 4 + 4, "hello");
    int intervalMs = body.readInt();
    int timeoutMs = body.readInt();
    if (intervalMs <= 0 || timeoutMs <= 0) {
      throw new MalformedFrameException(
          "hello with interval " + intervalMs + " ms and timeout " + timeoutMs + " ms");
    }
    return new Hello(version, intervalMs, timeoutMs, readString(body, "hello peer name"));
  }

  static void writeString(String s, ByteBuf out) {
    byte[] bytes = truncatedUtf8(s == null ? "" : s);
    out.writeShort(bytes.length);
    out.writeBytes(bytes);
  }

  private static String readString(ByteBuf body, String what) {
    need(body, 2, what);
    int length = body.readUnsignedShort();
    if (length > MAX_STRING_BYTES) {
      throw new MalformedFrameException(
          what + " of " + length + " bytes exceeds the limit of " + MAX_STRING_BYTES);
    }
    need(body, length, what);
    String s = body.toString(body.readerIndex(), length, StandardCharsets.UTF_8);
    body.skipBytes(length);
    return s;
  }

  /** UTF-8 bytes of {@code s}, cut at a code point boundary to at most MAX_STRING_BYTES. */
  static byte[] truncatedUtf8(String s) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    if (bytes.length <= MAX_STRING_BYTES) {
      return bytes;
    }
    int end = MAX_STRING_BYTES;
    while (end > 0 && (bytes[end] & 0xC0) == 0x80) { // continuation byte: back off to a lead byte
      end--;
    }
    return java.util.Arrays.copyOf(bytes, end);
  }

  private static void need(ByteBuf body, int bytes, String what) {
    if (body.readableBytes() < bytes) {
      throw new MalformedFrameException(what + " body truncated: needs " + bytes
          + " more bytes, has " + body.readableBytes());
    }
  }

  /** A frame that violates the layout; the connection carrying it is closed. */
  static final class MalformedFrameException extends RuntimeException {
    MalformedFrameException(String message) {
      super(message, null, false, false);
    }
  }
}
