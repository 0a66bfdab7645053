-- Products, price books per currency, opportunity lines, quotes and orders (issue 4, C1).
-- Quantities, prices, discounts and totals are exact decimal text like every amount.

CREATE TABLE products (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    external_id TEXT,
    -- The article number (SKU) people and files use.
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    -- The product line revenue is reported by (A1: revenue growth by product line).
    family TEXT NOT NULL,
    -- What one unit is: 'seat/year', 'day', 'piece', ...
    unit TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX products_external_id ON products(external_id);

CREATE TABLE price_books (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    currency TEXT NOT NULL REFERENCES currencies(code),
    active BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (name, currency)
);

CREATE TABLE price_book_entries (
    price_book_id BIGINT NOT NULL REFERENCES price_books(id),
    product_id BIGINT NOT NULL REFERENCES products(id),
    unit_price TEXT NOT NULL,
    PRIMARY KEY (price_book_id, product_id)
);

-- The products of an opportunity. When an opportunity has lines, its amount is their sum.
CREATE TABLE opportunity_lines (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    opportunity_id BIGINT NOT NULL REFERENCES opportunities(id),
    position BIGINT NOT NULL,
    product_id BIGINT NOT NULL REFERENCES products(id),
    quantity TEXT NOT NULL,
    -- In the opportunity's currency; from its price book unless typed.
    unit_price TEXT NOT NULL,
    discount_percent TEXT NOT NULL,
    total TEXT NOT NULL
);
CREATE INDEX opportunity_lines_opportunity ON opportunity_lines(opportunity_id, position);
CREATE INDEX opportunity_lines_product ON opportunity_lines(product_id);

-- A proposal sent to the customer: a frozen copy of the lines at the time it was made.
CREATE TABLE quotes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    external_id TEXT,
    number TEXT NOT NULL UNIQUE,
    opportunity_id BIGINT NOT NULL REFERENCES opportunities(id),
    owner_id BIGINT NOT NULL REFERENCES users(id),
    -- draft, sent, accepted, rejected, withdrawn
    status TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL REFERENCES currencies(code),
    -- JSON array of {product_id, code, name, quantity, unit_price, discount_percent, total}.
    lines_json TEXT NOT NULL,
    valid_until TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    answered_at BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX quotes_external_id ON quotes(external_id);
CREATE INDEX quotes_opportunity ON quotes(opportunity_id);
CREATE INDEX quotes_owner ON quotes(owner_id, created_at);
CREATE INDEX quotes_sent ON quotes(sent_at);

-- What a won opportunity turns into: delivered/installed, or cancelled (before installation:
-- "pre-installed churn").
CREATE TABLE orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    external_id TEXT,
    number TEXT NOT NULL UNIQUE,
    opportunity_id BIGINT NOT NULL REFERENCES opportunities(id),
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    owner_id BIGINT NOT NULL REFERENCES users(id),
    quote_id BIGINT REFERENCES quotes(id),
    amount TEXT NOT NULL,
    currency TEXT NOT NULL REFERENCES currencies(code),
    ordered_on TEXT NOT NULL,
    -- pending, scheduled, installed
    installation_status TEXT NOT NULL,
    -- Planned date while scheduled, the actual one once installed.
    installation_date TEXT,
    -- Installation visits that did not finish the job (first time right = 0).
    failed_installations BIGINT NOT NULL,
    cancelled_at BIGINT,
    cancel_reason TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX orders_external_id ON orders(external_id);
CREATE UNIQUE INDEX orders_opportunity ON orders(opportunity_id);
CREATE INDEX orders_owner ON orders(owner_id, ordered_on);
CREATE INDEX orders_ordered_on ON orders(ordered_on);

-- Every step of an order: created, scheduled, installed, installation_failed, cancelled.
CREATE TABLE order_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id BIGINT NOT NULL REFERENCES orders(id),
    kind TEXT NOT NULL,
    at BIGINT NOT NULL,
    -- The date the event is about (planned or actual installation day).
    on_date TEXT,
    note TEXT NOT NULL,
    actor_user_id BIGINT REFERENCES users(id)
);
CREATE INDEX order_events_order ON order_events(order_id, at);
