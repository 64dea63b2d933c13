package io.pgconmgr.protocol.heartbeat;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerAdapter;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ResourceLeakDetector;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Drives the frame decoder and encoder through EmbeddedChannel, checking every buffer is freed. */
class FrameCodecTest {
  private static ResourceLeakDetector.Level previousLevel;
  private static final List<String> LEAKS = new CopyOnWriteArrayList<>();

  private final List<ByteBuf> written = new ArrayList<>();
  private final List<FrameDecoder.Rejected> rejections = new ArrayList<>();

  @BeforeAll
  static void paranoidLeakDetection() {
    previousLevel = ResourceLeakDetector.getLevel();
    ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    // Leak reports go to the logger, which has no provider in tests: collect them instead.
    ByteBufUtil.setLeakListener((type, records) -> LEAKS.add(type + records));
  }

  @AfterAll
  static void noBufferLeaked() throws InterruptedException {
    // The detector reports a leak when a later allocation finds a collected, unreleased buffer.
    for (int i = 0; i < 5; i++) {
      System.gc();
      Thread.sleep(20);
      ByteBufAllocator.DEFAULT.buffer(8).release();
    }
    ByteBufUtil.setLeakListener(null);
    ResourceLeakDetector.setLevel(previousLevel);
    assertThat(LEAKS).as("leaked buffers").isEmpty();
  }

  static Stream<Frame> everyFrameType() {
    return Stream.of(
        new Hello(HeartbeatProtocol.VERSION, 10_000, 20_000, "app-7d9f-xk2 (conmgr)"),
        new Attributes(true, true, false, 3, 7_301_234_567_890_123_456L, 125, 170006),
        new Attributes(true, false, true, 0xFFFF_FFFFL, -1L, -1, 150004),
        Attributes.UNREACHABLE,
        new Heartbeat(42, 1_790_000_000_123L),
        new Goodbye("conmgr stopping"),
        new Goodbye(""),
        new Hello(HeartbeatProtocol.VERSION, 1, 1, "ünïcødé ✓"));
  }

  @ParameterizedTest
  @MethodSource("everyFrameType")
  void roundTripsEachFrameType(Frame frame) {
    EmbeddedChannel channel = decoderChannel();

    channel.writeInbound(track(encode(frame)));

    assertThat((Object) channel.readInbound()).isEqualTo(frame);
    assertNoExceptionAndAllReleased(channel);
  }

  @Test
  void decodesFramesSplitAtEveryByteBoundary() {
    List<Frame> frames = everyFrameType().toList();
    byte[] all = bytesOf(frames);

    for (int split = 1; split < all.length; split++) {
      EmbeddedChannel channel = decoderChannel();
      channel.writeInbound(track(Unpooled.wrappedBuffer(all, 0, split)));
      channel.writeInbound(track(Unpooled.wrappedBuffer(all, split, all.length - split)));

      assertThat(drainInbound(channel)).as("split at byte %d", split).isEqualTo(frames);
      assertNoExceptionAndAllReleased(channel);
    }
  }

  @Test
  void decodesFramesFedOneByteAtATime() {
    List<Frame> frames = everyFrameType().toList();
    EmbeddedChannel channel = decoderChannel();

    for (byte b : bytesOf(frames)) {
      channel.writeInbound(track(Unpooled.wrappedBuffer(new byte[] {b})));
    }

    assertThat(drainInbound(channel)).isEqualTo(frames);
    assertNoExceptionAndAllReleased(channel);
  }

  @Test
  void decodesSeveralFramesFromOneBuffer() {
    List<Frame> frames = everyFrameType().toList();
    EmbeddedChannel channel = decoderChannel();

    channel.writeInbound(track(Unpooled.wrappedBuffer(bytesOf(frames))));

    assertThat(drainInbound(channel)).isEqualTo(frames);
    assertNoExceptionAndAllReleased(channel);
  }

