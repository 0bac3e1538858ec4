package dev.bunker.web;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Strict percent-decoding of URL parts into UTF-8 text. Unlike a lenient decoder, which turns
 * invalid bytes into U+FFFD and so makes {@code x%FFy} and {@code x%FEy} the same key, every
 * malformed escape or byte sequence is refused with a 400 that says where it is.
 */
final class PercentDecoding {
    private PercentDecoding() {}

    /** Decodes {@code raw}; {@code plusIsSpace} for query strings (form encoding). */
    static String decode(String raw, String where, boolean plusIsSpace) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                if (i + 2 >= raw.length() || hex(raw.charAt(i + 1)) < 0 || hex(raw.charAt(i + 2)) < 0) {
                    throw new BadRequestException(where + " has a malformed %-escape at position " + i
                            + "; write a '%' as %25 and other bytes as %XX with two hex digits");
                }
                bytes.write(hex(raw.charAt(i + 1)) * 16 + hex(raw.charAt(i + 2)));
                i += 2;
            } else if (c == '+' && plusIsSpace) {
                bytes.write(' ');
            } else if (c < 0x80) {
                bytes.write(c);
            } else {
                // Raw non-ASCII in the request line: take it as the server read it, but never a substitute for bytes it could not read.
                if (c == '\uFFFD') throw notUtf8(where, i);
                byte[] encoded = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                if (Character.isHighSurrogate(c) && i + 1 < raw.length()) {
                    encoded = raw.substring(i, i + 2).getBytes(StandardCharsets.UTF_8);
                    i++;
                }
                bytes.write(encoded, 0, encoded.length);
            }
        }
        byte[] b = bytes.toByteArray();
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(b);
        CharBuffer out = CharBuffer.allocate(b.length);
        CoderResult result = utf8.decode(in, out, true);
        if (result.isError()) throw notUtf8(where, in.position());
        result = utf8.flush(out);
        if (result.isError()) throw notUtf8(where, in.position());
        return out.flip().toString();
    }

    private static BadRequestException notUtf8(String where, int position) {
        return new BadRequestException(where + " is not valid UTF-8 (at decoded byte " + position
                + "); keys are text: percent-encode the UTF-8 bytes of each character");
    }

    private static int hex(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }
}
