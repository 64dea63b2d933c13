package io.pgconmgr.bench;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;

/** Tiny HTTP GET for the sidecars' /ready and /metrics. */
final class Http {

    private Http() {
    }

    /** Status code of a GET, or -1 when nothing answers. */
    static int status(String url) {
        try {
            HttpURLConnection c = (HttpURLConnection) new URL(url).openConnection();
            c.setConnectTimeout(500);
            c.setReadTimeout(2000);
            int code = c.getResponseCode();
            c.disconnect();
            return code;
        } catch (IOException e) {
            return -1;
        }
    }

    /** Body of a GET, or "" when it fails. */
    static String get(String url) {
        try {
            HttpURLConnection c = (HttpURLConnection) new URL(url).openConnection();
            c.setConnectTimeout(1000);
            c.setReadTimeout(10000);
            try (InputStream in = c.getInputStream()) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * The samples of one metric in a Prometheus scrape (every label set), combined by {@code op}
     * (e.g. {@code Double::sum}, {@code Math::max}); NaN when the metric is absent.
     */
    static double metric(String scrape, String name, java.util.function.DoubleBinaryOperator op) {
        return scrape.lines().filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .reduce(op).orElse(Double.NaN);
    }
}
