package dev.bunker.mariadb;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads {@code SHOW GRANTS} lines and says which privileges would let the backup user change the data of one database:
 * a backup account must only read (the seed's "backup scripts with their own SELECT-only user"), so a thief of its
 * password cannot delete what it backs up.
 */
public final class Grants {
    /**
     * Privileges that change data or schema, write past read_only (SUPER), run definer-rights routines that may write
     * (EXECUTE), make such routines or views, write or read server files (FILE), or purge the binary log (BINLOG ADMIN).
     */
    static final Set<String> WRITES = Set.of("ALL", "ALL PRIVILEGES", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "INDEX",
            "DELETE HISTORY", "SUPER", "EXECUTE", "CREATE ROUTINE", "ALTER ROUTINE", "CREATE VIEW", "FILE", "BINLOG ADMIN");
    /** A name as SHOW GRANTS writes it: backquoted (with `` for a backquote, and spaces allowed), or bare, or *. */
    private static final String NAME = "(?:`(?:[^`]|``)*`|[^\\s.`]+|\\*)";
    private static final Pattern GRANT = Pattern.compile("^GRANT (.+?) ON (?:(?:TABLE|FUNCTION|PROCEDURE|PACKAGE|PACKAGE BODY) )?(" + NAME
            + "(?:\\." + NAME + ")?) TO ", Pattern.CASE_INSENSITIVE);
    /** A role granted to the user: {@code GRANT `role` TO `user`@`host`}. */
    private static final Pattern ROLE = Pattern.compile("^GRANT (`(?:[^`]|``)+`(?:@`[^`]*`)?(?:, *`(?:[^`]|``)+`(?:@`[^`]*`)?)*) TO ", Pattern.CASE_INSENSITIVE);

    private Grants() {}

    /** Whether {@code grants} give {@code privilege} (or ALL) on {@code database}. */
    public static boolean holds(List<String> grants, String privilege, String database) {
        return holds(grants, privilege, on -> reaches(on, database));
    }

    /** Whether {@code grants} give {@code privilege} (or ALL) on every database ({@code ON *.*}). */
    public static boolean holdsGlobally(List<String> grants, String privilege) {
        return holds(grants, privilege, on -> on.equals("*.*") || on.equals("*"));
    }

    /** Whether a grant whose object ({@code *.*}, {@code `db`.*}, ...) {@code covers} says so gives {@code privilege} or ALL. */
    private static boolean holds(List<String> grants, String privilege, java.util.function.Predicate<String> covers) {
        for (String g : grants) {
            Matcher m = GRANT.matcher(g.strip());
            if (!m.find() || !covers.test(m.group(2))) continue;
            for (String priv : splitPrivileges(m.group(1))) {
                String p = priv.strip().toUpperCase(Locale.ROOT);
                if (p.equals(privilege) || p.equals("ALL") || p.equals("ALL PRIVILEGES")) return true;
            }
        }
        return false;
    }

    /** The write privileges among {@code grants} that reach {@code database} (global, on it, or on one of its tables), as "INSERT ON `shop`.*". */
    public static List<String> writesOn(List<String> grants, String database) {
        List<String> found = new ArrayList<>();
        for (String g : grants) {
            Matcher m = GRANT.matcher(g.strip());
            if (!m.find()) continue;
            String on = m.group(2);
            if (!reaches(on, database)) continue;
            for (String priv : splitPrivileges(m.group(1))) {
                String p = priv.replaceAll("\\s*\\(.*$", "").strip().toUpperCase(Locale.ROOT); // a column list: SELECT (a, b)
                if (WRITES.contains(p)) found.add(p + " ON " + on);
            }
        }
        return found;
    }

    /** The roles granted to the user ({@code `name`}), whose own grants count too. */
    public static List<String> roles(List<String> grants) {
        List<String> out = new ArrayList<>();
        for (String g : grants) {
            String s = g.strip();
            if (GRANT.matcher(s).find()) continue;
            Matcher m = ROLE.matcher(s);
            if (!m.find()) continue;
            for (String r : m.group(1).split(", *")) out.add(r);
        }
        return out;
    }

    private static List<String> splitPrivileges(String list) {
        List<String> out = new ArrayList<>();
        int depth = 0;
        StringBuilder cur = new StringBuilder();
        for (char c : list.toCharArray()) {
            if (c == '(') depth++;
            if (c == ')') depth--;
            if (c == ',' && depth == 0) {
                out.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        out.add(cur.toString());
        return out;
    }

    /** Whether a grant's object ({@code *.*}, {@code `db`.*}, {@code `db`.`t`}, a LIKE pattern such as {@code `sh%`.*}) covers {@code database}. */
    static boolean reaches(String on, String database) {
        if (on.equals("*.*") || on.equals("*")) return true;
        int dot = dbEnd(on);
        if (dot < 0) return false;
        String db = on.substring(0, dot);
        if (db.startsWith("`") && db.endsWith("`")) db = db.substring(1, db.length() - 1).replace("``", "`");
        return like(db, database);
    }

    private static int dbEnd(String on) {
        if (!on.startsWith("`")) return on.indexOf('.');
        for (int i = 1; i < on.length(); i++) {
            if (on.charAt(i) != '`') continue;
            if (i + 1 < on.length() && on.charAt(i + 1) == '`') {
                i++;
                continue;
            }
            return i + 1 < on.length() && on.charAt(i + 1) == '.' ? i + 1 : -1;
        }
        return -1;
    }

    /** SQL LIKE with {@code %}, {@code _} and backslash escapes, as database-level grants match names. */
    static boolean like(String pattern, String name) {
        StringBuilder re = new StringBuilder();
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c == '\\' && i + 1 < pattern.length()) re.append(Pattern.quote(String.valueOf(pattern.charAt(++i))));
            else if (c == '%') re.append(".*");
            else if (c == '_') re.append('.');
            else re.append(Pattern.quote(String.valueOf(c)));
        }
        return name.matches(re.toString());
    }
}