  @Test
  void closesConnectionOnUnknownFrameType() {
    assertClosesAfterHealthyFrame(rawFrame(0x7F, new byte[] {1, 2, 3}));
  }

  @Test
  void closesConnectionOnFrameTypeZero() {
    assertClosesAfterHealthyFrame(rawFrame(0, new byte[0]));
  }

  @Test
  void closesConnectionOnOversizeLengthWithoutWaitingForTheBody() {
    // Only the 2-byte prefix arrives: the cap must act before any body is buffered.
    EmbeddedChannel channel = decoderChannel();
    channel.writeInbound(track(Unpooled.wrappedBuffer(new byte[] {(byte) 0xFF, (byte) 0xFF})));
    assertThat(channel.isOpen()).isFalse();
    assertNoExceptionAndAllReleased(channel);

    assertClosesAfterHealthyFrame(new byte[] {(byte) 0xFF, (byte) 0xFF});
  }

  @Test
  void closesConnectionOnLengthJustAboveTheCap() {
    int length = FrameFormat.MAX_FRAME_LENGTH + 1;
    assertClosesAfterHealthyFrame(new byte[] {(byte) (length >> 8), (byte) length});
  }

  @Test
  void closesConnectionOnZeroLength() {
    assertClosesAfterHealthyFrame(new byte[] {0, 0});
  }

  @Test
  void closesConnectionOnTruncatedHeartbeatBody() {
    assertClosesAfterHealthyFrame(rawFrame(FrameFormat.TYPE_HEARTBEAT, new byte[8]));
  }

  @Test
  void closesConnectionOnTruncatedAttributesBody() {
    assertClosesAfterHealthyFrame(rawFrame(FrameFormat.TYPE_ATTRIBUTES, new byte[28]));
  }

  @Test
  void closesConnectionOnStringLongerThanItsFrame() {
    // Goodbye body: u16 string length 200, but only 3 bytes follow inside the frame.
    assertClosesAfterHealthyFrame(
        rawFrame(FrameFormat.TYPE_GOODBYE, new byte[] {0, (byte) 200, 'a', 'b', 'c'}));
  }

  @Test
  void closesConnectionOnStringOverItsCap() {
    int length = FrameFormat.MAX_STRING_BYTES + 1;
    byte[] body = new byte[2 + length];
    body[0] = (byte) (length >> 8);
    body[1] = (byte) length;
    assertClosesAfterHealthyFrame(rawFrame(FrameFormat.TYPE_GOODBYE, body));
  }

  @Test
  void closesConnectionOnHelloWithoutMagic() {
    byte[] httpRequest = "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    // "GE" read as a length is 0x4745 = 18245: over the cap, refused before buffering.
    EmbeddedChannel channel = decoderChannel();
    channel.writeInbound(track(Unpooled.wrappedBuffer(httpRequest)));
    assertThat(channel.isOpen()).isFalse();
    assertNoExceptionAndAllReleased(channel);

    byte[] wrongMagic = bytesOf(List.of(new Hello(1, 1000, 2000, "x")));
    wrongMagic[3] = 'X';
    assertClosesAfterHealthyFrame(wrongMagic);
  }

  @Test
  void closesConnectionOnHelloWithNonPositiveTimings() {
    assertClosesAfterHealthyFrame(bytesOf(List.of(new Hello(1, 0, 2000, "x"))));
    assertClosesAfterHealthyFrame(bytesOf(List.of(new Hello(1, 1000, -5, "x"))));
  }

  @Test
  void surfacesOnlyTheVersionOfAHelloFromAnotherMajorVersion() {
    // A future major may lay out the rest of its Hello differently; only magic+version are frozen.
    byte[] body = {0x50, 0x47, 0x43, 0x4D, 0, 2, 9, 9, 9};
    EmbeddedChannel channel = decoderChannel();

    channel.writeInbound(track(Unpooled.wrappedBuffer(rawFrame(FrameFormat.TYPE_HELLO, body))));

    assertThat((Object) channel.readInbound()).isEqualTo(new Hello(2, 0, 0, ""));
    assertThat(channel.isOpen()).isTrue();
    assertNoExceptionAndAllReleased(channel);
  }

