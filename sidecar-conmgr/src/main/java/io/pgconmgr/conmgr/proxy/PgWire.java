package io.pgconmgr.conmgr.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/**
 * The few PostgreSQL protocol messages conmgr writes itself: ErrorResponse, the one-byte
 * SSL/GSS refusal, and the aware-client messages of docs/aware-client-protocol.md.
 */
public final class PgWire {

  /** SQLSTATE cannot_connect_now: the server-side code for "no instance can take you right now". */
  public static final String CANNOT_CONNECT_NOW = "57P03";
  /** SQLSTATE invalid_parameter_value: a bad target in an aware client's startup packet. */
  public static final String INVALID_PARAMETER_VALUE = "22023";
  /** SQLSTATE connection_failure: the chosen instance refused the connection. */
  public static final String CONNECTION_FAILURE = "08006";

  /** Message type of conmgr's own messages on an aware-client channel. */
  public static final byte CONMGR_MESSAGE = 'M';
  /** Kind byte of the message carrying the instance address. */
  public static final byte KIND_ADDRESS = 'A';
  /** Kind byte of the failure notice. */
  public static final byte KIND_FAILURE = 'F';
  /** Version of the aware-client messages this build writes. */
  public static final short AWARE_PROTOCOL_VERSION = 1;

  private PgWire() {
  }

  /** A FATAL ErrorResponse ('E'), as the postmaster sends before closing. */
  public static ByteBuf errorResponse(ByteBufAllocator alloc, String sqlState, String message, String detail) {
    ByteBuf buf = alloc.buffer();
    buf.writeByte('E');
    int lengthAt = buf.writerIndex();
    buf.writeInt(0);
    field(buf, 'S', "FATAL");
    field(buf, 'V', "FATAL");
    field(buf, 'C', sqlState);
    field(buf, 'M', message);
    if (detail != null && !detail.isEmpty()) {
      field(buf, 'D', detail);
    }
    buf.writeByte(0);
    buf.setInt(lengthAt, buf.writerIndex() - lengthAt);
    return buf;
  }

  /** The 'N' answer to SSLRequest/GSSENCRequest: "not here, continue in clear text". */
  public static ByteBuf refuseEncryption(ByteBufAllocator alloc) {
    return alloc.buffer(1).writeByte('N');
  }

  /** 'M' 'A': the instance an aware client should connect to. */
  public static ByteBuf instanceAddress(ByteBufAllocator alloc, String host, int port, int instance, String role) {
    ByteBuf buf = header(alloc, KIND_ADDRESS);
    buf.writeShort(AWARE_PROTOCOL_VERSION);
    cstring(buf, host);
    buf.writeInt(port);
    buf.writeInt(instance);
    cstring(buf, role);
    return finish(buf);
  }

  /** 'M' 'F': the link to the instance is lost; the client must treat its connection as dead. */
  public static ByteBuf failureNotice(ByteBufAllocator alloc, int instance, String reason) {
    ByteBuf buf = header(alloc, KIND_FAILURE);
    buf.writeInt(instance);
    cstring(buf, reason);
    return finish(buf);
  }

  private static ByteBuf header(ByteBufAllocator alloc, byte kind) {
    ByteBuf buf = alloc.buffer();
    buf.writeByte(CONMGR_MESSAGE);
    buf.writeInt(0);
    buf.writeByte(kind);
    return buf;
  }

  private static ByteBuf finish(ByteBuf buf) {
    buf.setInt(1, buf.writerIndex() - 1);
    return buf;
  }

  private static void field(ByteBuf buf, char code, String value) {
    buf.writeByte(code);
    cstring(buf, value);
  }

  private static void cstring(ByteBuf buf, String s) {
    // A zero byte inside would end the string early on the reader's side.
    buf.writeCharSequence(s.replace('\0', ' '), StandardCharsets.UTF_8);
    buf.writeByte(0);
  }
}
