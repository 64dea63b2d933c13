package io.pgconmgr.conmgr.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

public class StartupPacketDecoderTest {

  /** A tiny client-message writer: the startup-phase packets a driver sends first. */
  public static ByteBuf startup(Map<String, String> params) {
    ByteBuf body = Unpooled.buffer();
    body.writeInt(196608);
    params.forEach((k, v) -> {
      body.writeCharSequence(k, StandardCharsets.UTF_8);
      body.writeByte(0);
      body.writeCharSequence(v, StandardCharsets.UTF_8);
      body.writeByte(0);
    });
    body.writeByte(0);
    ByteBuf packet = Unpooled.buffer().writeInt(body.readableBytes() + 4).writeBytes(body);
    body.release();
    return packet;
  }

  static ByteBuf request(int code) {
    return Unpooled.buffer().writeInt(8).writeInt(code);
  }

  private static FirstPacket decodeAll(ByteBuf bytes) {
    EmbeddedChannel ch = new EmbeddedChannel(new StartupPacketDecoder());
    ch.writeInbound(bytes);
    FirstPacket p = ch.readInbound();
    assertThat(ch.pipeline().get(StartupPacketDecoder.class)).as("decoder leaves after the first packet").isNull();
    ch.finishAndReleaseAll();
    return p;
  }

  @Test
  void decodesStartupMessageParameters() {
    Map<String, String> params = new LinkedHashMap<>();
    params.put("user", "app");
    params.put("database", "shop");
    params.put("_pq_.conmgr_aware", "read-only");
    FirstPacket p = decodeAll(startup(params));
    try {
      assertThat(p.kind()).isEqualTo(FirstPacket.Kind.STARTUP);
      assertThat(p.protocol()).isEqualTo(196608);
      assertThat(p.parameters()).containsExactlyEntriesOf(params);
      assertThat(p.isAwareClient()).isTrue();
      ByteBuf expected = startup(params);
      assertThat(ByteBufUtilEquals.equal(p.raw(), expected)).as("raw bytes unchanged").isTrue();
      expected.release();
    } finally {
      p.release();
    }
  }

  @Test
  void classifiesSslGssAndCancelRequests() {
    FirstPacket ssl = decodeAll(request(StartupPacketDecoder.SSL_REQUEST_CODE));
    FirstPacket gss = decodeAll(request(StartupPacketDecoder.GSSENC_REQUEST_CODE));
    FirstPacket cancel = decodeAll(Unpooled.buffer().writeInt(16).writeInt(StartupPacketDecoder.CANCEL_REQUEST_CODE)
        .writeInt(4242).writeInt(77));
    assertThat(ssl.kind()).isEqualTo(FirstPacket.Kind.SSL_REQUEST);
    assertThat(gss.kind()).isEqualTo(FirstPacket.Kind.GSSENC_REQUEST);
    assertThat(cancel.kind()).isEqualTo(FirstPacket.Kind.CANCEL_REQUEST);
    assertThat(cancel.raw().readableBytes()).isEqualTo(16);
    ssl.release();
    gss.release();
    cancel.release();
  }

  @Test
  void startupSplitAtEveryByteBoundaryStillDecodes() {
    ByteBuf whole = startup(Map.of("user", "u", "database", "d"));
    for (int cut = 1; cut < whole.readableBytes(); cut++) {
      EmbeddedChannel ch = new EmbeddedChannel(new StartupPacketDecoder());
      ch.writeInbound(whole.retainedSlice(0, cut));
      assertThat((Object) ch.readInbound()).as("nothing before the packet is complete (cut %d)", cut).isNull();
      ch.writeInbound(whole.retainedSlice(cut, whole.readableBytes() - cut));
      FirstPacket p = ch.readInbound();
      assertThat(p.kind()).isEqualTo(FirstPacket.Kind.STARTUP);
      assertThat(p.parameters()).containsEntry("user", "u");
      p.release();
      ch.finishAndReleaseAll();
    }
    whole.release();
  }

  @Test
  void directTlsClientHelloIsForwardedAsIs() {
    ByteBuf hello = Unpooled.buffer().writeBytes(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, (byte) 0xfc});
    FirstPacket p = decodeAll(hello.retainedDuplicate());
    assertThat(p.kind()).isEqualTo(FirstPacket.Kind.OTHER);
    assertThat(ByteBufUtilEquals.equal(p.raw(), hello)).isTrue();
    p.release();
    hello.release();
  }

  @Test
  void oversizeOrUndersizeLengthIsNotParsed() {
    FirstPacket big = decodeAll(Unpooled.buffer().writeInt(StartupPacketDecoder.MAX_STARTUP_PACKET_LENGTH + 1).writeInt(196608));
    FirstPacket small = decodeAll(Unpooled.buffer().writeInt(4).writeInt(196608));
    FirstPacket oldProtocol = decodeAll(Unpooled.buffer().writeInt(8).writeInt(0x20000));
    assertThat(big.kind()).isEqualTo(FirstPacket.Kind.OTHER);
    assertThat(small.kind()).isEqualTo(FirstPacket.Kind.OTHER);
    assertThat(oldProtocol.kind()).isEqualTo(FirstPacket.Kind.OTHER);
    big.release();
    small.release();
    oldProtocol.release();
  }

  @Test
  void malformedStartupParametersAreForwardedForTheServerToReject() {
    ByteBuf bad = Unpooled.buffer().writeInt(14).writeInt(196608).writeBytes("user\0x".getBytes(StandardCharsets.UTF_8));
    FirstPacket p = decodeAll(bad);
    assertThat(p.kind()).isEqualTo(FirstPacket.Kind.OTHER);
    assertThat(p.raw().readableBytes()).isEqualTo(14);
    p.release();
  }

  @Test
  void waitsForTheLengthBeforeDeciding() {
    EmbeddedChannel ch = new EmbeddedChannel(new StartupPacketDecoder());
    ch.writeInbound(Unpooled.buffer().writeByte(0).writeByte(0));
    assertThat((Object) ch.readInbound()).isNull();
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  /** Byte equality without consuming either buffer. */
  static final class ByteBufUtilEquals {
    static boolean equal(ByteBuf a, ByteBuf b) {
      return io.netty.buffer.ByteBufUtil.equals(a, b);
    }
  }
}