  @Test
  void ignoresTrailingFieldsOfANewerMinorRevision() {
    Heartbeat heartbeat = new Heartbeat(7, 1234);
    byte[] known = bytesOf(List.of(heartbeat));
    byte[] body = new byte[known.length - 3 + 5];
    System.arraycopy(known, 3, body, 0, known.length - 3); // body without length and type
    EmbeddedChannel channel = decoderChannel();

    channel.writeInbound(track(Unpooled.wrappedBuffer(rawFrame(FrameFormat.TYPE_HEARTBEAT, body))));
    channel.writeInbound(track(encode(new Goodbye("next"))));

    assertThat(drainInbound(channel)).containsExactly(heartbeat, new Goodbye("next"));
    assertNoExceptionAndAllReleased(channel);
  }

  @Test
  void ignoresUnknownAttributeFlagBits() {
    byte[] bytes = bytesOf(List.of(new Attributes(true, false, false, 1, 2, -1, 170000)));
    bytes[3] |= (byte) 0xF0;
    EmbeddedChannel channel = decoderChannel();

    channel.writeInbound(track(Unpooled.wrappedBuffer(bytes)));

    assertThat((Object) channel.readInbound())
        .isEqualTo(new Attributes(true, false, false, 1, 2, -1, 170000));
    assertNoExceptionAndAllReleased(channel);
  }

  @Test
  void randomBytesNeverThrowAndNeverLeak() {
    Random random = new Random(20261127L);
    int closed = 0;
    for (int run = 0; run < 2000; run++) {
      EmbeddedChannel channel = decoderChannel();
      channel.writeInbound(track(encode(new Heartbeat(run, run))));
      assertThat((Object) channel.readInbound()).isEqualTo(new Heartbeat(run, run));

      byte[] noise = new byte[random.nextInt(64) + 3];
      random.nextBytes(noise);
      if (run % 2 == 0) {
        noise[0] = 0; // small length prefixes so that bodies, not only lengths, get exercised
        noise[1] = (byte) random.nextInt(40);
      }
      if (noise.length > 2 && run % 4 == 0) {
        noise[2] = (byte) (1 + random.nextInt(4)); // a known type with a random body
      }
      channel.writeInbound(track(Unpooled.wrappedBuffer(noise)));
      drainInbound(channel).forEach(f -> assertThat(f).isInstanceOf(Frame.class));
      if (!channel.isOpen()) {
        closed++;
      }
      assertThat(rejections).as("one rejection per closed connection")
          .hasSize(channel.isOpen() ? 0 : 1);
      assertNoExceptionAndAllReleased(channel);
    }
    System.out.printf("random noise: %d of 2000 connections closed as malformed%n", closed);
    assertThat(closed).isPositive();
  }

  @Test
  void encoderCutsLongStringsAtACodePointBoundary() {
    String reason = "é".repeat(300); // 600 UTF-8 bytes, each char two bytes
    EmbeddedChannel channel = decoderChannel();

    channel.writeInbound(track(encode(new Goodbye(reason))));

    Goodbye decoded = channel.readInbound();
    assertThat(decoded.reason()).isEqualTo("é".repeat(FrameFormat.MAX_STRING_BYTES / 2));
    assertNoExceptionAndAllReleased(channel);
  }

  @Test
  void encodesHeartbeatWithTheDocumentedLayout() {
    byte[] bytes = bytesOf(List.of(new Heartbeat(1, 2)));
    assertThat(bytes).containsExactly(
        0, 17, FrameFormat.TYPE_HEARTBEAT, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2);
  }

