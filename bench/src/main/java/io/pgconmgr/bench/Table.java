package io.pgconmgr.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** A Markdown table printed on stdout, so a run's output can be pasted into docs/BENCHMARKS.md as it is. */
public final class Table {

    private final String title;
    private final List<String> header;
    private final List<List<String>> rows = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();

    public Table(String title, String... header) {
        this.title = title;
        this.header = List.of(header);
    }

    public Table row(Object... cells) {
        List<String> r = new ArrayList<>();
        for (Object c : cells) {
            r.add(String.valueOf(c));
        }
        while (r.size() < header.size()) {
            r.add("");
        }
        rows.add(r);
        return this;
    }

    public Table note(String note) {
        notes.add(note);
        return this;
    }

    public String render() {
        StringBuilder sb = new StringBuilder("\n### ").append(title).append("\n\n");
        sb.append("| ").append(String.join(" | ", header)).append(" |\n");
        sb.append("|").append("---|".repeat(header.size())).append("\n");
        for (List<String> r : rows) {
            sb.append("| ").append(String.join(" | ", r)).append(" |\n");
        }
        if (!notes.isEmpty()) {
            sb.append("\n");
            notes.forEach(n -> sb.append("- ").append(n).append("\n"));
        }
        return sb.toString();
    }

    public void print() {
        System.out.println(render());
        System.out.flush();
    }

    /** Formats with a fixed number of decimals, independent of the machine's locale. */
    public static String fmt(double v, int decimals) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%,." + decimals + "f", v);
    }

    /** Seconds with two decimals from nanoseconds. */
    public static String secs(long nanos) {
        return String.format(Locale.ROOT, "%.2f s", nanos / 1e9);
    }

    /** Progress lines go to stderr so stdout stays a clean report. */
    public static void progress(String line) {
        System.err.println("[bench] " + line);
        System.err.flush();
    }
}
