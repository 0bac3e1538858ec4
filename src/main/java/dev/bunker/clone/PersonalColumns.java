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

    private PersonalColumns() {}

    public static boolean looksPersonal(String column) {
        String spaced = column.replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
        String[] words = spaced.split("[^a-z]+");
        for (int i = 0; i < words.length; i++) {
            String word = words[i];
            if (WORDS.contains(word)) return true;
            if (i + 1 < words.length && WORDS.contains(word + words[i + 1])) return true; // post_code, e_mail, Pass_Word
            if (word.length() > 3 && word.endsWith("s") && WORDS.contains(word.substring(0, word.length() - 1))) return true; // emails, phones
        }
        return false;
    }
}