  @Test
  void addToInstallsNamedHandlersAndLeavesRoomForTlsInFront() {
    EmbeddedChannel channel = new EmbeddedChannel();
    HeartbeatCodec.addTo(channel.pipeline());
    channel.pipeline().addFirst(HeartbeatCodec.TLS_NAME, new ChannelHandlerAdapter() { });

    assertThat(channel.pipeline().names()).startsWith(
        HeartbeatCodec.TLS_NAME, HeartbeatCodec.DECODER_NAME, HeartbeatCodec.ENCODER_NAME);

    channel.writeOutbound(new Heartbeat(5, 6));
    ByteBuf out = channel.readOutbound();
    channel.writeInbound(track(out));
    assertThat((Object) channel.readInbound()).isEqualTo(new Heartbeat(5, 6));
    assertNoExceptionAndAllReleased(channel);
  }

  private void assertClosesAfterHealthyFrame(byte[] bad) {
    EmbeddedChannel channel = decoderChannel();
    channel.writeInbound(track(encode(new Heartbeat(1, 1))));
    assertThat((Object) channel.readInbound()).isEqualTo(new Heartbeat(1, 1));
    assertThat(channel.isOpen()).isTrue();

    // A good frame right behind the bad one, in the same read, must be dropped, not decoded.
    ByteBuf badThenGood = Unpooled.buffer().writeBytes(bad);
    ByteBuf good = encode(new Heartbeat(2, 2));
    badThenGood.writeBytes(good);
    good.release();
    channel.writeInbound(track(badThenGood));

    assertThat(channel.isOpen()).isFalse();
    assertThat((Object) channel.readInbound()).isNull();
    assertThat(rejections).singleElement().extracting(FrameDecoder.Rejected::reason)
        .asString().isNotBlank();
    assertNoExceptionAndAllReleased(channel);
  }

  /** A channel with the codec and a handler recording the decoder's rejections (reset here). */
  private EmbeddedChannel decoderChannel() {
    rejections.clear();
    EmbeddedChannel channel = new EmbeddedChannel();
    HeartbeatCodec.addTo(channel.pipeline()).addLast(new ChannelInboundHandlerAdapter() {
      @Override
      public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof FrameDecoder.Rejected r) {
          rejections.add(r);
        }
        ctx.fireUserEventTriggered(evt);
      }
    });
    return channel;
  }

  private ByteBuf track(ByteBuf buf) {
    written.add(buf);
    return buf;
  }

  /** Fails on any exception that reached the pipeline tail and on any unreleased input buffer. */
  private void assertNoExceptionAndAllReleased(EmbeddedChannel channel) {
    channel.checkException();
    channel.finishAndReleaseAll();
    channel.checkException();
    for (ByteBuf buf : written) {
      assertThat(buf.refCnt()).as("refCnt of an inbound buffer").isZero();
    }
    written.clear();
  }

  private static List<Frame> drainInbound(EmbeddedChannel channel) {
    List<Frame> frames = new ArrayList<>();
    for (Object o; (o = channel.readInbound()) != null; ) {
      frames.add((Frame) o);
    }
    return frames;
  }

  private static ByteBuf encode(Frame frame) {
    EmbeddedChannel encoder = new EmbeddedChannel(FrameEncoder.INSTANCE);
    encoder.writeOutbound(frame);
    ByteBuf out = encoder.readOutbound();
    encoder.finishAndReleaseAll();
    return out;
  }

  private static byte[] bytesOf(List<Frame> frames) {
    ByteBuf all = Unpooled.buffer();
    for (Frame frame : frames) {
      ByteBuf one = encode(frame);
      all.writeBytes(one);
      one.release();
    }
    byte[] bytes = new byte[all.readableBytes()];
    all.readBytes(bytes);
    all.release();
    return bytes;
  }

  private static byte[] rawFrame(int type, byte[] body) {
    int length = 1 + body.length;
    byte[] frame = new byte[2 + length];
    frame[0] = (byte) (length >> 8);
    frame[1] = (byte) length;
    frame[2] = (byte) type;
    System.arraycopy(body, 0, frame, 3, body.length);
    return frame;
  }
}
