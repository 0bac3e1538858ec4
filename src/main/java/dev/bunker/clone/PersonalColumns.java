package dev.bunker.clone;

import java.util.Locale;
import java.util.Set;

/**
 * Which column names look personal: a word of the name (split at underscores, dashes, digits and camelCase humps) is one of
 * the usual words for contact data, identities, network addresses or secrets. Errs on the side of asking: a column it flags
 * must be scrubbed or marked {@code keep}, so one added to production later cannot reach a clone unnoticed.
 */
public final class PersonalColumns {
    private static final Set<String> WORDS = Set.of(
            "email", "mail", "emailaddress", "phone", "phonenumber", "mobile", "tel", "telephone", "fax",
            "name", "firstname", "lastname", "fullname", "surname", "forename", "username", "nickname", "login",
            "address", "addr", "street", "city", "zip", "zipcode", "postcode", "postal", "latitude", "longitude",
            "ip", "ipaddress", "token", "secret", "password", "passwd", "pwd", "iban", "ssn", "birth", "birthday", "birthdate",
            "dob", "card", "passport", "gender");

    /** Words whose values name or reach one person on their own, wherever they sit: moving them between rows hides nothing. */
    private static final Set<String> IDENTIFYING = Set.of(
            "email", "mail", "emailaddress", "phone", "phonenumber", "mobile", "tel", "telephone", "fax",
            "name", "firstname", "lastname", "fullname", "surname", "forename", "username", "nickname", "login",
            "address", "addr", "street", "ip", "ipaddress", "token", "secret", "password", "passwd", "pwd", "iban", "ssn", "card", "passport");

    private PersonalColumns() {}

    /**
     * Whether the column's values identify someone by themselves (an e-mail, a name, a card number), so a {@code shuffle},
     * which keeps every value and only moves it to another row, leaves them all readable. A city or a birth date shuffled
     * no longer points at its person; an e-mail address still does.
     */
    public static boolean identifying(String column) {
        return matches(column, IDENTIFYING);
    }

    public static boolean looksPersonal(String column) {
        return matches(column, WORDS);
    }

    private static boolean matches(String column, Set<String> vocabulary) {
        String spaced = column.replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
        String[] words = spaced.split("[^a-z]+");
        for (int i = 0; i < words.length; i++) {
            String word = words[i];
            if (vocabulary.contains(word)) return true;
            if (i + 1 < words.length && vocabulary.contains(word + words[i + 1])) return true; // post_code, e_mail, Pass_Word
            if (word.length() > 3 && word.endsWith("s") && vocabulary.contains(word.substring(0, word.length() - 1))) return true; // emails, phones
        }
        return false;
    }
}
