package io.pgconmgr.conmgr.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the first packet of a client connection and emits it once as a {@link FirstPacket}, then
 * leaves the pipeline: after that, bytes pass through unparsed. Every length is capped like the
 * postmaster does it (10000 bytes for a startup packet); anything that does not look like a
 * startup-phase message is emitted as {@link FirstPacket.Kind#OTHER} with the bytes received.
 */
public final class StartupPacketDecoder extends ByteToMessageDecoder {

  /** PostgreSQL's MAX_STARTUP_PACKET_LENGTH. */
  public static final int MAX_STARTUP_PACKET_LENGTH = 10_000;
  public static final int SSL_REQUEST_CODE = 80877103;
  public static final int GSSENC_REQUEST_CODE = 80877104;
  public static final int CANCEL_REQUEST_CODE = 80877102;

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    FirstPacket packet = classify(in);
    if (packet != null) {
      out.add(packet);
      ctx.pipeline().remove(this);
    }
  }

  /** Classifies the bytes in {@code in}; null while more bytes are needed. Consumes them when done. */
  static FirstPacket classify(ByteBuf in) {
    int start = in.readerIndex();
    if (in.readableBytes() < 1) {
      return null;
    }
    // A startup-phase length is < 10000, so a real first packet starts with a zero byte; a TLS
    // ClientHello (0x16) or anything else is not ours to interpret.
    if (in.getByte(start) != 0) {
      return other(in);
    }
    if (in.readableBytes() < 8) {
      return null;
    }
    int length = in.getInt(start);
    int code = in.getInt(start + 4);
    if (length < 8 || length > MAX_STARTUP_PACKET_LENGTH) {
      return other(in);
    }
    FirstPacket.Kind kind;
    if (code == SSL_REQUEST_CODE && length == 8) {
      kind = FirstPacket.Kind.SSL_REQUEST;
    } else if (code == GSSENC_REQUEST_CODE && length == 8) {
      kind = FirstPacket.Kind.GSSENC_REQUEST;
    } else if (code == CANCEL_REQUEST_CODE && length == 16) {
      kind = FirstPacket.Kind.CANCEL_REQUEST;
    } else if ((code >>> 16) == 3) {
      kind = FirstPacket.Kind.STARTUP;
    } else {
      return other(in);
    }
    if (in.readableBytes() < length) {
      return null;
    }
    Map<String, String> parameters = kind == FirstPacket.Kind.STARTUP
        ? parameters(in, start + 8, start + length) : Map.of();
    if (parameters == null) {
      return other(in);
    }
    return new FirstPacket(kind, in.readRetainedSlice(in.readableBytes()),
        kind == FirstPacket.Kind.STARTUP ? code : 0, parameters);
  }

  private static FirstPacket other(ByteBuf in) {
    return new FirstPacket(FirstPacket.Kind.OTHER, in.readRetainedSlice(in.readableBytes()), 0, Map.of());
  }

  /** Name/value C strings up to a final zero byte; null when malformed (the instance will say why). */
  private static Map<String, String> parameters(ByteBuf in, int from, int to) {
    Map<String, String> map = new LinkedHashMap<>();
    int i = from;
    while (i < to) {
      if (in.getByte(i) == 0) {
        return i == to - 1 ? map : null;
      }
      int nameEnd = in.indexOf(i, to, (byte) 0);
      if (nameEnd < 0) {
        return null;
      }
      int valueEnd = in.indexOf(nameEnd + 1, to, (byte) 0);
      if (valueEnd < 0) {
        return null;
      }
      map.put(in.toString(i, nameEnd - i, StandardCharsets.UTF_8),
          in.toString(nameEnd + 1, valueEnd - nameEnd - 1, StandardCharsets.UTF_8));
      i = valueEnd + 1;
    }
    return null;
  }
}
