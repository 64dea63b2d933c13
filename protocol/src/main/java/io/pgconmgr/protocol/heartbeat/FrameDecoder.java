package io.pgconmgr.protocol.heartbeat;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.pgconmgr.protocol.heartbeat.FrameFormat.MalformedFrameException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns bytes into {@link Frame}s. Every length is checked against a cap before anything is
 * buffered; a frame that breaks the layout closes the connection instead of throwing, after a
 * {@link Rejected} user event that lets a later handler count it.
 */
public final class FrameDecoder extends ByteToMessageDecoder {
  private static final Logger LOG = LoggerFactory.getLogger(FrameDecoder.class);

  /**
   * Fired down the pipeline (user event) just before the decoder closes a connection for a frame
   * that breaks the layout; unhandled, Netty drops it.
   *
   * @param reason what was wrong, e.g. "frame length 2000 outside 1..1024"
   */
  public record Rejected(String reason) {
  }

  private enum State { READ_LENGTH, READ_FRAME, FAILED }

  private State state = State.READ_LENGTH;
  private int frameLength;

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    while (true) {
      switch (state) {
        case READ_LENGTH -> {
          if (in.readableBytes() < FrameFormat.LENGTH_FIELD_BYTES) {
            return;
          }
          frameLength = in.readUnsignedShort();
          if (frameLength < 1 || frameLength > FrameFormat.MAX_FRAME_LENGTH) {
            fail(ctx, in, "frame length " + frameLength + " outside 1.."
                + FrameFormat.MAX_FRAME_LENGTH);
            return;
          }
          state = State.READ_FRAME;
        }
        case READ_FRAME -> {
          if (in.readableBytes() < frameLength) {
            return;
          }
          ByteBuf frame = in.readSlice(frameLength);
          try {
            out.add(FrameFormat.readBody(frame.readByte(), frame));
          } catch (MalformedFrameException e) {
            fail(ctx, in, e.getMessage());
            return;
          }
          state = State.READ_LENGTH;
        }
        case FAILED -> {
          in.skipBytes(in.readableBytes()); // the connection is closing: drop whatever follows
          return;
        }
      }
    }
  }

  private void fail(ChannelHandlerContext ctx, ByteBuf in, String reason) {
    state = State.FAILED;
    in.skipBytes(in.readableBytes());
    LOG.warn("Closing heartbeat connection from {}: {}", ctx.channel().remoteAddress(), reason);
    ctx.fireUserEventTriggered(new Rejected(reason));
    ctx.close();
  }
}
