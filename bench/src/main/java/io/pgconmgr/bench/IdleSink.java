package io.pgconmgr.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * A TCP server that accepts any number of connections, reads and discards what they send, and never
 * answers: the far end for idle-connection measurements (keepalive packets, proxied idle sessions),
 * so they need no PostgreSQL backend per connection. Run as its own process: {@code IdleSink ADDRESS PORT}.
 */
public final class IdleSink {

    private IdleSink() {
    }

    public static void main(String[] args) throws IOException {
        try (Selector selector = Selector.open(); ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress(args[0], Integer.parseInt(args[1])), 4096);
            server.configureBlocking(false);
            server.register(selector, SelectionKey.OP_ACCEPT);
            System.out.println("listening on " + args[0] + ":" + args[1]);
            System.out.flush();
            ByteBuffer buf = ByteBuffer.allocateDirect(64 * 1024);
            while (true) {
                selector.select();
                for (SelectionKey key : selector.selectedKeys()) {
                    if (key.isAcceptable()) {
                        SocketChannel c;
                        while ((c = server.accept()) != null) {
                            c.configureBlocking(false);
                            c.register(selector, SelectionKey.OP_READ);
                        }
                    } else if (key.isReadable()) {
                        SocketChannel c = (SocketChannel) key.channel();
                        buf.clear();
                        int n;
                        try {
                            n = c.read(buf);
                        } catch (IOException e) {
                            n = -1;
                        }
                        if (n < 0) {
                            key.cancel();
                            c.close();
                        }
                    }
                }
                selector.selectedKeys().clear();
            }
        }
    }
}
