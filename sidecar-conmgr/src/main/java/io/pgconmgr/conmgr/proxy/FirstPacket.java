package io.pgconmgr.conmgr.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCounted;
import java.util.Map;

/**
 * The first packet a client sent, classified. {@code raw} holds every byte received so far,
 * exactly as sent, to be forwarded to the instance unchanged.
 *
 * @param kind       what the packet is
 * @param raw        the bytes to forward (owned by this object until written or released)
 * @param protocol   protocol version of a startup message, else 0
 * @param parameters parameters of a startup message (user, database, options, _pq_.* ...), else empty
 */
public record FirstPacket(Kind kind, ByteBuf raw, int protocol, Map<String, String> parameters)
    implements ReferenceCounted {

  /** Startup-phase message types, plus everything else. */
  public enum Kind {
    /** StartupMessage, protocol 3.x. */
    STARTUP,
    /** SSLRequest: the client will start TLS with the instance if it answers 'S'. */
    SSL_REQUEST,
    /** GSSENCRequest: likewise for GSSAPI encryption. */
    GSSENC_REQUEST,
    /** CancelRequest of a running query (process id + secret key). */
    CANCEL_REQUEST,
    /** Not a PostgreSQL startup-phase message (e.g. a direct TLS ClientHello): forwarded as it is. */
    OTHER
  }

  /** Option of the startup packet that marks an aware client (docs/aware-client-protocol.md). */
  public static final String AWARE_OPTION = "_pq_.conmgr_aware";

  public boolean isAwareClient() {
    return kind == Kind.STARTUP && parameters.containsKey(AWARE_OPTION);
  }

  @Override
  public int refCnt() {
    return raw.refCnt();
  }

  @Override
  public FirstPacket retain() {
    raw.retain();
    return this;
  }

  @Override
  public FirstPacket retain(int increment) {
    raw.retain(increment);
    return this;
  }

  @Override
  public FirstPacket touch() {
    raw.touch();
    return this;
  }

  @Override
  public FirstPacket touch(Object hint) {
    raw.touch(hint);
    return this;
  }

  @Override
  public boolean release() {
    return raw.release();
  }

  @Override
  public boolean release(int decrement) {
    return raw.release(decrement);
  }
}
