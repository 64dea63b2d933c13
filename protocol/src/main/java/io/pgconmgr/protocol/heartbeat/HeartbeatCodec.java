package io.pgconmgr.protocol.heartbeat;

import io.netty.channel.ChannelPipeline;

/**
 * Installs the heartbeat frame codec into a pipeline under fixed names, so the watchdog, conmgr
 * and operator pipelines look alike and a TLS handler can be put in front with
 * {@code pipeline.addFirst(HeartbeatCodec.TLS_NAME, sslHandler)}.
 */
public final class HeartbeatCodec {
  /** Name of the {@link FrameDecoder} in the pipeline. */
  public static final String DECODER_NAME = "heartbeat-frame-decoder";
  /** Name of the {@link FrameEncoder} in the pipeline. */
  public static final String ENCODER_NAME = "heartbeat-frame-encoder";
  /** Name of the SslHandler in front of the codec, when the link uses TLS. */
  public static final String TLS_NAME = "heartbeat-tls";

  private HeartbeatCodec() {
  }

  /**
   * Appends the decoder and the encoder at the end of {@code pipeline}; add the session handler
   * after this call. Inbound {@link Frame} objects then reach later handlers, and
   * {@code channel.writeAndFlush(frame)} sends any frame.
   */
  public static ChannelPipeline addTo(ChannelPipeline pipeline) {
    return pipeline
        .addLast(DECODER_NAME, new FrameDecoder())
        .addLast(ENCODER_NAME, FrameEncoder.INSTANCE);
  }
}
