package dev.bunker.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.config.Redact;
import dev.bunker.mariadb.MariaDbUrl;
import org.junit.jupiter.api.Test;

/** Database URLs with odd passwords: read right or refused, and never printed. */
class ConninfoTest {
    @Test
    void aPasswordWithARawAtOrSlashIsRefusedInsteadOfQuietlyConnectingToLocalhostAndIsNotPrinted() {
        for (String url : new String[] {"postgresql://app:s3cr@tpw@db.example.com:5433/shop", "postgresql://app:s3cr/tpw@db.example.com/shop"}) {
            assertThatThrownBy(() -> Conninfo.parse(url, null, null)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("cannot read the host").hasMessageContaining("%40")
                    .hasMessageNotContaining("s3cr").hasMessageNotContaining("tpw");
        }
    }

    @Test
    void percentEncodedPasswordsAndQueryParametersAreDecoded() {
        Conninfo c = Conninfo.parse("postgresql://app%40corp:s3cr%40t%2Fpw%3Ax+y@db.example.com:5433/shop", null, null);
        assertThat(c.host()).isEqualTo("db.example.com");
        assertThat(c.port()).isEqualTo(5433);
        assertThat(c.database()).isEqualTo("shop");
        assertThat(c.user()).isEqualTo("app@corp");
        assertThat(c.password()).isEqualTo("s3cr@t/pw:x+y");
        assertThat(c.toString()).doesNotContain("s3cr");

        Conninfo q = Conninfo.parse("postgresql://db.example.com/shop?user=app&password=p%26w&sslmode=require", null, null);
        assertThat(q.user()).isEqualTo("app");
        assertThat(q.password()).isEqualTo("p&w");
        assertThat(q.query()).isEqualTo("sslmode=require");
        assertThat(q.jdbcUrl()).doesNotContain("p%26w").doesNotContain("password");
        // given ones win over the URL's
        assertThat(Conninfo.parse("postgresql://a:b@h/d", "u", "pw").password()).isEqualTo("pw");
    }

    @Test
    void redactionMasksTheWholePasswordWhateverItHolds() {
        assertThat(Redact.databaseUrl("postgresql://app:s3cr@tpw@db.example.com/shop")).isEqualTo("postgresql://app:" + Redact.MASK + "@db.example.com/shop");
        assertThat(Redact.databaseUrl("postgresql://app:s3cr/tpw@db.example.com/shop")).isEqualTo("postgresql://app:" + Redact.MASK + "@db.example.com/shop");
        assertThat(Redact.databaseUrl("postgresql://app:pw@db.example.com/shop?application_name=a@b&password=x"))
                .isEqualTo("postgresql://app:" + Redact.MASK + "@db.example.com/shop?application_name=a@b&password=" + Redact.MASK);
        assertThat(Redact.databaseUrl("postgresql://app@db.example.com:5432/shop")).isEqualTo("postgresql://app@db.example.com:5432/shop");
        assertThatThrownBy(() -> MariaDbUrl.parse("mariadb://bk:s3cr/tpw@db.example.com/shop", null, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageNotContaining("s3cr").hasMessageNotContaining("tpw");
    }
}
