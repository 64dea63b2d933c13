package io.pgconmgr.bench;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** PostgreSQL wire bits the load generators need. */
final class PgWire {

    private PgWire() {
    }

    /** A protocol 3.0 StartupMessage with these name/value pairs. */
    static byte[] startup(String... nameValuePairs) {
        try {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            DataOutputStream d = new DataOutputStream(body);
            d.writeInt(196608);
            for (String s : nameValuePairs) {
                d.write(s.getBytes(StandardCharsets.UTF_8));
                d.write(0);
            }
            d.write(0);
            ByteArrayOutputStream msg = new ByteArrayOutputStream();
            new DataOutputStream(msg).writeInt(body.size() + 4);
            body.writeTo(msg);
            return msg.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
