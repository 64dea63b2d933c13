package io.pgconmgr.protocol.heartbeat;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;

/** Writes a {@link Frame} as u16 length, u8 type, body. Stateless, so one instance serves all. */
@Sharable
public final class FrameEncoder extends MessageToByteEncoder<Frame> {
  /** The shared instance. */
  public static final FrameEncoder INSTANCE = new FrameEncoder();

  private FrameEncoder() {
    super(Frame.class);
  }

  @Override
  protected void encode(ChannelHandlerContext ctx, Frame frame, ByteBuf out) {
    int start = out.writerIndex();
    out.writeShort(0); // patched below once the body length is known
    out.writeByte(FrameFormat.typeOf(frame));
    FrameFormat.writeBody(frame, out);
    out.setShort(start, out.writerIndex() - start - FrameFormat.LENGTH_FIELD_BYTES);
  }
}
