package io.taskmesh.sidecar.identity;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** What a test client reads: each chunk as text, and an empty string when the other side closes. */
final class Answers extends ChannelInboundHandlerAdapter {
  private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object message) {
    answers.add(((ByteBuf) message).toString(StandardCharsets.UTF_8));
    ((ByteBuf) message).release();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    answers.add("");
  }

  /** The next answer, waiting at most 20 s; {@code null} when none came. */
  String next() throws InterruptedException {
    return answers.poll(20, TimeUnit.SECONDS);
  }
}
