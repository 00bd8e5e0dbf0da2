"""The schema scripts, applied in order by `PRAGMA user_version`; forward only, never edited."""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: customers, the append-only points ledger and its guards.
    """
    CREATE TABLE customers (
        id INTEGER PRIMARY KEY,
        telegram_id INTEGER UNIQUE,
        name TEXT NOT NULL DEFAULT '',
        language TEXT,
        phone TEXT,
        birthday TEXT,
        card_number TEXT NOT NULL UNIQUE,
        card_payload TEXT NOT NULL UNIQUE,
        promotions INTEGER NOT NULL DEFAULT 1 CHECK (promotions IN (0, 1)),
        balance INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
        card_file_id TEXT,
        card_file_key TEXT,
        created_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        forgotten_at TEXT
    ) STRICT;
    CREATE INDEX customers_phone ON customers(phone) WHERE phone IS NOT NULL;

    CREATE TABLE ledger (
        id INTEGER PRIMARY KEY,
        customer_id INTEGER NOT NULL REFERENCES customers(id),
        kind TEXT NOT NULL,
        amount INTEGER NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        operation_id TEXT NOT NULL UNIQUE,
        operator_id INTEGER,
        reverses_id INTEGER REFERENCES ledger(id),
        bill_minor INTEGER,
        created_at TEXT NOT NULL
    ) STRICT;
    CREATE INDEX ledger_customer ON ledger(customer_id, id);

    CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
    BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
    CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
    BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
    """,
    # 2: staff, single-use invites, operations awaiting confirmation, refund shortfalls.
    """
    CREATE TABLE staff (
        telegram_id INTEGER PRIMARY KEY,
        name TEXT NOT NULL DEFAULT '',
        role TEXT NOT NULL DEFAULT 'cashier' CHECK (role IN ('cashier')),
        added_by INTEGER,
        added_at TEXT NOT NULL,
        revoked_at TEXT
    ) STRICT;

    CREATE TABLE staff_invites (
        payload TEXT PRIMARY KEY,
        created_by INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_by INTEGER,
        used_at TEXT
    ) STRICT;

    CREATE TABLE pending_operations (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        customer_id INTEGER NOT NULL REFERENCES customers(id),
        operator_id INTEGER NOT NULL,
        points INTEGER NOT NULL,
        bill_minor INTEGER,
        reverses_id INTEGER REFERENCES ledger(id),
        status TEXT NOT NULL DEFAULT 'pending',
        staff_chat_id INTEGER,
        staff_message_id INTEGER,
        customer_message_id INTEGER,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    ) STRICT;

    ALTER TABLE ledger ADD COLUMN shortfall INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX ledger_operator ON ledger(operator_id, created_at) WHERE operator_id IS NOT NULL;
    CREATE INDEX ledger_reverses ON ledger(reverses_id) WHERE reverses_id IS NOT NULL;
    """,
    # 3: the program: lots that expire, the rules each earning was made under, the tier
    # a customer was last told about, and keys that make scheduled grants happen once.
    """
    ALTER TABLE ledger ADD COLUMN rules TEXT NOT NULL DEFAULT '';
    ALTER TABLE customers ADD COLUMN tier TEXT;
    ALTER TABLE pending_operations ADD COLUMN rules TEXT NOT NULL DEFAULT '';
    ALTER TABLE pending_operations ADD COLUMN reward TEXT NOT NULL DEFAULT '';

    CREATE TABLE lots (
        entry_id INTEGER PRIMARY KEY REFERENCES ledger(id),
        customer_id INTEGER NOT NULL REFERENCES customers(id),
        points INTEGER NOT NULL CHECK (points > 0),
        remaining INTEGER NOT NULL CHECK (remaining >= 0 AND remaining <= points),
        expires_at TEXT
    ) STRICT;
    CREATE INDEX lots_open ON lots(customer_id, entry_id) WHERE remaining > 0;
    CREATE INDEX lots_expiring ON lots(expires_at) WHERE remaining > 0 AND expires_at IS NOT NULL;

    -- Points held before lots existed become one lot per customer that never expires.
    INSERT INTO lots (entry_id, customer_id, points, remaining, expires_at)
    SELECT max(l.id), c.id, c.balance, c.balance, NULL
    FROM customers c JOIN ledger l ON l.customer_id = c.id AND l.amount > 0
    WHERE c.balance > 0 GROUP BY c.id;

    CREATE TABLE marks (
        customer_id INTEGER NOT NULL REFERENCES customers(id),
        kind TEXT NOT NULL,
        period TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (customer_id, kind, period)
    ) STRICT;

    CREATE TABLE job_runs (
        name TEXT PRIMARY KEY,
        last_day TEXT NOT NULL
    ) STRICT;
    CREATE INDEX ledger_kind_time ON ledger(customer_id, kind, created_at);
    """,
    # 4: referrals: each customer's personal link, and one row per invited friend.
    """
    ALTER TABLE customers ADD COLUMN referral_payload TEXT;
    CREATE UNIQUE INDEX customers_referral ON customers(referral_payload)
        WHERE referral_payload IS NOT NULL;

    CREATE TABLE referrals (
        friend_id INTEGER PRIMARY KEY REFERENCES customers(id),
        referrer_id INTEGER NOT NULL REFERENCES customers(id) CHECK (referrer_id != friend_id),
        source TEXT NOT NULL CHECK (source IN ('link', 'card')),
        status TEXT NOT NULL DEFAULT 'joined'
            CHECK (status IN ('joined', 'qualified', 'capped', 'rejected', 'reversed')),
        reason TEXT NOT NULL DEFAULT '',
        purchase_entry_id INTEGER REFERENCES ledger(id),
        created_at TEXT NOT NULL,
        decided_at TEXT
    ) STRICT;
    CREATE INDEX referrals_referrer ON referrals(referrer_id, created_at);
    CREATE INDEX referrals_purchase ON referrals(purchase_entry_id)
        WHERE purchase_entry_id IS NOT NULL;

    -- A forgotten customer keeps only a salted hash of their Telegram id, so coming back
    -- after "forget me" opens a new card without a second welcome or referral bonus.
    ALTER TABLE customers ADD COLUMN former_key TEXT;
    CREATE INDEX customers_former ON customers(former_key) WHERE former_key IS NOT NULL;
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
    """,
    # 5: promotions: broadcasts and their outbox, one row per recipient.
    """
    ALTER TABLE customers ADD COLUMN unreachable_at TEXT;

    CREATE TABLE broadcasts (
        id INTEGER PRIMARY KEY,
        created_by INTEGER NOT NULL,
        text TEXT NOT NULL,
        photo_file_id TEXT,
        button_text TEXT,
        button_url TEXT,
        audience TEXT NOT NULL,
        holdout_percent INTEGER NOT NULL DEFAULT 0 CHECK (holdout_percent BETWEEN 0 AND 50),
        status TEXT NOT NULL DEFAULT 'scheduled'
            CHECK (status IN ('scheduled', 'sending', 'done', 'cancelled')),
        send_at TEXT NOT NULL,
        progress_chat_id INTEGER,
        progress_message_id INTEGER,
        created_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT
    ) STRICT;

    CREATE TABLE outbox (
        broadcast_id INTEGER NOT NULL REFERENCES broadcasts(id),
        customer_id INTEGER NOT NULL REFERENCES customers(id),
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'sending', 'sent', 'blocked', 'failed', 'holdout',
                              'skipped', 'unknown')),
        error TEXT NOT NULL DEFAULT '',
        sent_at TEXT,
        PRIMARY KEY (broadcast_id, customer_id)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX outbox_pending ON outbox(broadcast_id, status);
    """,
    # 6: offers: coupons granted to an audience (or held out), and each use at the till.
    """
    CREATE TABLE offers (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('percent', 'discount', 'points', 'multiplier', 'item')),
        value INTEGER NOT NULL CHECK (value >= 0),
        valid_from TEXT NOT NULL,
        valid_until TEXT NOT NULL,
        per_customer INTEGER NOT NULL CHECK (per_customer >= 1),
        holdout_percent INTEGER NOT NULL DEFAULT 0,
        created_by INTEGER,
        created_at TEXT NOT NULL
    ) STRICT;

    CREATE TABLE offer_grants (
        offer_id INTEGER NOT NULL REFERENCES offers(id),
        customer_id INTEGER NOT NULL REFERENCES customers(id),
        status TEXT NOT NULL CHECK (status IN ('granted', 'holdout')),
        created_at TEXT NOT NULL,
        PRIMARY KEY (offer_id, customer_id)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX offer_grants_customer ON offer_grants(customer_id, status);

    CREATE TABLE offer_uses (
        id INTEGER PRIMARY KEY,
        offer_id INTEGER NOT NULL REFERENCES offers(id),
        customer_id INTEGER NOT NULL REFERENCES customers(id),
        operation_id TEXT NOT NULL UNIQUE,
        operator_id INTEGER,
        created_at TEXT NOT NULL
    ) STRICT;
    CREATE INDEX offer_uses_offer ON offer_uses(offer_id, customer_id);

    ALTER TABLE pending_operations ADD COLUMN offer_id INTEGER;
    """,
    # 7: insights read the ledger by time for every customer at once.
    """
    -- Covering: a period's figures and charts read only this index, never the table.
    CREATE INDEX ledger_time ON ledger(created_at, kind, customer_id, amount, bill_minor,
        operator_id);
    CREATE INDEX outbox_sent ON outbox(sent_at) WHERE status = 'sent';
    """,
    # 8: phone numbers in E.164 (bot.phones); those phonenumbers cannot read stay as they were.
    """
    UPDATE customers SET phone = phone_e164(phone)
        WHERE phone IS NOT NULL AND phone_e164(phone) IS NOT phone;
    """,
    # 9: a donation is the customer's own act and names no operator; it named their Telegram
    # id, which then outlived "forget me" (the ledger's one sanctioned rewrite).
    """
    DROP TRIGGER ledger_no_update;
    UPDATE ledger SET operator_id = NULL WHERE kind = 'donation';
    CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
    BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
    UPDATE pending_operations SET operator_id = 0 WHERE kind = 'donation';
    """,
    # Where each new customer joined from (a poster's source tag), kept apart from
    # `customers` so registration stays one concern; and the shop's single look (palette,
    # logo as normalised PNG).
    """
    CREATE TABLE join_sources (
        customer_id INTEGER PRIMARY KEY REFERENCES customers(id),
        source TEXT NOT NULL CHECK (length(source) BETWEEN 1 AND 24),
        created_at TEXT NOT NULL
    ) STRICT;

    CREATE TABLE branding (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        palette TEXT,
        logo BLOB,
        logo_digest TEXT,
        updated_at TEXT NOT NULL,
        CHECK ((logo IS NULL) = (logo_digest IS NULL))
    ) STRICT;
    """,
    # Cards brought over from plastic: the old card's number, and the card an unclaimed
    # imported card absorbed when its owner joined (the joining card is retired into it).
    """
    ALTER TABLE customers ADD COLUMN legacy_number TEXT;
    ALTER TABLE customers ADD COLUMN merged_into INTEGER REFERENCES customers(id);
    CREATE UNIQUE INDEX customers_legacy ON customers(legacy_number)
        WHERE legacy_number IS NOT NULL AND forgotten_at IS NULL;
    CREATE INDEX customers_unclaimed ON customers(phone)
        WHERE telegram_id IS NULL AND forgotten_at IS NULL AND phone IS NOT NULL;
    """,
    # The program's versions: the rules live in the database, each change a new row.
    """
    CREATE TABLE program_versions (
        number INTEGER PRIMARY KEY CHECK (number > 0),
        document TEXT NOT NULL CHECK (json_valid(document)),
        author_id INTEGER,
        origin TEXT NOT NULL,
        created_at TEXT NOT NULL
    ) STRICT;
    CREATE TRIGGER program_versions_no_update BEFORE UPDATE ON program_versions
    BEGIN SELECT RAISE(ABORT, 'program versions are append-only'); END;
    CREATE TRIGGER program_versions_no_delete BEFORE DELETE ON program_versions
    BEGIN SELECT RAISE(ABORT, 'program versions are append-only'); END;
    """,
]
