-- Standard address database (标准地名地址库). Self-contained: needs only PostGIS.
-- Address elements after GB/T 35639 / GA/T 2000.32; coordinates CGCS2000 (EPSG:4490).
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE IF NOT EXISTS addresses (
    -- stable standard address code: division code (9 or 12 digits) + 12-digit serial
    code        text PRIMARY KEY CHECK (code ~ '^[0-9]{21}([0-9]{3})?$'),
    -- deepest division: township (9 digits) or village/community (12 digits)
    division    text NOT NULL CHECK (division ~ '^([0-9]{9}|[0-9]{12})$'),
    road        text,
    -- house number text: 12号, 12-3号, 45弄6号
    number      text,
    compound    text,
    building    text,
    geom        geometry(Point, 4490) NOT NULL,
    status      text NOT NULL DEFAULT 'current' CHECK (status IN ('current', 'retired')),
    successor   text,
    aliases     text[] NOT NULL DEFAULT '{}',
    synthetic   boolean NOT NULL DEFAULT false,
    imported_at timestamptz NOT NULL DEFAULT now(),
    CHECK (status = 'retired' OR successor IS NULL)
);
CREATE INDEX IF NOT EXISTS addresses_geom_idx ON addresses USING gist (geom);
CREATE INDEX IF NOT EXISTS addresses_division_idx ON addresses (division);
CREATE INDEX IF NOT EXISTS addresses_road_idx ON addresses (road);
